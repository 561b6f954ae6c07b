/**
 * The time-driven rules, each run by tick(now) for the time it is given (no timers of their own, so that the
 * simulation can drive them with simulated time): bookings for later start searching, scheduled visits depart, doctors
 * gone offline lose their bookings, searches time out, and arrival targets that pass raise an SLA breach.
 */
import type { Booking } from './booking-types.ts';
import { arrivalDeadline, withdraw, type DispatchContext } from './dispatch-context.ts';
import { escalate } from './emergency.ts';
import { departsNow, releaseWrite } from './offers.ts';
import { SYSTEM, transitionWrite } from './recorder.ts';
import type { BookingWrite, NotificationRecord } from './booking-repository.ts';

/**
 * Runs `change` for each booking id under its lock, with the booking as it is then; a change that throws is logged
 * and retried at the next tick. Returns how many changed.
 */
async function changeEach(
  context: DispatchContext,
  ids: readonly string[],
  what: string,
  change: (booking: Booking) => Promise<boolean>,
): Promise<number> {
  const done = await Promise.all(
    ids.map((id) =>
      context.locks
        .run([id], async () => {
          const booking = context.bookings.get(id);
          return booking === undefined ? false : change(booking);
        })
        .catch((error: unknown) => {
          context.logger.warn({ err: error, bookingId: id }, `${what} not written; retried next tick`);
          return false;
        }),
    ),
  );
  return done.filter(Boolean).length;
}

/** Bookings for later whose search lead time has come go from created to searching. */
export async function startScheduled(context: DispatchContext, now: number): Promise<number> {
  const lead = context.settings.scheduleLeadMs;
  const due = (booking: Booking) => booking.status === 'created' && (booking.scheduledAt ?? 0) - lead <= now;
  const ids = context.bookings
    .withStatus('created')
    .filter(due)
    .map((booking) => booking.id);
  return changeEach(context, ids, 'scheduled search start', async (booking) => {
    if (!due(booking)) return false;
    await context.recorder.record([transitionWrite(booking, 'searching', SYSTEM, now, 'scheduled_search')]);
    return true;
  });
}

/** Assigned visits booked for later whose departure time (scheduled − ETA) has come go en_route. */
export async function departScheduled(context: DispatchContext, now: number): Promise<number> {
  const due = (booking: Booking) =>
    booking.status === 'assigned' && departsNow(booking, booking.assignedEtaSeconds, now);
  const ids = context.bookings
    .withStatus('assigned')
    .filter(due)
    .map((booking) => booking.id);
  return changeEach(context, ids, 'departure', async (booking) => {
    if (!due(booking)) return false;
    await context.recorder.record([transitionWrite(booking, 'en_route', SYSTEM, now, 'departed')]);
    return true;
  });
}

/**
 * How often held doctors are checked for having gone offline, ms. The fleet calls a doctor offline only after a
 * minute of silence, so a second more is nothing, while checking on every tick (100 ms) read every held doctor ten
 * times a second — at 20k held doctors, 7 % of the server's time.
 */
export const OFFLINE_CHECK_INTERVAL_MS = 1_000;

/**
 * A doctor the fleet shows offline (off duty, or silent past the offline timeout) while holding an offered, assigned
 * or en_route booking loses it: the booking searches again (reason `reassigned:doctor_offline`), the doctor stays
 * eligible for it once back. A visit under way (arrived, in progress) is left alone: the doctor is with the patient.
 * Runs at most once per {@link OFFLINE_CHECK_INTERVAL_MS} of `now` (again at once if time went back).
 */
export async function releaseOfflineDoctors(context: DispatchContext, now: number): Promise<number> {
  const last = context.offlineCheckedAt;
  if (last !== undefined && now >= last && now - last < OFFLINE_CHECK_INTERVAL_MS) return 0;
  context.offlineCheckedAt = now;
  const fleet = context.live.fleet;
  const isGone = (booking: Booking) =>
    (booking.status === 'offered' || booking.status === 'assigned' || booking.status === 'en_route') &&
    booking.doctorId !== undefined &&
    fleet.statusOf(booking.doctorId) === 'offline';
  const ids: string[] = [];
  for (const [doctorId, bookingId] of context.bookings.holdings()) {
    const booking = context.bookings.get(bookingId);
    if (booking === undefined) continue;
    if (isGone(booking)) ids.push(bookingId);
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
  const timeout = context.settings.searchTimeoutMs;
  const due = (booking: Booking) =>
    booking.status === 'searching' && now - (booking.searchingAt ?? booking.createdAt) >= timeout;
  const ids = context.bookings
    .withStatus('searching')
    .filter(due)
    .map((booking) => booking.id);
  return changeEach(context, ids, 'search timeout', async (booking) => {
    if (!due(booking)) return false;
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
    return true;
  });
}

/**
 * Raises the SLA breach of a booking not yet arrived whose arrival deadline has passed: an SlaBreached event and the
 * breach metric, once per booking (the mark is stored, so a restart does not raise it again).
 */
export async function checkSla(context: DispatchContext, now: number): Promise<number> {
  let breached = 0;
  for (const booking of [...context.bookings.all()]) {
    if (booking.arrivedAt !== undefined || context.bookings.marksOf(booking.id).slaBreachedAt !== undefined)
      continue;
    if (now < arrivalDeadline(context, booking)) continue;
    await raiseSlaBreach(context, booking, now);
    breached++;
  }
  return breached;
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
