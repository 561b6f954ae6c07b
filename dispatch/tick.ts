/**
 * One tick of the dispatcher at time `now`, in the order the rules depend on each other: offers lapse and offline
 * doctors lose their bookings first (their bookings search again in this same tick), scheduled bookings start and
 * depart, searches past their timeout end before anyone tries to match them (and bookings left without a doctor for a
 * day are cancelled), emergencies are matched one by one
 * before the others (so that a batch cannot take the doctor an emergency needs), then the greedy or batched matching,
 * SLA breaches, doctors out of step, and the events go out.
 */
import type { DispatchContext } from './dispatch-context.ts';
import { matchEmergency } from './emergency.ts';
import { isDue, matchBatch, matchGreedy, type BatchOutcome } from './matching.ts';
import { lapseOffers } from './offers.ts';
import { rematchEnRoute } from './rematch.ts';
import { urgentWork } from './time-slice.ts';
import {
  checkSla,
  departScheduled,
  expireSearches,
  expireUnmatched,
  releaseOfflineDoctors,
  startScheduled,
} from './timers.ts';

/** What one {@link Dispatcher.tick} did. */
export interface TickSummary {
  now: number;
  offersLapsed: number;
  offlineReleased: number;
  scheduledStarted: number;
  departed: number;
  searchesExpired: number;
  /** Bookings cancelled after a day in no_doctor_found (timers.ts expireUnmatched). */
  unmatchedExpired: number;
  emergenciesTried: number;
  greedyOffered: number;
  batch: BatchOutcome | undefined;
  /** En-route routine bookings offered to a nearer doctor (rematch.ts). */
  rematched: number;
  slaBreaches: number;
}

/** Runs everything due at `now`; see the top of this file for the order. */
export async function runTick(context: DispatchContext, now: number): Promise<TickSummary> {
  const offersLapsed = await lapseOffers(context, now);
  const offlineReleased = await releaseOfflineDoctors(context, now);
  const scheduledStarted = await startScheduled(context, now);
  const departed = await departScheduled(context, now);
  const searchesExpired = await expireSearches(context, now);
  const unmatchedExpired = await expireUnmatched(context, now);
  let emergenciesTried = 0;
  for (const booking of context.bookings.searching()) {
    if (!booking.emergency || !isDue(context, booking, now)) continue;
    // Urgent work, as at its creation (time-slice.ts): the group commit's answers give way to it.
    await urgentWork.run(() => matchEmergency(context, booking.id, now));
    emergenciesTried++;
  }
  let greedyOffered = 0;
  let batch: BatchOutcome | undefined;
  if (context.settings.matching === 'greedy') {
    for (const booking of context.bookings.searching()) {
      if (booking.emergency || !isDue(context, booking, now)) continue;
      if (await matchGreedy(context, booking, now)) greedyOffered++;
    }
  } else {
    batch = await matchBatch(context, now);
  }
  const rematched = await rematchEnRoute(context, now);
  const slaBreaches = await checkSla(context, now);
  context.sync.retry(now);
  await context.outbox.flush();
  return {
    now,
    offersLapsed,
    offlineReleased,
    scheduledStarted,
    departed,
    searchesExpired,
    unmatchedExpired,
    emergenciesTried,
    greedyOffered,
    batch,
    rematched,
    slaBreaches,
  };
}
