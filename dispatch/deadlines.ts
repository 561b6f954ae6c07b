/**
 * The tick's deadlines: when each active booking next falls due for a time rule (its offer lapses, its scheduled
 * search starts, its doctor departs, its search times out, it has waited a day without a doctor, its arrival target
 * passes). ActiveBookings keeps one queue per rule, ordered by time, so that a tick reads only the bookings that are
 * due instead of scanning the whole active set for each rule: with 100 000 active bookings the scans took 20 ms of
 * every tick, ten times a second.
 */
import type { Booking } from './booking-types.ts';
import type { DispatchSettings } from './dispatch-settings.ts';

/** The time rules of the tick (dispatch/timers.ts, dispatch/offers.ts). */
export type DeadlineName =
  'offerLapse' | 'scheduledStart' | 'departure' | 'searchTimeout' | 'unmatchedExpiry' | 'arrivalTarget';

/** When a booking, as it is, falls due for the rule (ms; -Infinity: at once), or undefined when it never does so. */
export type DueAt = (booking: Booking) => number | undefined;

/** One {@link DueAt} per rule. */
export type Deadlines = Readonly<Record<DeadlineName, DueAt>>;

/**
 * When the doctor should be at the patient's: the booking's scheduled time (or its creation) plus the target of its
 * current priority — raising a priority tightens the deadline.
 */
export function arrivalDeadline(settings: DispatchSettings, booking: Booking): number {
  return (booking.scheduledAt ?? booking.createdAt) + settings.targetMinutes[booking.priority] * 60_000;
}

/**
 * When an assigned visit's doctor should set off: the scheduled time less the ETA, so as to arrive on time; a visit
 * for now departs at once.
 */
export function departureTime(booking: Booking, etaSeconds: number | undefined): number {
  if (booking.scheduledAt === undefined) return Number.NEGATIVE_INFINITY;
  return booking.scheduledAt - (etaSeconds ?? 0) * 1000;
}

/** The rules' times under `settings`. */
export function deadlinesOf(settings: DispatchSettings): Deadlines {
  const searchEnd = (booking: Booking) =>
    (booking.searchingAt ?? booking.createdAt) + settings.searchTimeoutMs;
  return {
    offerLapse: (booking) => (booking.status === 'offered' ? booking.offerExpiresAt : undefined),
    scheduledStart: (booking) =>
      booking.status === 'created' ? (booking.scheduledAt ?? 0) - settings.scheduleLeadMs : undefined,
    departure: (booking) =>
      booking.status === 'assigned' ? departureTime(booking, booking.assignedEtaSeconds) : undefined,
    searchTimeout: (booking) => (booking.status === 'searching' ? searchEnd(booking) : undefined),
    unmatchedExpiry: (booking) =>
      booking.status === 'no_doctor_found' ? searchEnd(booking) + settings.noDoctorFoundTtlMs : undefined,
    arrivalTarget: (booking) =>
      booking.arrivedAt === undefined ? arrivalDeadline(settings, booking) : undefined,
  };
}

/**
 * A queue of (time, booking id), earliest first: a binary heap in two arrays, so that a hundred thousand entries are
 * not a hundred thousand objects. Entries leave only by {@link popDue}: one whose booking has another time by now (or
 * is gone) is stale, and the reader skips it (ActiveBookings compares the times).
 */
export class DeadlineQueue {
  private times = new Float64Array(64);
  private ids: string[] = [];
  private count = 0;

  /** Number of entries, stale ones included. */
  get size(): number {
    return this.count;
  }

  /** Empties the queue. */
  clear(): void {
    this.count = 0;
    this.ids = [];
  }

  /** Adds an entry. */
  push(at: number, id: string): void {
    if (this.count === this.times.length) this.grow();
    const { times, ids } = this;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentAt = times[parent] as number;
      if (parentAt <= at) break;
      times[i] = parentAt;
      ids[i] = ids[parent] as string;
      i = parent;
    }
    times[i] = at;
    ids[i] = id;
  }

  /** Takes every entry due at `now` (time ≤ now), earliest first, calling `take(id, at)` for each. */
  popDue(now: number, take: (id: string, at: number) => void): void {
    while (this.count > 0 && (this.times[0] as number) <= now) {
      const id = this.ids[0] as string;
      const at = this.times[0] as number;
      this.removeTop();
      take(id, at);
    }
  }

  private removeTop(): void {
    const { times, ids } = this;
    const last = --this.count;
    const at = times[last] as number;
    const id = ids[last] as string;
    ids.length = last;
    if (last === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && (times[child + 1] as number) < (times[child] as number)) child++;
      if ((times[child] as number) >= at) break;
      times[i] = times[child] as number;
      ids[i] = ids[child] as string;
      i = child;
    }
    times[i] = at;
    ids[i] = id;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
  }
}
