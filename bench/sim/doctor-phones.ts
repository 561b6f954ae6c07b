/**
 * The simulated doctors as the dispatcher meets them: phones that receive offers (this is the dispatcher's
 * {@link OfferChannel}), answer after a short random delay — accepting, or sometimes declining — drive to the patient,
 * report arrival, the start and the end of the visit, and send GPS fixes to the engine all along.
 *
 * Driving follows the straight line at the traffic field's speed divided by the ETA module's detour factor, so the
 * drive takes what the dispatcher's ETA predicted, give or take the trip's own noise (a per-trip factor) and the traffic
 * changing on the way. After a visit the doctor waits where the patient was.
 */
import { DEFAULT_DETOUR_FACTOR, DEFAULT_MIN_SPEED_KMH } from '../../geo/eta.ts';
import { haversineKm } from '../../geo/distance.ts';
import { TotError } from '../../geo/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { Actor, DispatchService, Offer } from '../../dispatch/booking-types.ts';
import type { DoctorChannel } from '../../dispatch/dispatch-context.ts';
import { PairRandom, type Scenario } from './scenario.ts';
import type { Timeline } from './timeline.ts';

/** GPS fixes of a driving doctor, ms apart. */
const DRIVING_FIX_MS = 5_000;
/** Fixes of a waiting or visiting doctor, ms apart: below the fleet's 60 s offline timeout. */
const RESTING_FIX_MS = 30_000;
/**
 * How long a doctor takes to answer an offer, ms: most answer within the range `prompt`, a share `lateShare` only
 * within `late` (the phone in a pocket, hands busy) — under the dispatcher's default timeouts (20 s, emergencies
 * 10 s) part of those lapse. Emergencies are answered faster.
 */
const ANSWER_MS = {
  emergency: { prompt: [2_000, 8_000], late: [8_000, 20_000] },
  routine: { prompt: [3_000, 15_000], late: [15_000, 45_000] },
} as const;
const LATE_ANSWER_SHARE = 0.1;
/** A trip takes the ETA's time multiplied by a factor in this range (driving style, parking, lifts). */
const TRIP_FACTOR: readonly [number, number] = [0.9, 1.2];

/** What the simulation's timeline holds for the doctors. */
export type PhoneDue =
  | { kind: 'answer'; doctor: number; bookingId: string; generation: number }
  | { kind: 'arrive'; doctor: number; bookingId: string; generation: number }
  | { kind: 'complete'; doctor: number; bookingId: string; generation: number };

/** What the phones saw, for the report. */
export interface PhoneCounters {
  offers: number;
  accepted: number;
  declined: number;
  /** Offers withdrawn before the doctor answered (cancelled, preempted, lapsed). */
  withdrawnOffers: number;
  /** Visits taken away from the doctor after accepting (cancelled or preempted). */
  withdrawnVisits: number;
  /** Emergencies given to the doctor without an offer (preemption). */
  assignedWithoutOffer: number;
  /** Dispatcher calls refused with a TotError, by code (e.g. an accept after the offer lapsed). */
  refused: Record<string, number>;
  /** Fixes applied to the engine. */
  fixes: number;
}

interface PendingOffer {
  bookingId: string;
  bookingIndex: number;
  accept: boolean;
  tripFactor: number;
  generation: number;
}

interface DoctorState {
  id: string;
  lat: number;
  lng: number;
  phase: 'idle' | 'driving' | 'on_site';
  /** The booking the doctor accepted and works on. */
  bookingId: string | undefined;
  bookingIndex: number;
  destinationLat: number;
  destinationLng: number;
  /** Ground speed along the straight line, m/s; set at every fix while driving. */
  speedMps: number;
  tripFactor: number;
  offer: PendingOffer | undefined;
  /** Bumped whenever an offer ends, so that an answer scheduled for it is dropped. */
  offerGeneration: number;
  /** Bumped whenever a visit starts or ends, so that an arrival or a visit end scheduled for it is dropped. */
  visitGeneration: number;
  nextFixAt: number;
  lastFixAt: number;
  seq: number;
}

/** The doctors of a scenario and their phones. */
export class DoctorPhones implements DoctorChannel {
  /** The counters of {@link PhoneCounters}. */
  readonly counters: PhoneCounters = {
    offers: 0,
    accepted: 0,
    declined: 0,
    withdrawnOffers: 0,
    withdrawnVisits: 0,
    assignedWithoutOffer: 0,
    refused: {},
    fixes: 0,
  };
  private readonly doctors: DoctorState[];
  private readonly indexOfDoctor = new Map<string, number>();
  private readonly indexOfAddress = new Map<string, number>();
  private dispatch: DispatchService | undefined;

  /**
   * @param clock - the simulated time now.
   * @param timeline - where answers, arrivals and visit ends are scheduled.
   */
  constructor(
    private readonly scenario: Scenario,
    private readonly engine: Engine,
    private readonly timeline: Timeline<PhoneDue | unknown>,
    private readonly clock: () => number,
  ) {
    const spread = RESTING_FIX_MS / Math.max(1, scenario.doctors.length);
    this.doctors = scenario.doctors.map((doctor, index) => {
      this.indexOfDoctor.set(doctor.doctorId, index);
      return {
        id: doctor.doctorId,
        lat: doctor.lat,
        lng: doctor.lng,
        phase: 'idle',
        bookingId: undefined,
        bookingIndex: -1,
        destinationLat: doctor.lat,
        destinationLng: doctor.lng,
        speedMps: 0,
        tripFactor: 1,
        offer: undefined,
        offerGeneration: 0,
        visitGeneration: 0,
        // Spread the heartbeats so the fleet does not see every phone in the same second.
        nextFixAt: scenario.startAt + Math.floor(index * spread),
        seq: 0,
        lastFixAt: -Infinity,
      };
    });
    for (const booking of scenario.bookings) this.indexOfAddress.set(booking.request.address, booking.index);
  }

  /** Connects the dispatcher the phones answer (it is built with the phones as its offer channel). */
  connect(dispatch: DispatchService): void {
    this.dispatch = dispatch;
  }

  /** Registers every doctor with the fleet and sends their first fix, at `now`. */
  register(now: number): void {
    for (const [index, doctor] of this.scenario.doctors.entries()) {
      this.engine.fleet.register(
        {
          id: doctor.doctorId,
          specializations: doctor.specializations,
          clinicId: doctor.clinicId,
          rating: doctor.rating,
        },
        now,
      );
      this.sendFix(this.doctors[index] as DoctorState, now);
    }
  }

  /** {@link OfferChannel.offer}: the phone rings; the doctor answers after a delay drawn for this doctor and booking. */
  offer(doctorId: string, offer: Offer): boolean {
    const doctor = this.doctorOf(doctorId);
    const bookingIndex = this.indexOfAddress.get(offer.address) ?? -1;
    const random = this.pairRandom(bookingIndex, doctorId);
    const answer = offer.emergency ? ANSWER_MS.emergency : ANSWER_MS.routine;
    const [min, max] = random.next() < LATE_ANSWER_SHARE ? answer.late : answer.prompt;
    const delay = Math.round(random.between(min, max));
    const accept = random.next() >= this.scenario.options.declineShare;
    const tripFactor = random.between(TRIP_FACTOR[0], TRIP_FACTOR[1]);
    if (doctor.offer) this.counters.withdrawnOffers++;
    doctor.offerGeneration++;
    doctor.offer = {
      bookingId: offer.bookingId,
      bookingIndex,
      accept,
      tripFactor,
      generation: doctor.offerGeneration,
    };
    this.counters.offers++;
    this.timeline.schedule(this.clock() + delay, {
      kind: 'answer',
      doctor: this.indexOfDoctor.get(doctorId) as number,
      bookingId: offer.bookingId,
      generation: doctor.offerGeneration,
    } satisfies PhoneDue);
    return true;
  }

  /** {@link OfferChannel.withdraw}: an offer or a visit no longer stands; a driving doctor stops where they are. */
  withdraw(doctorId: string, bookingId: string): void {
    const doctor = this.doctorOf(doctorId);
    if (doctor.offer?.bookingId === bookingId) {
      doctor.offer = undefined;
      doctor.offerGeneration++;
      this.counters.withdrawnOffers++;
    }
    if (doctor.bookingId === bookingId) {
      this.endVisit(doctor);
      this.counters.withdrawnVisits++;
    }
  }

  /**
   * {@link DoctorChannel.assigned}: an emergency took the doctor without an offer (preemption); the doctor, told to
   * drop the other visit just before, drives to the emergency at once.
   */
  assigned(doctorId: string, assignment: Offer): void {
    const doctor = this.doctorOf(doctorId);
    const bookingIndex = this.indexOfAddress.get(assignment.address) ?? -1;
    const random = this.pairRandom(bookingIndex, doctorId);
    this.counters.assignedWithoutOffer++;
    const tripFactor = random.between(TRIP_FACTOR[0], TRIP_FACTOR[1]);
    this.startTrip(doctor, assignment.bookingId, assignment, bookingIndex, tripFactor, this.clock());
  }

  /** Whether an item of the timeline belongs to the phones. */
  static owns(item: unknown): item is PhoneDue {
    const kind = (item as { kind?: unknown }).kind;
    return kind === 'answer' || kind === 'arrive' || kind === 'complete';
  }

  /** Carries out an answer, an arrival or the end of a visit due at `now`; items made stale meanwhile are dropped. */
  async handle(item: PhoneDue, now: number): Promise<void> {
    const doctor = this.doctors[item.doctor] as DoctorState;
    const generation = item.kind === 'answer' ? doctor.offerGeneration : doctor.visitGeneration;
    if (item.generation !== generation) return;
    const dispatch = this.connected();
    const by: Actor = { id: doctor.id, role: 'doctor' };
    if (item.kind === 'answer') {
      const offer = doctor.offer;
      if (offer?.bookingId !== item.bookingId) return;
      doctor.offer = undefined;
      doctor.offerGeneration++;
      if (!offer.accept) {
        this.counters.declined++;
        await this.refusable(() => dispatch.decline(offer.bookingId, doctor.id, by, 'busy'));
        return;
      }
      const booking = await this.refusable(() => dispatch.accept(offer.bookingId, doctor.id, by));
      if (booking === undefined) return;
      this.counters.accepted++;
      this.startTrip(doctor, booking.id, booking, offer.bookingIndex, offer.tripFactor, now);
      return;
    }
    if (item.kind === 'arrive') {
      if (doctor.bookingId !== item.bookingId) return;
      doctor.lat = doctor.destinationLat;
      doctor.lng = doctor.destinationLng;
      doctor.phase = 'on_site';
      doctor.speedMps = 0;
      this.sendFix(doctor, now);
      const arrived = await this.refusable(() => dispatch.arrived(item.bookingId, doctor.id, by));
      if (arrived === undefined) return this.endVisit(doctor);
      const started = await this.refusable(() => dispatch.start(item.bookingId, doctor.id, by));
      if (started === undefined) return this.endVisit(doctor);
      const visitMs = this.scenario.bookings[doctor.bookingIndex]?.visitMs ?? 30 * 60_000;
      this.timeline.schedule(now + visitMs, {
        kind: 'complete',
        doctor: item.doctor,
        bookingId: item.bookingId,
        generation: doctor.visitGeneration,
      } satisfies PhoneDue);
      return;
    }
    if (doctor.bookingId !== item.bookingId) return;
    this.endVisit(doctor);
    await this.refusable(() => dispatch.complete(item.bookingId, doctor.id, by));
  }

  /**
   * Moves every driving doctor from `from` to `to` (simulated ms) and schedules the arrivals that fall within, at their
   * exact time; then sends the fixes due by `to`.
   */
  advance(from: number, to: number): void {
    const seconds = (to - from) / 1000;
    for (const [index, doctor] of this.doctors.entries()) {
      if (doctor.phase === 'driving' && doctor.speedMps > 0) {
        const remaining =
          1000 * haversineKm(doctor.lat, doctor.lng, doctor.destinationLat, doctor.destinationLng);
        const step = doctor.speedMps * seconds;
        if (step >= remaining) {
          const arriveAt = from + Math.round((1000 * remaining) / doctor.speedMps);
          doctor.lat = doctor.destinationLat;
          doctor.lng = doctor.destinationLng;
          doctor.speedMps = 0;
          this.timeline.schedule(Math.min(to, arriveAt), {
            kind: 'arrive',
            doctor: index,
            bookingId: doctor.bookingId as string,
            generation: doctor.visitGeneration,
          } satisfies PhoneDue);
        } else {
          const share = step / remaining;
          doctor.lat += (doctor.destinationLat - doctor.lat) * share;
          doctor.lng += (doctor.destinationLng - doctor.lng) * share;
        }
      }
      if (doctor.nextFixAt <= to) this.sendFix(doctor, to);
    }
  }

  /** How many doctors are in each phase now. */
  phases(): Record<DoctorState['phase'], number> {
    const counts = { idle: 0, driving: 0, on_site: 0 };
    for (const doctor of this.doctors) counts[doctor.phase]++;
    return counts;
  }

  private startTrip(
    doctor: DoctorState,
    bookingId: string,
    destination: { lat: number; lng: number },
    bookingIndex: number,
    tripFactor: number,
    now: number,
  ): void {
    doctor.phase = 'driving';
    doctor.bookingId = bookingId;
    doctor.bookingIndex = bookingIndex;
    doctor.destinationLat = destination.lat;
    doctor.destinationLng = destination.lng;
    doctor.tripFactor = tripFactor;
    doctor.visitGeneration++;
    this.sendFix(doctor, now);
  }

  private endVisit(doctor: DoctorState): void {
    doctor.phase = 'idle';
    doctor.bookingId = undefined;
    doctor.bookingIndex = -1;
    doctor.speedMps = 0;
    doctor.visitGeneration++;
  }

  /** Sends a fix at `now` and, while driving, sets the speed until the next one from the traffic where the doctor is. */
  private sendFix(doctor: DoctorState, now: number): void {
    if (doctor.phase === 'driving') {
      const point = { lat: doctor.lat, lng: doctor.lng };
      const kmh = Math.max(DEFAULT_MIN_SPEED_KMH, this.engine.traffic.speedAt(point, now));
      doctor.speedMps = kmh / 3.6 / DEFAULT_DETOUR_FACTOR / doctor.tripFactor;
    }
    doctor.seq++;
    // Events of a step are handled at their own time after the step's fixes went out at its end; a fix never goes back.
    const ts = Math.max(now, doctor.lastFixAt);
    doctor.lastFixAt = ts;
    this.engine.applyFix(
      {
        doctorId: doctor.id,
        lat: doctor.lat,
        lng: doctor.lng,
        ts,
        accuracy: 10,
        speed: doctor.phase === 'driving' ? doctor.speedMps * DEFAULT_DETOUR_FACTOR : 0,
        seq: doctor.seq,
      },
      now,
    );
    this.counters.fixes++;
    doctor.nextFixAt = ts + (doctor.phase === 'driving' ? DRIVING_FIX_MS : RESTING_FIX_MS);
  }

  /** Runs a dispatcher call; a TotError (the booking moved on meanwhile) is counted and gives undefined. */
  private async refusable<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof TotError)) throw error;
      this.counters.refused[error.code] = (this.counters.refused[error.code] ?? 0) + 1;
      return undefined;
    }
  }

  private pairRandom(bookingIndex: number, doctorId: string): PairRandom {
    return new PairRandom(this.scenario.options.seed, bookingIndex, this.indexOfDoctor.get(doctorId) ?? -1);
  }

  private doctorOf(doctorId: string): DoctorState {
    const index = this.indexOfDoctor.get(doctorId);
    if (index === undefined)
      throw new Error(`the dispatcher addressed an unknown doctor ${JSON.stringify(doctorId)}`);
    return this.doctors[index] as DoctorState;
  }

  private connected(): DispatchService {
    if (!this.dispatch) throw new Error('DoctorPhones.connect(dispatch) was not called');
    return this.dispatch;
  }
}
