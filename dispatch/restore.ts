/**
 * Picking up after a restart: the store is the truth about bookings, the fleet snapshot may be older than it (taken
 * before an offer, or during a visit that has ended since). The active bookings are loaded back into memory — the
 * queue of searching ones, the pending offers with their deadlines (one that lapsed while the engine was down lapses
 * at the first tick), the doctors they hold and the signals already raised — and the fleet's statuses are put in step.
 * The look-ahead matcher learns its visit durations again from the latest completed visits.
 */
import type { CompletedVisit } from './booking-repository.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { matcherMemoryOf } from './matcher-memory.ts';

/** What {@link restoreBookings} found. */
export interface RestoreSummary {
  bookings: number;
  searching: number;
  offers: number;
  doctorsHeld: number;
  /** Doctors whose fleet status was checked or changed (held ones, and free ones left in a dispatch status). */
  doctorsSynced: number;
  /** Completed visits the look-ahead matcher learnt its visit durations from. */
  visitsLearnt: number;
}

/** Completed visits read at a restart: as many as the matcher keeps (500 per call type) for the four call types. */
export const VISITS_LEARNT_AT_RESTORE = 2_000;

/**
 * Loads the active bookings into an empty memory at time `now` and puts the fleet in step.
 *
 * @throws the store's error when it cannot be read; memory is unchanged then.
 */
export async function restoreBookings(context: DispatchContext, now: number): Promise<RestoreSummary> {
  const rows = await context.store.loadActive();
  const { bookings, scorer } = context;
  let searching = 0;
  let offers = 0;
  for (const { booking, marks } of rows) {
    bookings.put(booking, now);
    if (marks.slaBreachedAt !== undefined) bookings.mark(booking.id, 'slaBreachedAt', marks.slaBreachedAt);
    if (marks.escalatedAt !== undefined) bookings.mark(booking.id, 'escalatedAt', marks.escalatedAt);
    if (booking.status === 'searching') searching++;
    if (booking.status === 'offered') offers++;
  }
  // Fairness remembers recent visits in memory only; the active bookings' assignments are the part that survives.
  const assignedAt = rows
    .flatMap(({ booking }) =>
      booking.doctorId !== undefined && booking.assignedAt !== undefined
        ? [{ doctorId: booking.doctorId, at: booking.assignedAt }]
        : [],
    )
    .sort((a, b) => a.at - b.at);
  for (const { doctorId, at } of assignedAt) scorer.recordVisit(doctorId, at);
  let doctorsHeld = 0;
  for (const _holding of bookings.holdings()) doctorsHeld++;
  const doctorsSynced = context.sync.syncAll(now);
  const visitsLearnt = await learnVisitDurations(context);
  return { bookings: rows.length, searching, offers, doctorsHeld, doctorsSynced, visitsLearnt };
}

/**
 * Gives the look-ahead matcher the durations of the latest completed visits, oldest first as if it had seen them end,
 * so that a restart does not send it back to the tariff's estimates for hours. Returns how many; 0 when nothing
 * looks ahead (greedy matching, or the look-ahead off).
 */
async function learnVisitDurations(context: DispatchContext): Promise<number> {
  const { settings } = context;
  if (settings.matching !== 'batched' || settings.lookAheadMs <= 0) return 0;
  const memory = matcherMemoryOf(context);
  const visits = await context.store.recentVisits(VISITS_LEARNT_AT_RESTORE);
  for (let i = visits.length - 1; i >= 0; i--) {
    const visit = visits[i] as CompletedVisit;
    memory.durations.record(visit.callType, visit.durationMs);
  }
  return visits.length;
}
