/**
 * The booking state machine as pure functions: a transition is checked against {@link BOOKING_TRANSITIONS}, stamps
 * the timestamp of the stage it enters, keeps the doctor fields consistent with the status, and bumps the version.
 * Nothing here does I/O or reads a clock; a refused change throws and leaves its input untouched (bookings are
 * replaced, never mutated).
 */
import type { DoctorStatus } from '../engine/fleet-types.ts';
import { TotError } from '../geo/errors.ts';
import {
  BOOKING_TRANSITIONS,
  DOCTOR_HOLDING_STATUSES,
  FINAL_STATUSES,
  isEmergencyCategory,
  type Booking,
  type BookingStatus,
  type TriageCategory,
} from './booking-types.ts';

/** Fields a transition may set besides the status; anything not listed keeps its value. */
export interface TransitionChanges {
  /** Required when entering offered or assigned from a status without a doctor. */
  doctorId?: string;
  /** Required when entering offered. */
  offerExpiresAt?: number;
  /** Replaces the list (callers append to the current one). */
  declinedBy?: readonly string[];
  priority?: TriageCategory;
  assignedEtaSeconds?: number;
  finalPrice?: number;
  actualDurationMinutes?: number;
  cancelReason?: string;
}

/** Whether the lifecycle allows `from` → `to`. */
export function canTransition(from: BookingStatus, to: BookingStatus): boolean {
  return BOOKING_TRANSITIONS[from].includes(to);
}

/** Whether a booking in `status` holds its doctor (and so no other booking may hold that doctor). */
export function holdsDoctor(status: BookingStatus): boolean {
  return DOCTOR_HOLDING_STATUSES.includes(status);
}

/**
 * The fleet status a doctor holding a booking in `status` has: offered, assigned and en_route are the same names;
 * arrived and in_progress are both the doctor's on_site. Undefined for a status that holds no doctor (the doctor is
 * then available, unless off duty).
 */
export function doctorStatusFor(status: BookingStatus): DoctorStatus | undefined {
  switch (status) {
    case 'offered':
    case 'assigned':
    case 'en_route':
      return status;
    case 'arrived':
    case 'in_progress':
      return 'on_site';
    default:
      return undefined;
  }
}

/**
 * The booking after `from` → `to` at time `at`: the status, the stage timestamp (searchingAt only when a new search
 * begins — a declined or lapsed offer continues the search it came from, so the search deadline still counts from its
 * start), the doctor fields (kept while the booking holds a doctor, cleared when it stops holding one; the offer's
 * deadline only while offered), the `changes`, and version + 1.
 *
 * @throws TotError `DISPATCH_INVALID_TRANSITION` naming from and to when the lifecycle does not allow the change, or
 *   when entering offered or assigned without a doctor, or offered without a deadline. The input is never changed.
 */
export function applyTransition(
  booking: Booking,
  to: BookingStatus,
  at: number,
  changes: TransitionChanges = {},
): Booking {
  const from = booking.status;
  if (!canTransition(from, to)) {
    throw new TotError(
      'DISPATCH_INVALID_TRANSITION',
      `booking ${booking.id} cannot go from ${from} to ${to}`,
      { bookingId: booking.id, from, to, allowed: BOOKING_TRANSITIONS[from] },
    );
  }
  // Back to searching (or no doctor found) the doctor is released; out of offered the offer's deadline goes. A final
  // booking keeps the doctor who visited (or was on the way when it was cancelled) for its history and the doctor's
  // own list; it no longer holds them, since holding is decided by the status (the store's unique index covers only
  // the holding statuses).
  const releases = !holdsDoctor(to) && !FINAL_STATUSES.includes(to) && booking.doctorId !== undefined;
  const lapses = to !== 'offered' && booking.offerExpiresAt !== undefined;
  const source = releases || lapses ? without(booking, releases, lapses) : booking;
  const next: Booking = { ...source, declinedBy: [...(changes.declinedBy ?? booking.declinedBy)] };
  next.status = to;
  next.version = booking.version + 1;
  if (changes.priority !== undefined) setPriority(next, changes.priority);
  if (changes.assignedEtaSeconds !== undefined) next.assignedEtaSeconds = changes.assignedEtaSeconds;
  if (changes.finalPrice !== undefined) next.finalPrice = changes.finalPrice;
  if (changes.actualDurationMinutes !== undefined) next.actualDurationMinutes = changes.actualDurationMinutes;
  if (changes.cancelReason !== undefined) next.cancelReason = changes.cancelReason;

  if (holdsDoctor(to)) {
    const doctorId = changes.doctorId ?? booking.doctorId;
    if (doctorId === undefined || doctorId === '') {
      throw new TotError(
        'DISPATCH_INVALID_TRANSITION',
        `booking ${booking.id} cannot go from ${from} to ${to} without a doctor`,
        { bookingId: booking.id, from, to, field: 'doctorId' },
      );
    }
    next.doctorId = doctorId;
  }
  if (to === 'offered') {
    if (changes.offerExpiresAt === undefined || !Number.isFinite(changes.offerExpiresAt)) {
      throw new TotError(
        'DISPATCH_INVALID_TRANSITION',
        `booking ${booking.id} cannot go from ${from} to offered without an offer deadline`,
        { bookingId: booking.id, from, to, field: 'offerExpiresAt', value: changes.offerExpiresAt },
      );
    }
    next.offerExpiresAt = changes.offerExpiresAt;
  }
  stamp(next, from, to, at);
  return next;
}

/**
 * A copy of the booking without its doctor and/or its offer's deadline. They are left out of the copy, not deleted
 * from it: a delete turns an object into a slow dictionary-mode one (every assigned booking, every lapsed or declined
 * offer was one). Rest properties cost more than a spread, so only the transitions that drop a field come here.
 */
function without(booking: Booking, doctor: boolean, offer: boolean): Booking {
  const { doctorId, offerExpiresAt, ...kept } = booking;
  const copy: Booking = kept;
  if (!doctor && doctorId !== undefined) copy.doctorId = doctorId;
  if (!offer && offerExpiresAt !== undefined) copy.offerExpiresAt = offerExpiresAt;
  return copy;
}

/**
 * The booking with another priority (and the emergency flag that follows from it) at the same status, version + 1.
 * Not a transition: the store records it as a change from the status to itself.
 */
export function applyPriority(booking: Booking, priority: TriageCategory): Booking {
  const next: Booking = { ...booking, declinedBy: [...booking.declinedBy] };
  setPriority(next, priority);
  next.version = booking.version + 1;
  return next;
}

function setPriority(booking: Booking, priority: TriageCategory): void {
  booking.priority = priority;
  booking.emergency = isEmergencyCategory(priority);
}

function stamp(booking: Booking, from: BookingStatus, to: BookingStatus, at: number): void {
  switch (to) {
    case 'searching':
      if (from !== 'offered') booking.searchingAt = at;
      return;
    case 'offered':
      booking.offeredAt = at;
      return;
    case 'assigned':
      booking.assignedAt = at;
      return;
    case 'en_route':
      booking.enRouteAt = at;
      return;
    case 'arrived':
      booking.arrivedAt = at;
      return;
    case 'in_progress':
      booking.startedAt = at;
      return;
    case 'completed':
      booking.completedAt = at;
      return;
    case 'cancelled':
      booking.cancelledAt = at;
      return;
    default:
      return;
  }
}
