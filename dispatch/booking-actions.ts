/**
 * What people do to a booking once it exists: the doctor reports arrival, the start and the end of the visit; anyone
 * allowed cancels; a dispatcher assigns a doctor by hand, takes one off (or starts a search again), or changes the
 * priority. Each runs under the booking's lock, checks against the booking as it is then, and records through the
 * recorder (store first).
 */
import { TotError } from '../geo/errors.ts';
import { holdsDoctor } from './booking-lifecycle.ts';
import type { BookingWrite } from './booking-repository.ts';
import {
  BOOKING_TRANSITIONS,
  type Actor,
  type Booking,
  type BookingStatus,
  type TriageCategory,
} from './booking-types.ts';
import { offerOf, withdraw, type DispatchContext } from './dispatch-context.ts';
import { arrivalDeadline } from './deadlines.ts';
import { activeBooking, departsNow, etaOf, releaseWrite } from './offers.ts';
import { copyBooking, priorityWrite, transitionWrite } from './recorder.ts';
import { raiseSlaBreach } from './timers.ts';

/** The refusal of a change a booking in a final status (or any status not allowing it) cannot make. */
export function refuseTransition(booking: Booking, to: BookingStatus): TotError {
  return new TotError(
    'DISPATCH_INVALID_TRANSITION',
    `booking ${booking.id} cannot go from ${booking.status} to ${to}`,
    {
      bookingId: booking.id,
      from: booking.status,
      to,
      allowed: BOOKING_TRANSITIONS[booking.status],
    },
  );
}

function notTheDoctor(booking: Booking, doctorId: string, to: BookingStatus): TotError {
  return new TotError(
    'DISPATCH_INVALID_TRANSITION',
    `booking ${booking.id} cannot go from ${booking.status} to ${to} for doctor ${JSON.stringify(doctorId)}: ` +
      `its doctor is ${JSON.stringify(booking.doctorId ?? null)}`,
    { bookingId: booking.id, from: booking.status, to, field: 'doctorId', value: doctorId },
  );
}

/**
 * Cancels a booking not yet in progress; a doctor it held is told and freed.
 *
 * @throws TotError `DISPATCH_INVALID_TRANSITION` (in progress, completed, cancelled); `DISPATCH_BOOKING_NOT_FOUND`.
 */
export async function cancelBooking(
  context: DispatchContext,
  id: string,
  by: Actor,
  reason: string,
  now: number,
): Promise<Booking> {
  return context.locks.run([id], async () => {
    const booking = await activeBooking(context, id, (stored) => refuseTransition(stored, 'cancelled'));
    const write = transitionWrite(booking, 'cancelled', by, now, reason, { cancelReason: reason });
    const result = await context.recorder.record([write]);
    if (booking.doctorId !== undefined && holdsDoctor(booking.status)) {
      withdraw(context, booking.doctorId, id, 'cancelled');
    }
    return copyBooking(result);
  });
}

/**
 * The booking's doctor reports a step of the visit: `arrived` (from en_route, or from assigned — the departure is
 * recorded with it), `in_progress` (from arrived), `completed` (from in_progress, with the final price and the
 * actual duration). An arrival after the deadline raises the SLA breach if no tick did yet.
 *
 * @throws TotError `DISPATCH_INVALID_TRANSITION` when the step does not follow from the status or the doctor is not
 *   the booking's; `DISPATCH_BOOKING_NOT_FOUND`.
 */
export async function visitStep(
  context: DispatchContext,
  id: string,
  doctorId: string,
  to: 'arrived' | 'in_progress' | 'completed',
  by: Actor,
  now: number,
): Promise<Booking> {
  return context.locks.run([id], async () => {
    const booking = await activeBooking(context, id, (stored) => refuseTransition(stored, to));
    if (
      !BOOKING_TRANSITIONS[booking.status].includes(to) &&
      !(to === 'arrived' && booking.status === 'assigned')
    ) {
      throw refuseTransition(booking, to);
    }
    if (booking.doctorId !== doctorId) throw notTheDoctor(booking, doctorId, to);
    const writes: BookingWrite[] = [];
    let current = booking;
    if (to === 'arrived' && booking.status === 'assigned') {
      writes.push(transitionWrite(booking, 'en_route', by, now, 'departed'));
      current = (writes[0] as BookingWrite).after;
    }
    const changes =
      to === 'completed'
        ? {
            finalPrice: booking.estimatedPrice,
            actualDurationMinutes: Math.round(((now - (booking.startedAt ?? now)) / 60_000) * 10) / 10,
          }
        : {};
    writes.push(transitionWrite(current, to, by, now, undefined, changes));
    const late = to === 'arrived' && now >= arrivalDeadline(context.settings, booking);
    if (late) await raiseSlaBreach(context, booking, now);
    return copyBooking(await context.recorder.record(writes));
  });
}

/**
 * A dispatcher gives the booking to a doctor without an offer: assigned (en_route at once for a visit wanted now). A
 * booking offered to someone else is taken back from them first; one offered to this doctor is simply assigned.
 *
 * @throws TotError `DISPATCH_DOCTOR_UNAVAILABLE` when the doctor is unknown to the fleet, not available, or held by
 *   another booking; `DISPATCH_INVALID_TRANSITION` when the booking already has a doctor on the way or is further on;
 *   `DISPATCH_BOOKING_NOT_FOUND`.
 */
export async function assignManually(
  context: DispatchContext,
  id: string,
  doctorId: string,
  by: Actor,
  now: number,
): Promise<Booking> {
  const { bookings, live } = context;
  return context.locks.run([id], async () => {
    const booking = await activeBooking(context, id, (stored) => refuseTransition(stored, 'assigned'));
    const offeredToThem = booking.status === 'offered' && booking.doctorId === doctorId;
    if (
      !offeredToThem &&
      booking.status !== 'offered' &&
      !BOOKING_TRANSITIONS[booking.status].includes('assigned')
    ) {
      throw refuseTransition(booking, 'assigned');
    }
    const status = live.fleet.statusOf(doctorId);
    if (!offeredToThem && (status !== 'available' || !bookings.reserve(doctorId, id))) {
      const holder = bookings.holderOf(doctorId);
      throw new TotError(
        'DISPATCH_DOCTOR_UNAVAILABLE',
        `doctor ${JSON.stringify(doctorId)} cannot take booking ${id}: ` +
          (status === undefined
            ? 'unknown to the fleet'
            : holder
              ? `held by booking ${holder.id}`
              : `status ${status}`),
        { field: 'doctorId', value: doctorId, status: status ?? null, heldBy: holder?.id ?? null },
      );
    }
    try {
      const writes: BookingWrite[] = [];
      let current = booking;
      if (booking.status === 'offered' && !offeredToThem) {
        writes.push(releaseWrite(booking, by, now, 'reassigned:manual', false));
        current = (writes[0] as BookingWrite).after;
      }
      const eta = etaOf(context, doctorId, booking, now);
      const assigned = transitionWrite(current, 'assigned', by, now, 'manual', {
        doctorId,
        ...(eta === undefined ? {} : { assignedEtaSeconds: eta }),
      });
      writes.push(assigned);
      if (departsNow(assigned.after, eta, now))
        writes.push(transitionWrite(assigned.after, 'en_route', by, now, 'departed'));
      const result = await context.recorder.record(writes, eta === undefined ? {} : { etaSeconds: eta });
      context.scorer.recordVisit(doctorId, now);
      if (booking.status === 'offered' && !offeredToThem)
        withdraw(context, booking.doctorId as string, id, 'reassigned');
      try {
        context.channel.assigned?.(doctorId, offerOf(result, eta ?? 0, now));
      } catch (error) {
        context.logger.warn({ err: error, doctorId, bookingId: id }, 'assignment notice not sent');
      }
      return copyBooking(result);
    } finally {
      bookings.unreserve(doctorId, id);
    }
  });
}

/**
 * A dispatcher takes the doctor off an offered, assigned or en_route booking: it searches again (reason
 * `reassigned:<reason>`) without that doctor, who is told. A booking in no_doctor_found (its search ended without a
 * doctor) starts a new search the same way, its deadline counted from now — for when doctors have come free since.
 *
 * @throws TotError `DISPATCH_INVALID_TRANSITION` for a booking without a doctor to take off (other than one in
 *   no_doctor_found) or already with the patient; `DISPATCH_BOOKING_NOT_FOUND`.
 */
export async function reassignBooking(
  context: DispatchContext,
  id: string,
  by: Actor,
  reason: string,
  now: number,
): Promise<Booking> {
  return context.locks.run([id], async () => {
    const booking = await activeBooking(context, id, (stored) => refuseTransition(stored, 'searching'));
    if (booking.status === 'no_doctor_found') {
      const write = transitionWrite(booking, 'searching', by, now, `reassigned:${reason}`);
      return copyBooking(await context.recorder.record([write]));
    }
    if (booking.status !== 'offered' && booking.status !== 'assigned' && booking.status !== 'en_route') {
      throw refuseTransition(booking, 'searching');
    }
    const doctorId = booking.doctorId as string;
    const result = await context.recorder.record([
      releaseWrite(booking, by, now, `reassigned:${reason}`, true),
    ]);
    withdraw(context, doctorId, id, 'reassigned');
    return copyBooking(result);
  });
}

/**
 * Changes the priority (and with it the emergency flag and the arrival deadline). A searching booking is tried again
 * at once under its new priority. Setting the same priority changes nothing.
 *
 * @throws TotError `DISPATCH_INVALID_TRANSITION` for a completed or cancelled booking; `DISPATCH_BOOKING_NOT_FOUND`.
 */
export async function changeBookingPriority(
  context: DispatchContext,
  id: string,
  priority: TriageCategory,
  by: Actor,
  now: number,
): Promise<Booking> {
  return context.locks.run([id], async () => {
    const booking = await activeBooking(context, id, (stored) => refuseTransition(stored, stored.status));
    if (booking.priority === priority) return copyBooking(booking);
    const result = await context.recorder.record([priorityWrite(booking, priority, by, now)]);
    context.bookings.deferAttempt(id, now);
    return copyBooking(result);
  });
}
