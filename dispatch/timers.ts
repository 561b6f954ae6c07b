/**
 * The time-driven rules, each run by tick(now) for the time it is given (no timers of their own, so that the
 * simulation can drive them with simulated time): bookings for later start searching, scheduled visits depart, doctors
 * gone offline lose their bookings, searches time out, and arrival targets that pass raise an SLA breach.
 */
import type { Booking } from './booking-types.ts';
import { withdraw, type DispatchContext } from './dispatch-context.ts';
import { escalate } from './emergency.ts';
import { releaseWrite } from './offers.ts';
import { SYSTEM, transitionWrite } from './recorder.ts';
import type { BookingWrite, NotificationRecord } from './booking-repository.ts';
import { changeDue, changeEach } from './change-each.ts';

/** Bookings for later whose search lead time has come go from created to searching. */
export async function startScheduled(context: DispatchContext, now: number): Promise<number> {
  return changeDue(context, 'scheduledStart', now, 'scheduled search start', async (booking) => {
    await context.recorder.record([transitionWrite(booking, 'searching', SYSTEM, now, 'scheduled_search')]);
  });
}

/** Assigned visits booked for later whose departure time (scheduled − ETA) has come go en_route. */
export async function departScheduled(context: DispatchContext, now: number): Promise<number> {
  return changeDue(context, 'departure', now, 'departure', async (booking) => {
    await context.recorder.record([transitionWrite(booking, 'en_route', SYSTEM, now, 'departed')]);
  });
}

/**
 * A doctor the fleet shows offline (off duty, or silent past the offline timeout) while holding an offered, assigned
 * or en_route booking loses it: the booking searches again (reason `reassigned:doctor_offline`), the doctor stays
 * eligible for it once back. A visit under way (arrived, in progress) is left alone: the doctor is with the patient.
 * The first call reads every held doctor (bookings restored with a doctor already offline); later calls only the
 * doctors the fleet took offline since ({@link DispatchContext.offlineWatch}) — reading every held doctor on every tick
 * took 12 ms at 10k held doctors, a stall the requests of that moment waited out.
 */
export async function releaseOfflineDoctors(context: DispatchContext, now: number): Promise<number> {
  const fleet = context.live.fleet;
  let doctorIds: string[];
  if (context.offlineWatch === undefined) {
    const doctors = new Set<string>();
    context.offlineWatch = { doctors, stop: fleet.onWentOffline((doctorId) => doctors.add(doctorId)) };
    doctorIds = [...context.bookings.holdings()].map(([doctorId]) => doctorId);
  } else {
    doctorIds = [...context.offlineWatch.doctors];
    context.offlineWatch.doctors.clear();
  }
  const isGone = (booking: Booking) =>
    (booking.status === 'offered' || booking.status === 'assigned' || booking.status === 'en_route') &&
    booking.doctorId !== undefined &&
    fleet.statusOf(booking.doctorId) === 'offline';
  const ids: string[] = [];
  for (const doctorId of doctorIds) {
    const booking = context.bookings.holderOf(doctorId);
    if (booking === undefined) continue;
    if (isGone(booking)) ids.push(booking.id);
    // With the patient and offline: the visit stands; the doctor is put back on site once they return.
    else if (fleet.statusOf(doctorId) === 'offline') context.sync.sync(doctorId, now);
  }
  return changeEach(context, ids, 'release of an offline doctor', async (booking) => {
    if (!isGone(booking)) return false;
    const doctorId = booking.doctorId as string;
    await context.recorder.record([releaseWrite(booking, SYSTEM, now, 'reassigned:doctor_offline', false)]);
    withdraw(context, doctorId, booking.id, 'doctor_offline');
    return true;
  });
}

/**
 * Searches older than the search timeout end in no_doctor_found (reason `search_timeout`), with a notification to
 * the patient; an emergency is escalated first (if it was not already).
 */
export async function expireSearches(context: DispatchContext, now: number): Promise<number> {
  return changeDue(context, 'searchTimeout', now, 'search timeout', async (booking) => {
    if (booking.emergency) await escalate(context, booking.id, now, 'search_timeout');
    const write: BookingWrite = transitionWrite(booking, 'no_doctor_found', SYSTEM, now, 'search_timeout');
    const notification: NotificationRecord = {
      recipient: booking.patientId,
      kind: 'no_doctor_found',
      bookingId: booking.id,
      payload: {
        bookingId: booking.id,
        searchedMinutes: Math.round((now - (booking.searchingAt ?? booking.createdAt)) / 60_000),
      },
      createdAt: now,
    };
    await context.recorder.record([write], { notifications: [notification] });
  });
}

/**
 * Bookings in no_doctor_found for the settings' noDoctorFoundTtlMs after their search ended (its start plus the search
 * timeout) are cancelled (reason `no_doctor_found_expired`, by the system) with a notification to the patient.
 */
export async function expireUnmatched(context: DispatchContext, now: number): Promise<number> {
  return changeDue(context, 'unmatchedExpiry', now, 'no_doctor_found expiry', async (booking) => {
    const write = transitionWrite(booking, 'cancelled', SYSTEM, now, 'no_doctor_found_expired');
    const notification: NotificationRecord = {
      recipient: booking.patientId,
      kind: 'booking_expired',
      bookingId: booking.id,
      payload: { bookingId: booking.id, reason: 'no_doctor_found_expired' },
      createdAt: now,
    };
    await context.recorder.record([write], { notifications: [notification] });
  });
}

/**
 * Raises the SLA breach of a booking not yet arrived whose arrival deadline has passed: an SlaBreached event and the
 * breach metric, once per booking (the mark is stored, so a restart does not raise it again).
 */
export async function checkSla(context: DispatchContext, now: number): Promise<number> {
  let raised = 0;
  for (const booking of context.bookings.due('arrivalTarget', now)) {
    if (await raiseSlaBreach(context, booking, now)) raised++;
  }
  return raised;
}

/** Raises a booking's SLA breach at `at` unless it was raised already; returns whether it was raised now. */
export async function raiseSlaBreach(
  context: DispatchContext,
  booking: Booking,
  at: number,
): Promise<boolean> {
  const { bookings } = context;
  if (bookings.marksOf(booking.id).slaBreachedAt !== undefined) return false;
  bookings.mark(booking.id, 'slaBreachedAt', at);
  context.outbox.add([
    {
      type: 'SlaBreached',
      bookingId: booking.id,
      priority: booking.priority,
      targetMinutes: context.settings.targetMinutes[booking.priority],
      status: booking.status,
      at,
    },
  ]);
  void context.outbox.flush();
  context.metrics?.slaBreaches.inc({ priority: String(booking.priority) });
  try {
    await context.store.mark(booking.id, 'slaBreachedAt', at);
  } catch (error) {
    context.logger.warn({ err: error, bookingId: booking.id }, 'SLA breach mark not stored');
  }
  return true;
}
