/**
 * Who may see which booking — one rule for the REST routes and the tracking socket. A booking is visible to the
 * patient who made it, to the doctor it is offered or assigned to, and to dispatchers and admins; to anyone else it
 * answers exactly like a booking that does not exist (404 DISPATCH_BOOKING_NOT_FOUND), so ids cannot be probed.
 */
import type { Actor, Booking, DispatchService } from '../../dispatch/booking-types.ts';
import { TotError } from '../../geo/errors.ts';
import type { Principal } from '../auth/tokens.ts';

/** The doctor profile linked to a user, if any (engine/doctor-profiles.ts provides it). */
export type DoctorIdOfUser = (userId: string) => Promise<string | undefined>;

/** A signed-in caller with, for a doctor, the doctor profile linked to the user. */
export interface Viewer {
  principal: Principal;
  /** Set for a user of role doctor with a linked profile. */
  doctorId?: string;
}

/** Roles that see and steer every booking. */
const STAFF_ROLES: readonly string[] = ['dispatcher', 'admin'];

/** The caller as {@link canSee} needs it; the profile is looked up for doctors only. */
export async function viewerOf(principal: Principal, doctorIdOfUser: DoctorIdOfUser): Promise<Viewer> {
  if (principal.role !== 'doctor') return { principal };
  const doctorId = await doctorIdOfUser(principal.userId);
  return doctorId === undefined ? { principal } : { principal, doctorId };
}

/** Whether `viewer` may see `booking`. */
export function canSee(viewer: Viewer, booking: Booking): boolean {
  const { principal } = viewer;
  if (STAFF_ROLES.includes(principal.role)) return true;
  if (principal.role === 'patient') return booking.patientId === principal.userId;
  if (principal.role === 'doctor')
    return viewer.doctorId !== undefined && booking.doctorId === viewer.doctorId;
  return false;
}

/**
 * The booking `id` if `viewer` may see it.
 *
 * @throws TotError `DISPATCH_BOOKING_NOT_FOUND` when it does not exist or is not the viewer's to see (the same
 *   answer for both).
 */
export async function visibleBooking(
  dispatch: Pick<DispatchService, 'get'>,
  viewer: Viewer,
  id: string,
): Promise<Booking> {
  let booking: Booking;
  try {
    booking = await dispatch.get(id);
  } catch (error) {
    // Re-thrown in our own words, so that a missing booking and a hidden one read the same.
    if (error instanceof TotError && error.code === 'DISPATCH_BOOKING_NOT_FOUND') throw bookingNotFound(id);
    throw error;
  }
  if (!canSee(viewer, booking)) throw bookingNotFound(id);
  return booking;
}

/** The error of a booking that does not exist or may not be seen. */
export function bookingNotFound(id: string): TotError {
  return new TotError('DISPATCH_BOOKING_NOT_FOUND', `no booking ${JSON.stringify(id)}`, {
    field: 'id',
    value: id,
  });
}

/**
 * A booking as `viewer` is shown it: staff see everything; patients and doctors do not see which doctors declined
 * it (other doctors' decisions are not theirs to know).
 */
export function bookingViewFor(viewer: Viewer, booking: Booking): Booking | Omit<Booking, 'declinedBy'> {
  if (STAFF_ROLES.includes(viewer.principal.role)) return booking;
  const { declinedBy: _hidden, ...visible } = booking;
  return visible;
}

/** The actor the dispatcher records for a change a signed-in user makes. */
export function actorOf(principal: Principal): Actor {
  return { id: principal.userId, role: principal.role };
}
