/**
 * The simulated doctors as the dispatcher meets them: phones that receive offers (this is the dispatcher's
 * {@link OfferChannel}), answer after a short random delay — accepting, or sometimes declining — drive to the patient,
 * report arrival, the start and the end of the visit, and send GPS fixes to the engine all along.
 *
 * Driving follows the straight line at the traffic field's speed divided by the ETA module's detour factor, so the
 * drive takes what the dispatcher's ETA predicted, give or take the trip's own noise (a per-trip factor) and the traffic
 * changing on the way. After a visit the doctor waits where the patient was.
 *
 * The phones serve two cities: the offline simulation (bench/sim), where they own their doctors the whole time and
 * send heartbeat fixes while idle, and the running engine's demo city, where the city simulator moves idle doctors
 * and the phones take a doctor over from an offer to the end of the visit ({@link DoctorHandover}).
 */
import { DEFAULT_DETOUR_FACTOR, DEFAULT_MIN_SPEED_KMH } from '../../geo/eta.ts';
import { haversineKm } from '../../geo/distance.ts';
import { TotError } from '../../geo/errors.ts';
import type { Actor, DispatchService, Offer } from '../booking-types.ts';
import type { DoctorChannel } from '../dispatch-context.ts';
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
  | { kind: 'start'; doctor: number; bookingId: string; generation: number }
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
  /** Fixes sent. */
  fixes: number;
}

/** A fix as a phone sends it (the fields of the stream's fix record, engine/stream-schemas.ts). */
export interface PhoneFix {
  doctorId: string;
  lat: number;
  lng: number;
  ts: number;
  accuracy: number;
  /** Ground speed, m/s. */
  speed: number;
  seq: number;
}

/** A stream of numbers in [0, 1), with a range helper. */
export interface UnitRandom {
  next(): number;
  between(min: number, max: number): number;
}

/** What the phones need to know of the city's patients. */
export interface PhoneBehaviour {
  /** The random numbers of doctor `doctorIndex` answering the booking at `address`; called once per offer. */
  answerRandom(address: string, doctorIndex: number): UnitRandom;
  /** Length of the visit at `address` once started, ms. */
  visitMs(address: string): number;
  /** Probability that a doctor declines an offer, in [0, 1]. */
  declineShare: number;
}

/** Where a doctor is and the last fix sent for them, when the phones take the doctor over. */
export interface HandedPosition {
  lat: number;
  lng: number;
  /** The last fix's `ts` and `seq`, so that the phones' fixes follow it. */
  lastFixAt: number;
  seq: number;
}

/**
 * Hands doctors between the phones and whoever moves them the rest of the time (the city simulator). `take` is called
 * when an offer rings or an assignment arrives and returns where the doctor is (or undefined to keep the phones' own
 * idea); `give` when the doctor is free again (declined, withdrawn, visit over), with the phones' last fix.
 */
export interface DoctorHandover {
  take(doctorId: string): HandedPosition | undefined;
  give(doctorId: string, position: HandedPosition): void;
}

/** Options of {@link DoctorPhones}. */
export interface DoctorPhonesOptions {
  /** The doctors and where they start. */
  doctors: readonly { doctorId: string; lat: number; lng: number }[];
  /** The traffic the doctors drive in (read at every fix: pass a getter when the field may be replaced). */
  traffic: () => { speedAt(point: { lat: number; lng: number }, now: number): number };
  /** Where fixes go (the engine directly, or the fixes topic). */
  sendFix: (fix: PhoneFix, now: number) => void;
  /** Where answers, arrivals and visit ends are scheduled. */
  timeline: Timeline<PhoneDue | unknown>;
  /** The simulated time now. */
  clock: () => number;
  behaviour: PhoneBehaviour;
  /**
   * When idle doctors send their first heartbeat fix (they are spread over the following 30 s); omitted: idle doctors
   * send nothing, someone else (the {@link DoctorHandover}) moves them.
   */
  heartbeatsFrom?: number;
  handover?: DoctorHandover;
}

interface PendingOffer {
  bookingId: string;
  address: string;
  accept: boolean;
  tripFactor: number;
  generation: number;
}

interface DoctorState {
  id: string;
  lat: number;
  lng: number;
  phase: 'idle' | 'driving' | 'on_site';
  /** The booking the doctor accepted and works on, and its address. */
  bookingId: string | undefined;
  address: string;
  /** Whether the phones hold the doctor (from an offer to the end of the visit); always with heartbeats. */
  held: boolean;
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

/** The doctors of a city and their phones. */
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
  private readonly timeline: Timeline<PhoneDue | unknown>;
  private readonly clock: () => number;
  private readonly behaviour: PhoneBehaviour;
  private readonly heartbeats: boolean;
  private dispatch: DispatchService | undefined;

  constructor(private readonly options: DoctorPhonesOptions) {
    this.timeline = options.timeline;
    this.clock = options.clock;
    this.behaviour = options.behaviour;
    this.heartbeats = options.heartbeatsFrom !== undefined;
    const startAt = options.heartbeatsFrom ?? 0;
    const spread = RESTING_FIX_MS / Math.max(1, options.doctors.length);
    this.doctors = options.doctors.map((doctor, index) => {
      this.indexOfDoctor.set(doctor.doctorId, index);
      return {
        id: doctor.doctorId,
        lat: doctor.lat,
        lng: doctor.lng,
        phase: 'idle',
        bookingId: undefined,
        address: '',
        held: this.heartbeats,
        destinationLat: doctor.lat,
        destinationLng: doctor.lng,
        speedMps: 0,
        tripFactor: 1,
        offer: undefined,
        offerGeneration: 0,
        visitGeneration: 0,
        // Spread the heartbeats so the fleet does not see every phone in the same second.
        nextFixAt: startAt + Math.floor(index * spread),
        seq: 0,
        lastFixAt: -Infinity,
      };
    });
  }

  /** Whether `doctorId` is one of these phones' doctors. */
  has(doctorId: string): boolean {
    return this.indexOfDoctor.has(doctorId);
  }

  /** Connects the dispatcher the phones answer (it is built with the phones as its offer channel). */
  connect(dispatch: DispatchService): void {
    this.dispatch = dispatch;
  }

  /** Sends every doctor's first fix, at `now` (after the doctors were registered with the fleet). */
  sendFirstFixes(now: number): void {
    for (const doctor of this.doctors) this.sendFix(doctor, now);
  }

  /** {@link OfferChannel.offer}: the phone rings; the doctor answers after a delay drawn for this doctor and booking. */
  offer(doctorId: string, offer: Offer): boolean {
    const doctor = this.doctorOf(doctorId);
    const random = this.answerRandom(offer.address, doctorId);
    const answer = offer.emergency ? ANSWER_MS.emergency : ANSWER_MS.routine;
    const [min, max] = random.next() < LATE_ANSWER_SHARE ? answer.late : answer.prompt;
    const delay = Math.round(random.between(min, max));
    const accept = random.next() >= this.behaviour.declineShare;
    const tripFactor = random.between(TRIP_FACTOR[0], TRIP_FACTOR[1]);
    if (doctor.offer) this.counters.withdrawnOffers++;
    doctor.offerGeneration++;
    doctor.offer = {
      bookingId: offer.bookingId,
      address: offer.address,
      accept,
      tripFactor,
      generation: doctor.offerGeneration,
    };
    this.counters.offers++;
    this.take(doctor);
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
    this.giveIfFree(doctor);
  }

  /**
   * {@link DoctorChannel.assigned}: an emergency took the doctor without an offer (preemption); the doctor, told to
   * drop the other visit just before, drives to the emergency at once.
   */
  assigned(doctorId: string, assignment: Offer): void {
    const doctor = this.doctorOf(doctorId);
    const random = this.answerRandom(assignment.address, doctorId);
    this.counters.assignedWithoutOffer++;
    const tripFactor = random.between(TRIP_FACTOR[0], TRIP_FACTOR[1]);
    this.take(doctor);
    this.startTrip(doctor, assignment.bookingId, assignment, tripFactor, this.clock());
  }

  /**
   * Takes up a visit the dispatcher already holds for one of these doctors (after a restart, the bookings restored from
   * the store): a doctor assigned or en route drives to the patient, a doctor at the patient's finishes the visit after
   * a visit's length from `now`. Other statuses (an offer pending, which lapses and is made again) change nothing.
   * Returns whether the visit was taken up.
   */
  resume(
    booking: { id: string; doctorId?: string; status: string; address: string; lat: number; lng: number },
    now: number,
  ): boolean {
    if (booking.doctorId === undefined || !this.has(booking.doctorId)) return false;
    const doctor = this.doctorOf(booking.doctorId);
    if (doctor.bookingId !== undefined) return false;
    if (booking.status === 'assigned' || booking.status === 'en_route') {
      const random = this.answerRandom(booking.address, doctor.id);
      this.take(doctor);
      this.startTrip(doctor, booking.id, booking, random.between(TRIP_FACTOR[0], TRIP_FACTOR[1]), now);
      return true;
    }
    if (booking.status !== 'arrived' && booking.status !== 'in_progress') return false;
    this.take(doctor);
    doctor.phase = 'on_site';
    doctor.bookingId = booking.id;
    doctor.address = booking.address;
    doctor.lat = booking.lat;
    doctor.lng = booking.lng;
    doctor.speedMps = 0;
    doctor.visitGeneration++;
    this.sendFix(doctor, now);
    this.timeline.schedule(now + this.behaviour.visitMs(booking.address), {
      kind: booking.status === 'arrived' ? 'start' : 'complete',
      doctor: this.indexOfDoctor.get(doctor.id) as number,
      bookingId: booking.id,
      generation: doctor.visitGeneration,
    } satisfies PhoneDue);
    return true;
  }

  /** Whether an item of the timeline belongs to the phones. */
  static owns(item: unknown): item is PhoneDue {
    const kind = (item as { kind?: unknown }).kind;
    return kind === 'answer' || kind === 'arrive' || kind === 'start' || kind === 'complete';
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
        this.giveIfFree(doctor);
        return;
      }
      const booking = await this.refusable(() => dispatch.accept(offer.bookingId, doctor.id, by));
      if (booking === undefined) return this.giveIfFree(doctor);
      this.counters.accepted++;
      this.startTrip(doctor, booking.id, booking, offer.tripFactor, now);
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
      if (arrived === undefined) return this.endVisitAndGive(doctor);
      const started = await this.refusable(() => dispatch.start(item.bookingId, doctor.id, by));
      if (started === undefined) return this.endVisitAndGive(doctor);
      const visitMs = this.behaviour.visitMs(doctor.address);
      this.timeline.schedule(now + visitMs, {
        kind: 'complete',
        doctor: item.doctor,
        bookingId: item.bookingId,
        generation: doctor.visitGeneration,
      } satisfies PhoneDue);
      return;
    }
    if (doctor.bookingId !== item.bookingId) return;
    if (item.kind === 'start') {
      // A visit taken up at the patient's (resume): start it, then it ends like any other.
      const started = await this.refusable(() => dispatch.start(item.bookingId, doctor.id, by));
      if (started === undefined) return this.endVisitAndGive(doctor);
      this.timeline.schedule(now + this.behaviour.visitMs(doctor.address), { ...item, kind: 'complete' });
      return;
    }
    this.endVisit(doctor);
    await this.refusable(() => dispatch.complete(item.bookingId, doctor.id, by));
    this.giveIfFree(doctor);
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
      if (doctor.held && doctor.nextFixAt <= to) this.sendFix(doctor, to);
    }
  }

  /** How many doctors the phones hold now (taken from the handover for an offer or a visit). */
  heldCount(): number {
    let held = 0;
    for (const doctor of this.doctors) if (doctor.held) held++;
    return held;
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
    destination: { lat: number; lng: number; address: string },
    tripFactor: number,
    now: number,
  ): void {
    doctor.phase = 'driving';
    doctor.bookingId = bookingId;
    doctor.address = destination.address;
    doctor.destinationLat = destination.lat;
    doctor.destinationLng = destination.lng;
    doctor.tripFactor = tripFactor;
    doctor.visitGeneration++;
    this.sendFix(doctor, now);
  }

  private endVisit(doctor: DoctorState): void {
    doctor.phase = 'idle';
    doctor.bookingId = undefined;
    doctor.address = '';
    doctor.speedMps = 0;
    doctor.visitGeneration++;
  }

  private endVisitAndGive(doctor: DoctorState): void {
    this.endVisit(doctor);
    this.giveIfFree(doctor);
  }

  /** The phones take the doctor over from the handover (a no-op without one, or when they hold the doctor already). */
  private take(doctor: DoctorState): void {
    const handover = this.options.handover;
    if (handover === undefined || doctor.held) return;
    doctor.held = true;
    const position = handover.take(doctor.id);
    if (position === undefined) return;
    doctor.lat = position.lat;
    doctor.lng = position.lng;
    doctor.lastFixAt = position.lastFixAt;
    doctor.seq = position.seq;
  }

  /** Gives a doctor with neither an offer nor a visit back to the handover. */
  private giveIfFree(doctor: DoctorState): void {
    const handover = this.options.handover;
    if (handover === undefined || !doctor.held || doctor.offer !== undefined || doctor.phase !== 'idle')
      return;
    doctor.held = false;
    handover.give(doctor.id, {
      lat: doctor.lat,
      lng: doctor.lng,
      lastFixAt: doctor.lastFixAt,
      seq: doctor.seq,
    });
  }

  /** Sends a fix at `now` and, while driving, sets the speed until the next one from the traffic where the doctor is. */
  private sendFix(doctor: DoctorState, now: number): void {
    if (doctor.phase === 'driving') {
      const point = { lat: doctor.lat, lng: doctor.lng };
      const kmh = Math.max(DEFAULT_MIN_SPEED_KMH, this.options.traffic().speedAt(point, now));
      doctor.speedMps = kmh / 3.6 / DEFAULT_DETOUR_FACTOR / doctor.tripFactor;
    }
    doctor.seq++;
    // Events of a step are handled at their own time after the step's fixes went out at its end; a fix never goes back.
    const ts = Math.max(now, doctor.lastFixAt);
    doctor.lastFixAt = ts;
    this.options.sendFix(
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

  private answerRandom(address: string, doctorId: string): UnitRandom {
    return this.behaviour.answerRandom(address, this.indexOfDoctor.get(doctorId) ?? -1);
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
