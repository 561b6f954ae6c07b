/**
 * Where bookings are kept, as the dispatcher sees it: {@link BookingRepository}, with the SQL implementation for
 * PostgreSQL and PGlite (booking-store.ts) and an in-memory one for simulations and tests (memory-booking-store.ts).
 * One test suite runs against all of them. The checks and refusals they share live here, so both refuse alike.
 */
import { TotError } from '../geo/errors.ts';
import type { Booking, BookingListFilter, BookingStatusUpdate, CallType } from './booking-types.ts';

/** One booking change to write: the row as it was (its version is checked), as it becomes, and the record of it. */
export interface BookingWrite {
  before: Booking;
  after: Booking;
  update: BookingStatusUpdate;
}

/** A notification record (notification.notifications). */
export interface NotificationRecord {
  /** A user id, or a service such as `emergency-services`. */
  recipient: string;
  /** e.g. `booking_preempted`, `emergency_escalated`, `no_doctor_found`. */
  kind: string;
  bookingId?: string;
  payload: Record<string, unknown>;
  /** ms since the epoch. */
  createdAt: number;
}

/** A stored notification. */
export interface StoredNotification extends NotificationRecord {
  id: string;
  readAt?: number;
}

/** One-off signals already raised for a booking (kept beside the row so a restart does not raise them again). */
export interface BookingMarks {
  slaBreachedAt?: number;
  escalatedAt?: number;
}

/** A completed visit as {@link BookingRepository.recentVisits} returns it. */
export interface CompletedVisit {
  callType: CallType;
  /** From the visit's start to its completion. */
  durationMs: number;
}

/** An active booking as {@link BookingRepository.loadActive} returns it. */
export interface ActiveBookingRow {
  booking: Booking;
  marks: BookingMarks;
}

/** Default page of {@link BookingRepository.list}. */
export const DEFAULT_LIST_LIMIT = 50;
/** Largest page of {@link BookingRepository.list}. */
export const MAX_LIST_LIMIT = 500;

/**
 * Bookings, their recorded changes, one-off marks and notifications. Every method either does all it says or
 * nothing.
 */
export interface BookingRepository {
  /**
   * Inserts a new booking with the updates that brought it where it is (the first from null: created; then, for a
   * search starting at once, searching), all or nothing.
   *
   * @throws TotError `DISPATCH_DOCTOR_UNAVAILABLE` when it holds a doctor another booking holds; Error when `updates`
   *   are not a history of this booking starting from nothing.
   */
  create(booking: Booking, updates: readonly BookingStatusUpdate[]): Promise<void>;
  /**
   * Writes changes in order, each only if the booking still has `before.version`, with their status updates and the
   * notifications. All or nothing.
   *
   * @throws TotError `DISPATCH_INVALID_TRANSITION` when a booking changed meanwhile (a stale version) or is missing;
   *   `DISPATCH_DOCTOR_UNAVAILABLE` when two bookings would hold one doctor.
   */
  commit(writes: readonly BookingWrite[], notifications?: readonly NotificationRecord[]): Promise<void>;
  /** @throws TotError `DISPATCH_BOOKING_NOT_FOUND`. */
  get(id: string): Promise<Booking>;
  /**
   * Bookings matching every given filter, newest first (createdAt, then id), at most `limit` (default 50, at most
   * 500), after the booking `after` (keyset paging: stable while new bookings arrive).
   *
   * @throws TotError `DISPATCH_BOOKING_NOT_FOUND` when `after` names no booking; `DISPATCH_INVALID_BOOKING` for a
   *   limit that is not a whole number in [1, 500].
   */
  list(filter?: BookingListFilter): Promise<Booking[]>;
  /** The recorded changes of a booking, oldest first. @throws TotError `DISPATCH_BOOKING_NOT_FOUND`. */
  history(id: string): Promise<BookingStatusUpdate[]>;
  /** Every booking not completed or cancelled, oldest first, with its marks (what a restarted dispatcher needs). */
  loadActive(): Promise<ActiveBookingRow[]>;
  /**
   * The latest completed visits (those with a start), newest completion first, at most `limit`: what a restarted
   * matcher learns its visit durations from (matcher-memory.ts).
   */
  recentVisits(limit: number): Promise<CompletedVisit[]>;
  /** Records a one-off signal of a booking (no version change), with the notification telling of it. */
  mark(id: string, mark: keyof BookingMarks, at: number, notification?: NotificationRecord): Promise<void>;
  insertNotification(notification: NotificationRecord): Promise<void>;
  /** Notifications, newest first, for a recipient and/or a booking, at most `limit` (default 50, at most 500). */
  notifications(filter: {
    recipient?: string;
    bookingId?: string;
    limit?: number;
  }): Promise<StoredNotification[]>;
}

/** Whether a value is shaped like a booking id (a UUID); anything else is answered "not found" without a query. */
export function isBookingId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}

/** The refusal of an unknown booking id (or `after` anchor). */
export function bookingNotFound(id: string, field = 'id'): TotError {
  return new TotError('DISPATCH_BOOKING_NOT_FOUND', `no booking with ${field} ${JSON.stringify(id)}`, {
    field,
    value: id,
  });
}

/** The limit of a list, checked. @throws TotError `DISPATCH_INVALID_BOOKING` outside [1, 500] or not whole. */
export function listLimit(limit: number | undefined): number {
  const value = limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(value) || value < 1 || value > MAX_LIST_LIMIT) {
    throw new TotError(
      'DISPATCH_INVALID_BOOKING',
      `limit must be a whole number in [1, ${MAX_LIST_LIMIT}], got ${String(value)}`,
      { field: 'limit', value },
    );
  }
  return value;
}

/** The refusal of a write based on a stale version. */
export function staleVersion(id: string, version: number): TotError {
  return new TotError(
    'DISPATCH_INVALID_TRANSITION',
    `booking ${id} changed meanwhile: version ${version} is no longer current`,
    { bookingId: id, field: 'version', value: version },
  );
}

/**
 * Checks that `updates` are the history of the new `booking`: at least one, the first from nothing, all of it.
 *
 * @throws Error otherwise (a caller's mistake, not a request's).
 */
export function checkHistory(booking: Booking, updates: readonly BookingStatusUpdate[]): void {
  if (updates.length === 0 || updates[0]?.from !== null)
    throw new Error(`booking ${booking.id}: its history must start with an update from null`);
  if (updates.some((update) => update.bookingId !== booking.id))
    throw new Error(`booking ${booking.id}: an update of another booking in its history`);
  if (updates.at(-1)?.to !== booking.status)
    throw new Error(
      `booking ${booking.id}: its history ends at ${updates.at(-1)?.to}, the booking is ${booking.status}`,
    );
}

/** The refusal of a second booking holding a doctor. */
export function doctorHeld(doctorId: string | undefined): TotError {
  return new TotError(
    'DISPATCH_DOCTOR_UNAVAILABLE',
    `doctor ${JSON.stringify(doctorId ?? '')} is already held by another booking`,
    { field: 'doctorId', value: doctorId },
  );
}
