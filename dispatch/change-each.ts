/**
 * The tick's way of changing many bookings at once (offers lapsing, searches timing out, scheduled starts, offline
 * doctors): each under its booking's lock, in parallel, but started in time slices. A thousand offers made in one batch
 * lapse in one tick twenty seconds later; started in one synchronous run, their writes held the event loop for 50–200 ms.
 */
import type { Booking } from './booking-types.ts';
import type { DeadlineName } from './deadlines.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { startInSlices } from './time-slice.ts';

/**
 * Runs `change` for each booking id under its lock, with the booking as it is then (skipped when no longer active); a
 * change that throws is logged with `what` and retried at the next tick. Returns how many changed.
 */
export async function changeEach(
  context: DispatchContext,
  ids: readonly string[],
  what: string,
  change: (booking: Booking) => Promise<boolean>,
): Promise<number> {
  const changed = await startInSlices(ids, (id) =>
    context.locks
      .run([id], async () => {
        const booking = context.bookings.get(id);
        return booking === undefined ? false : change(booking);
      })
      .catch((error: unknown) => {
        context.logger.warn({ err: error, bookingId: id }, `${what} not written; retried next tick`);
        return false;
      }),
  );
  return changed.filter(Boolean).length;
}

/**
 * {@link changeEach} for the bookings due for the time rule at `now` (ActiveBookings.due); each is asked again under
 * its lock (another change may have come first), and `change` runs only while it is still due. A booking whose change
 * failed goes back in the rule's queue, so the next tick tries it again.
 */
export function changeDue(
  context: DispatchContext,
  rule: DeadlineName,
  now: number,
  what: string,
  change: (booking: Booking) => Promise<void>,
): Promise<number> {
  const { bookings } = context;
  const ids = bookings.due(rule, now).map((booking) => booking.id);
  return changeEach(context, ids, what, async (booking) => {
    if (!bookings.isDue(rule, booking, now)) return false;
    try {
      await change(booking);
    } catch (error) {
      bookings.requeue(rule, booking.id);
      throw error;
    }
    return true;
  });
}
