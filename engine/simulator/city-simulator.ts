/**
 * The city simulator: doctors wandering while idle and detectors reporting traffic in a box-shaped city, all drawn
 * from one seed. Visits are not simulated here: the dispatcher makes them, and whoever serves a visit (the simulated
 * phones of dispatch/simulation/) holds its doctor meanwhile (`hold`, `release`). A pure stepper — `step(now)` reports what happened since the previous call — so the embedded default
 * can drive it from a timer (driver.ts) and benchmarks can drive it as fast as they like.
 */
import { MOSCOW_WEEKDAY_FREE_FLOW_KMH } from '../../geo/traffic-field.ts';
import { assertTime, TotError } from '../../geo/errors.ts';
import { City } from './city.ts';
import { resolveSimulatorConfig, type SimulatorConfig, type SimulatorOptions } from './config.ts';
import { SimulatedDetectors, type DetectorSite } from './detectors.ts';
import { SimulatedDoctors, type DoctorStart } from './doctors.ts';
import { Random } from './random.ts';
import type { SimClinic, SimDetector, SimDoctor, SimHandedDoctor, SimHotSpot, SimStep } from './types.ts';

/** Specializations a simulated doctor may have, with the weights of a home-visit service (therapists dominate). */
export const SPECIALIZATIONS = [
  'therapist',
  'pediatrician',
  'cardiologist',
  'neurologist',
  'surgeon',
  'dermatologist',
  'ent',
  'ophthalmologist',
] as const;
const SPECIALIZATION_WEIGHTS = [35, 20, 10, 10, 7, 6, 6, 6];

// Families of the set-up streams; per-entity streams use their own (doctors.ts, detectors.ts).
const CLINIC_STREAM = 1;
const HOT_SPOT_STREAM = 2;
const DOCTOR_STREAM = 3;
const DETECTOR_STREAM = 4;
/** Spread of doctors' starting places around their clinic, metres (each axis, roughly a standard deviation). */
const CLINIC_SPREAD_M = 3000;

/** A deterministic simulated city; see the module comment. */
export class CitySimulator {
  /** The options with defaults filled in. */
  readonly config: SimulatorConfig;
  private readonly city: City;
  private readonly clinicList: SimClinic[];
  private readonly profiles: { specializations: string[]; clinicId: string; rating: number }[];
  private readonly doctorState: SimulatedDoctors;
  private readonly detectorState: SimulatedDetectors;
  private readonly indexOfDoctor = new Map<string, number>();
  private lastNow: number | undefined;

  /** @throws TotError `GEO_INVALID_ARGUMENT` naming the first bad option (see resolveSimulatorConfig). */
  constructor(options: SimulatorOptions = {}) {
    const config = resolveSimulatorConfig(options);
    this.config = config;
    const { box } = config;

    // Hot spots and clinics stay in the inner part of the box, where a real city is densest.
    const inner = (random: Random): { lat: number; lng: number } => ({
      lat: random.between(
        box.minLat + 0.2 * (box.maxLat - box.minLat),
        box.maxLat - 0.2 * (box.maxLat - box.minLat),
      ),
      lng: random.between(
        box.minLng + 0.2 * (box.maxLng - box.minLng),
        box.maxLng - 0.2 * (box.maxLng - box.minLng),
      ),
    });
    const spotRandom = new Random(config.seed, HOT_SPOT_STREAM);
    const hotSpots: SimHotSpot[] = [];
    for (let i = 0; i < config.hotSpots; i += 1) {
      hotSpots.push({
        ...inner(spotRandom),
        radiusM: spotRandom.between(800, 2500),
        severity: spotRandom.between(0.35, 0.65),
      });
    }
    this.city = new City(box, hotSpots, config.utcOffsetHours);

    const clinicRandom = new Random(config.seed, CLINIC_STREAM);
    this.clinicList = [];
    for (let i = 0; i < config.clinics; i += 1) {
      this.clinicList.push({ clinicId: `clinic-${String(i + 1).padStart(2, '0')}`, ...inner(clinicRandom) });
    }

    const doctorRandom = new Random(config.seed, DOCTOR_STREAM);
    const ids: string[] = [];
    const starts: DoctorStart[] = [];
    this.profiles = [];
    for (let i = 0; i < config.doctors; i += 1) {
      const clinic = doctorRandom.pick(this.clinicList);
      const primary = doctorRandom.pick(SPECIALIZATIONS, SPECIALIZATION_WEIGHTS);
      const specializations: string[] = [primary];
      if (doctorRandom.next() < 0.2) {
        const second = doctorRandom.pick(SPECIALIZATIONS);
        if (second !== primary) specializations.push(second);
      }
      // Skewed towards the top, as ratings on booking platforms are.
      const rating = Math.round((3.5 + 1.5 * Math.sqrt(doctorRandom.next())) * 10) / 10;
      ids.push(`doc-${String(i + 1).padStart(6, '0')}`);
      this.profiles.push({ specializations, clinicId: clinic.clinicId, rating });
      // Sum of three uniforms: a cheap bell around the clinic.
      const spread = (): number =>
        (doctorRandom.next() + doctorRandom.next() + doctorRandom.next() - 1.5) * 2 * CLINIC_SPREAD_M;
      starts.push({
        x: this.city.xOf(clinic.lng) + spread(),
        y: this.city.yOf(clinic.lat) + spread(),
        onDuty: doctorRandom.next() < config.onDutyShare,
      });
    }
    this.doctorState = new SimulatedDoctors(config, this.city, ids, starts);
    ids.forEach((id, index) => this.indexOfDoctor.set(id, index));

    const detectorRandom = new Random(config.seed, DETECTOR_STREAM);
    const sites: DetectorSite[] = [];
    for (let i = 0; i < config.detectors; i += 1) {
      sites.push({
        detectorId: `det-${String(i + 1).padStart(4, '0')}`,
        x: detectorRandom.between(0, this.city.widthM),
        y: detectorRandom.between(0, this.city.heightM),
        roadFactor: detectorRandom.between(0.8, 1.4),
        lanes: detectorRandom.integer(1, 4),
      });
    }
    this.detectorState = new SimulatedDetectors(
      config,
      this.city,
      sites,
      Math.max(...MOSCOW_WEEKDAY_FREE_FLOW_KMH),
    );
  }

  /** Time of the latest step, or `undefined` before the first. */
  get now(): number | undefined {
    return this.lastNow;
  }

  /**
   * The roster as of the latest step (at construction: the initial roster): ids `doc-000001`…, specializations,
   * clinic, rating, true position, duty and whether the doctor is held.
   */
  doctors(): SimDoctor[] {
    const state = this.doctorState;
    return this.profiles.map((profile, i) => ({
      doctorId: state.ids[i] as string,
      specializations: [...profile.specializations],
      clinicId: profile.clinicId,
      rating: profile.rating,
      lat: state.lat(i),
      lng: state.lng(i),
      onDuty: state.onDuty(i),
      held: state.held(i),
    }));
  }

  /** Whether `doctorId` is one of the simulated doctors. */
  has(doctorId: string): boolean {
    return this.indexOfDoctor.has(doctorId);
  }

  /**
   * Takes a doctor over (an offer rang, a visit began): until {@link release} the simulator neither moves them nor sends
   * their fixes, and they do not go off duty. Returns where the doctor is as of the latest step and their last fix.
   * Holding a held doctor changes nothing.
   *
   * @throws TotError `GEO_INVALID_ARGUMENT` when `doctorId` is not a simulated doctor.
   */
  hold(doctorId: string): SimHandedDoctor {
    return this.doctorState.hold(this.indexOf(doctorId), this.lastNow ?? 0);
  }

  /**
   * Hands a held doctor back at `handed`'s position, after the last fix the holder sent (the simulator's next fix is
   * newer); the doctor parks there a while, then wanders on. Releasing a doctor that is not held changes nothing.
   *
   * @throws TotError `GEO_INVALID_ARGUMENT` when `doctorId` is not a simulated doctor.
   */
  release(doctorId: string, handed: SimHandedDoctor): void {
    const at = Math.max(this.lastNow ?? 0, Number.isFinite(handed.lastFixAt) ? handed.lastFixAt : 0);
    this.doctorState.release(this.indexOf(doctorId), at, handed);
  }

  /** The clinics (`clinic-01`…) the doctors belong to. */
  clinics(): SimClinic[] {
    return this.clinicList.map((clinic) => ({ ...clinic }));
  }

  /** The detectors (`det-0001`…) and their fixed positions. */
  detectors(): SimDetector[] {
    return this.detectorState.sites.map((site) => ({
      detectorId: site.detectorId,
      lat: this.city.latOf(site.y),
      lng: this.city.lngOf(site.x),
    }));
  }

  /** The congestion hot spots. */
  hotSpots(): SimHotSpot[] {
    return this.city.hotSpots.map((spot) => ({ ...spot }));
  }

  /**
   * Advances the city to `now` (simulated ms since the epoch) and reports everything in (previous now, now]; the first
   * call starts the clock and reports what is due at `now` itself. Cost is linear in doctors + detectors plus the
   * number of emitted records.
   *
   * @throws TotError `GEO_INVALID_ARGUMENT` when `now` is not a finite number or is earlier than the previous call's.
   */
  step(now: number): SimStep {
    assertTime(now);
    const out: SimStep = { fixes: [], readings: [], duty: [] };
    let from = this.lastNow;
    if (from === undefined) {
      // Integer start keeps every scheduled time, and so every ts, an integer.
      from = Math.floor(now);
      this.doctorState.start(from);
      this.detectorState.start(from);
    } else if (now < from) {
      throw new TotError(
        'GEO_INVALID_ARGUMENT',
        `now must not go back: ${now} is before the previous step ${from}`,
        {
          field: 'now',
          value: now,
          previous: from,
        },
      );
    }
    this.doctorState.advance(from, now, out);
    this.detectorState.advance(now, out);
    this.lastNow = now;
    return out;
  }

  private indexOf(doctorId: string): number {
    const index = this.indexOfDoctor.get(doctorId);
    if (index === undefined) {
      throw new TotError(
        'GEO_INVALID_ARGUMENT',
        `doctorId ${JSON.stringify(doctorId)} is not a simulated doctor`,
        {
          field: 'doctorId',
          value: doctorId,
        },
      );
    }
    return index;
  }
}
