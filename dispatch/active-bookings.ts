/**
 * The dispatcher's memory of the bookings not yet completed or cancelled: the bookings themselves (the store's rows
 * as last written), which doctor each holds, which doctors are reserved by a match being written, when each searching
 * booking is next tried, which one-off signals were raised, and when each booking falls due for the tick's time rules
 * (dispatch/deadlines.ts). No I/O; the dispatcher changes it only after the store accepted a write.
 */
import { holdsDoctor } from './booking-lifecycle.ts';
import { FINAL_STATUSES, type Booking } from './booking-types.ts';
import type { BookingMarks } from './booking-repository.ts';
import { DeadlineQueue, type DeadlineName, type Deadlines, type DueAt } from './deadlines.ts';

/** Searching bookings in the order they are served: priority (1 first), then age, then id. */
export function queueOrder(a: Booking, b: Booking): number {
  return a.priority - b.priority || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The marks of a booking without any (shared: never changed). */
const NO_MARKS: Readonly<BookingMarks> = Object.freeze({});

/** Entries a deadline queue may hold per active booking before it is rebuilt without its stale ones. */
const QUEUE_ENTRIES_PER_BOOKING = 4;

/** In-memory indexes of the active bookings. */
export class ActiveBookings {
  private readonly bookings = new Map<string, Booking>();
  /** Ids of the searching bookings (few against the active set, and read at every tick). */
  private readonly searchingIds = new Set<string>();
  /** Per time rule, the bookings by the time they fall due (see dispatch/deadlines.ts). */
  private readonly queues = new Map<DeadlineName, DeadlineQueue>();
  /** doctor id → id of the booking holding them (offered … in_progress). */
  private readonly holders = new Map<string, string>();
  /** doctor id → id of the booking a match in flight is writing them into. */
  private readonly reservations = new Map<string, string>();
  /** booking id → earliest time the matcher tries it again. */
  private readonly attempts = new Map<string, number>();
  private readonly marks = new Map<string, BookingMarks>();

  /**
   * @param firstAttemptDelay how long after entering searching a booking is first tried (the batch window for a
   *   batched non-emergency, 0 otherwise).
   * @param deadlines the time rules {@link due} answers for (none: it answers nothing).
   */
  constructor(
    private readonly firstAttemptDelay: (booking: Booking) => number = () => 0,
    private readonly deadlines: Partial<Deadlines> = {},
  ) {
    for (const name of Object.keys(deadlines) as DeadlineName[]) this.queues.set(name, new DeadlineQueue());
  }

  /** Number of active bookings. */
  get size(): number {
    return this.bookings.size;
  }

  /** The active booking with that id. */
  get(id: string): Booking | undefined {
    return this.bookings.get(id);
  }

  /** Every active booking (the live objects: callers copy before handing them out). */
  all(): IterableIterator<Booking> {
    return this.bookings.values();
  }

  /**
   * Stores the booking as written at time `at`: indexes its doctor, or drops it when it reached a final status. A
   * doctor it held before is released unless another booking holds them now. A booking entering searching gets its
   * first try at `at` + the first-attempt delay.
   */
  put(booking: Booking, at: number): void {
    const previous = this.bookings.get(booking.id);
    if (previous?.doctorId !== undefined && this.holders.get(previous.doctorId) === booking.id) {
      this.holders.delete(previous.doctorId);
    }
    if (booking.status === 'searching') this.searchingIds.add(booking.id);
    else this.searchingIds.delete(booking.id);
    if (FINAL_STATUSES.includes(booking.status)) {
      this.bookings.delete(booking.id);
      this.attempts.delete(booking.id);
      this.marks.delete(booking.id);
      return;
    }
    this.bookings.set(booking.id, booking);
    if (booking !== previous) this.queueDeadlines(booking, previous);
    if (booking.doctorId !== undefined && holdsDoctor(booking.status))
      this.holders.set(booking.doctorId, booking.id);
    if (booking.status !== 'searching') this.attempts.delete(booking.id);
    else if (previous?.status !== 'searching')
      this.attempts.set(booking.id, at + this.firstAttemptDelay(booking));
  }

  /** The booking holding the doctor (offered … in_progress), if any. */
  holderOf(doctorId: string): Booking | undefined {
    const id = this.holders.get(doctorId);
    return id === undefined ? undefined : this.bookings.get(id);
  }

  /** Doctor ids held by a booking, with the booking. */
  holdings(): IterableIterator<[string, string]> {
    return this.holders.entries();
  }

  /** Whether the doctor is neither held nor reserved, so a match may take them. */
  isFree(doctorId: string): boolean {
    return !this.holders.has(doctorId) && !this.reservations.has(doctorId);
  }

  /** Reserves a free doctor for a booking while its match is written; false when the doctor is taken. */
  reserve(doctorId: string, bookingId: string): boolean {
    if (!this.isFree(doctorId)) return false;
    this.reservations.set(doctorId, bookingId);
    return true;
  }

  /** Ends a reservation made for `bookingId` (once the write is done, or failed). */
  unreserve(doctorId: string, bookingId: string): void {
    if (this.reservations.get(doctorId) === bookingId) this.reservations.delete(doctorId);
  }

  /** Searching bookings, in queue order ({@link queueOrder}). */
  searching(): Booking[] {
    const found: Booking[] = [];
    for (const id of this.searchingIds) found.push(this.bookings.get(id) as Booking);
    return found.sort(queueOrder);
  }

  /**
   * The active bookings due for the time rule at `now` (their time ≤ now), earliest first, each once, as they are now.
   * They leave the rule's queue: a booking whose time changes comes back with its new time, and one the caller could
   * not change goes back with {@link requeue}.
   */
  due(name: DeadlineName, now: number): Booking[] {
    const queue = this.queues.get(name);
    const dueAt = this.deadlines[name];
    const found: Booking[] = [];
    if (queue === undefined || dueAt === undefined) return found;
    const taken = new Set<string>();
    queue.popDue(now, (id, at) => {
      const booking = this.bookings.get(id);
      // Stale: the booking is gone, or has another time for the rule by now (or none).
      if (booking === undefined || dueAt(booking) !== at || taken.has(id)) return;
      taken.add(id);
      found.push(booking);
    });
    return found;
  }

  /** Whether the booking, as given, is due for the rule at `now`. */
  isDue(name: DeadlineName, booking: Booking, now: number): boolean {
    const at = this.deadlines[name]?.(booking);
    return at !== undefined && at <= now;
  }

  /** Puts an active booking back in the rule's queue at its time now (a change that failed: the next tick retries). */
  requeue(name: DeadlineName, id: string): void {
    const booking = this.bookings.get(id);
    const at = booking === undefined ? undefined : this.deadlines[name]?.(booking);
    if (at !== undefined) this.queues.get(name)?.push(at, id);
  }

  /**
   * Queues the booking's time for each rule where it differs from the previous version's (most changes leave a
   * booking's times as they were). A queue that has grown stale entries (times since changed, bookings gone) is
   * rebuilt from the active bookings.
   */
  private queueDeadlines(booking: Booking, previous: Booking | undefined): void {
    for (const [name, queue] of this.queues) {
      const dueAt = this.deadlines[name] as DueAt;
      if (queue.size > QUEUE_ENTRIES_PER_BOOKING * this.bookings.size + 1024) {
        this.rebuild(dueAt, queue);
        continue;
      }
      const at = dueAt(booking);
      if (at !== undefined && (previous === undefined || dueAt(previous) !== at)) queue.push(at, booking.id);
    }
  }

  /** Refills a queue with the active bookings' times (the booking being put among them). */
  private rebuild(dueAt: DueAt, queue: DeadlineQueue): void {
    queue.clear();
    for (const booking of this.bookings.values()) {
      const at = dueAt(booking);
      if (at !== undefined) queue.push(at, booking.id);
    }
  }

  /** Bookings with a status among `statuses`. */
  withStatus(...statuses: Booking['status'][]): Booking[] {
    const found: Booking[] = [];
    for (const booking of this.bookings.values()) if (statuses.includes(booking.status)) found.push(booking);
    return found;
  }

  /** Earliest time a searching booking is tried again (undefined: at once). */
  attemptAt(id: string): number | undefined {
    return this.attempts.get(id);
  }

  /** Puts off the next try of a searching booking until `at`. */
  deferAttempt(id: string, at: number): void {
    if (this.bookings.get(id)?.status === 'searching') this.attempts.set(id, at);
  }

  /** One-off signals already raised for a booking. */
  marksOf(id: string): Readonly<BookingMarks> {
    return this.marks.get(id) ?? NO_MARKS;
  }

  /** Records that a one-off signal was raised. */
  mark(id: string, mark: keyof BookingMarks, at: number): void {
    if (!this.bookings.has(id)) return;
    this.marks.set(id, { ...this.marksOf(id), [mark]: at });
  }
}
