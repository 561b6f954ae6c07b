/**
 * The running engine's demo city: simulated patients book visits through the real dispatcher (a Poisson process over
 * the city, drawn by {@link BookingDraw}) and the simulated doctors' phones ({@link DoctorPhones}) answer the offers,
 * drive to the patients, report arrival, the start and the end of the visit, and send fixes. The city simulator
 * (engine/simulator/) keeps moving the doctors nobody needs; the phones take a doctor over from the offer to the end of
 * the visit and hand them back where the visit left them.
 *
 * Driven by the simulator's steps: `step(now)` creates the bookings due, carries out the phones' answers, arrivals and
 * visit ends, and returns the fixes the phones sent, for the caller to publish where the simulator's fixes go.
 */
import { TotError } from '../../geo/errors.ts';
import type { CitySimulator } from '../../engine/simulator/index.ts';
import { Random, nextIn, streamSeed } from '../../engine/simulator/random.ts';
import type { Actor, Booking, BookingStatus, DispatchService } from '../booking-types.ts';
import { BookingDraw, type DrawnBooking } from './booking-draw.ts';
import { DoctorPhones, type PhoneDue, type PhoneFix, type UnitRandom } from './doctor-phones.ts';
import { Timeline } from './timeline.ts';

// Stream families of the demo city; the city simulator's own are below 20, the offline simulation's 21–23.
const BOOKING_STREAM = 31;
const ANSWER_STREAM = 32;
const ANSWER_DOCTOR_STREAM = 33;
/** A patient cancels only before the doctor is there. */
const CANCELLABLE = new Set<BookingStatus>(['created', 'searching', 'offered', 'assigned', 'en_route']);
/** Why a simulated patient cancels. */
export const DEMO_CANCEL_REASON = 'the patient no longer needs the visit';

/** Options of {@link DemoCity}. */
export interface DemoCityOptions {
  /** The city simulator whose doctors the phones serve (its box and hot spots place the patients). */
  city: CitySimulator;
  /** The traffic the doctors drive in (read at every fix). */
  traffic: () => { speedAt(point: { lat: number; lng: number }, now: number): number };
  /** Mean bookings per simulated hour; 0 creates none (the phones still answer offers to simulated doctors). */
  bookingsPerHour: number;
  /** Share of bookings in categories 1 and 2. Default 0.1. */
  emergencyShare?: number;
  /** Probability that a doctor declines an offer. Default 0.05. */
  declineShare?: number;
  /** Share of routine bookings the patient cancels before the doctor arrives. Default 0.02. */
  cancelShare?: number;
  /** Same seed ⇒ same patients and answers. Default the city simulator's seed. */
  seed?: number;
  /** Called with whatever a booking, an answer or a report throws that is not a refusal; the city goes on. */
  onError?: (error: unknown) => void;
}

/** What the demo city did so far. */
export interface DemoCityCounters {
  bookings: number;
  cancellations: number;
  /** Bookings the dispatcher refused or calls that failed (see `onError`). */
  failures: number;
}

type Due =
  PhoneDue | { kind: 'booking'; index: number } | { kind: 'cancel'; bookingId: string; patient: Actor };

/** The demo city; see the module comment. */
export class DemoCity {
  /** The simulated doctors' phones: the offer channel of the simulated doctors. */
  readonly phones: DoctorPhones;
  /** Counters of {@link DemoCityCounters}. */
  readonly counters: DemoCityCounters = { bookings: 0, cancellations: 0, failures: 0 };
  private readonly timeline = new Timeline<Due>();
  private readonly draw: BookingDraw;
  private readonly drawn = new Map<string, DrawnBooking>();
  private readonly fixes: PhoneFix[] = [];
  private readonly seed: number;
  private dispatch: DispatchService | undefined;
  private now: number | undefined;
  private started = false;

  /** @throws RangeError when `bookingsPerHour` is negative or not finite. */
  constructor(private readonly options: DemoCityOptions) {
    if (!Number.isFinite(options.bookingsPerHour) || options.bookingsPerHour < 0) {
      throw new RangeError(
        `options.bookingsPerHour must be a finite number ≥ 0, got ${options.bookingsPerHour}`,
      );
    }
    const city = options.city;
    this.seed = options.seed ?? city.config.seed;
    this.draw = new BookingDraw(new Random(this.seed, BOOKING_STREAM), {
      box: city.config.box,
      hotSpots: city.hotSpots(),
      emergencyShare: options.emergencyShare ?? 0.1,
      cancelShare: options.cancelShare ?? 0.02,
    });
    this.phones = new DoctorPhones({
      doctors: city.doctors(),
      traffic: options.traffic,
      sendFix: (fix) => {
        this.fixes.push(fix);
      },
      timeline: this.timeline as Timeline<unknown>,
      clock: () => this.now ?? 0,
      behaviour: {
        answerRandom: (address, doctorIndex) => this.answerRandom(address, doctorIndex),
        visitMs: (address) => this.drawn.get(address)?.visitMs ?? 30 * 60_000,
        declineShare: options.declineShare ?? 0.05,
      },
      handover: {
        take: (doctorId) => city.hold(doctorId),
        give: (doctorId, position) => city.release(doctorId, position),
      },
    });
  }

  /** Connects the dispatcher the patients book with and the phones answer. */
  connect(dispatch: DispatchService): void {
    this.dispatch = dispatch;
    this.phones.connect(dispatch);
  }

  /**
   * Takes up the visits the dispatcher restored for simulated doctors (`Dispatcher.active()` after a restart), so that
   * they end instead of holding their doctors for good. Call after {@link connect}, before the first step. Returns how
   * many were taken up.
   */
  resume(bookings: readonly Booking[], now: number): number {
    this.now = now;
    let resumed = 0;
    for (const booking of bookings) if (this.phones.resume(booking, now)) resumed++;
    return resumed;
  }

  /**
   * Advances the city to `now` (simulated ms, the time of the simulator's step): moves the driving doctors, then carries
   * out in time order everything due — bookings, cancellations, answers, arrivals, visit ends. Returns the fixes the
   * phones sent meanwhile. Does nothing but keep time until {@link connect}.
   */
  async step(now: number): Promise<PhoneFix[]> {
    const previous = this.now;
    this.now = now;
    const dispatch = this.dispatch;
    if (dispatch === undefined) return [];
    if (!this.started) {
      this.started = true;
      this.scheduleBooking(0, now);
    }
    if (previous !== undefined) {
      this.phones.advance(previous, now);
    }
    for (let due = this.timeline.takeDue(now); due !== undefined; due = this.timeline.takeDue(now)) {
      this.now = due.at;
      try {
        await this.handle(dispatch, due.item, due.at);
      } catch (error) {
        this.counters.failures++;
        this.options.onError?.(error);
      }
    }
    this.now = now;
    return this.fixes.splice(0);
  }

  private async handle(dispatch: DispatchService, item: Due, at: number): Promise<void> {
    if (DoctorPhones.owns(item)) {
      await this.phones.handle(item, at);
      return;
    }
    if (item.kind === 'booking') {
      this.scheduleBooking(item.index + 1, at);
      const drawn = this.draw.draw(item.index);
      this.drawn.set(drawn.request.address, drawn);
      const patient: Actor = { id: drawn.request.patientId, role: 'patient' };
      const booking = await dispatch.create(drawn.request, patient);
      this.counters.bookings++;
      if (drawn.cancelAfterMs !== undefined) {
        this.timeline.schedule(at + drawn.cancelAfterMs, { kind: 'cancel', bookingId: booking.id, patient });
      }
      return;
    }
    await this.cancel(dispatch, item.bookingId, item.patient);
  }

  /** The patient cancels unless the doctor is there already (or the booking ended otherwise). */
  private async cancel(dispatch: DispatchService, bookingId: string, patient: Actor): Promise<void> {
    let booking: Booking;
    try {
      booking = await dispatch.get(bookingId);
      if (!CANCELLABLE.has(booking.status)) return;
      await dispatch.cancel(bookingId, patient, DEMO_CANCEL_REASON);
      this.counters.cancellations++;
    } catch (error) {
      // The booking moved on between the read and the cancel.
      if (!(error instanceof TotError)) throw error;
    }
  }

  private scheduleBooking(index: number, from: number): void {
    const gap = this.draw.gapMs(this.options.bookingsPerHour);
    if (Number.isFinite(gap)) this.timeline.schedule(Math.round(from + gap), { kind: 'booking', index });
  }

  /** The answer of a doctor to a booking depends on the pair only, as in the offline simulation. */
  private answerRandom(address: string, doctorIndex: number): UnitRandom {
    const state = new Uint32Array(1);
    state[0] =
      streamSeed(this.seed, ANSWER_STREAM, bookingNumberOf(address)) ^
      streamSeed(this.seed, ANSWER_DOCTOR_STREAM, doctorIndex);
    const next = (): number => nextIn(state, 0);
    return { next, between: (min, max) => min + (max - min) * next() };
  }
}

/**
 * The number in `simulated address #N` (BookingDraw); any other address (a real patient's booking offered to a
 * simulated doctor) is hashed (FNV-1a), so that its answers too depend on the pair only.
 */
function bookingNumberOf(address: string): number {
  const match = /^simulated address #(\d+)$/.exec(address);
  if (match) return Number(match[1]);
  let hash = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) hash = Math.imul(hash ^ address.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
