/**
 * Matching searching bookings to doctors. Batched: every non-emergency searching when the batch is due goes into one
 * assignment problem (bookings × their candidates), solved exactly by the injected solver, so that two bookings
 * contesting a doctor are resolved for the least total cost rather than first come first served. Its candidates are
 * the free doctors and the doctors about to finish a visit (look-ahead.ts: a booking given one waits for them), each
 * costed with what taking them leaves uncovered (coverage.ts); en-route bookings are given to a much nearer doctor who
 * came free (rematch.ts, from the tick). Greedy: one booking at a time takes its cheapest free candidate — the
 * nearest-first baseline, none of the above. Either way a match becomes an offer (offers.ts); a booking left without
 * one is tried again one batch window later.
 */
import { problemFromCandidates, type CandidateRow } from './assignment.ts';
import type { Booking } from './booking-types.ts';
import { findCandidates, type Candidate } from './candidates.ts';
import { CoverageGaps } from './coverage.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { REPLAN_EVERY_MS, SoonFreeDoctors } from './look-ahead.ts';
import { matcherMemoryOf } from './matcher-memory.ts';
import { offerTo } from './offers.ts';
import { startInSlices, TimeSlice } from './time-slice.ts';

/** The candidates of a booking under the settings, leaving out doctors held or reserved by other bookings. */
export function candidatesOf(context: DispatchContext, booking: Booking, now: number): Candidate[] {
  const { settings, bookings } = context;
  return findCandidates(
    context.live,
    context.scorer,
    booking,
    now,
    {
      k: settings.candidates,
      maxKm: settings.maxKm,
      maxEtaSeconds: settings.maxEtaSeconds,
      eta: settings.eta,
    },
    (doctorId) => !bookings.isFree(doctorId),
  );
}

/** Whether a searching booking's next try has come. */
export function isDue(context: DispatchContext, booking: Booking, now: number): boolean {
  return booking.status === 'searching' && (context.bookings.attemptAt(booking.id) ?? now) <= now;
}

/** Puts off a booking's next try by one batch window. */
export function retryLater(context: DispatchContext, booking: Booking, now: number): void {
  context.bookings.deferAttempt(booking.id, now + context.settings.batchWindowMs);
}

/**
 * The cost of leaving a booking of `priority` unmatched in a batch whose dearest candidate costs `maxCost`: `unit` =
 * maxCost + 1 times (6 − priority). Every row then prefers any of its doctors to none (unit > every cost), and a more
 * urgent row wins a contested doctor: leaving it out costs one unit more than leaving out a row one category below,
 * and no difference of two candidate costs reaches a unit.
 */
export function unassignedCost(priority: number, maxCost: number): number {
  return (maxCost + 1) * (6 - priority);
}

/** What one batch did. */
export interface BatchOutcome {
  /** Bookings in the problem (those with at least one candidate). */
  rows: number;
  /** Distinct candidate doctors. */
  cols: number;
  /** Offers written. */
  offered: number;
  /** Bookings left waiting for a doctor about to finish a visit (look-ahead.ts). */
  planned: number;
  solveSeconds: number;
}

/**
 * Runs one batch over every searching non-emergency when at least one of them is due, or a doctor a booking waits for
 * came free; undefined otherwise. Each booking's candidates are its free doctors and, with the look-ahead on, the
 * doctors about to finish a visit, with the coverage term added to their costs; a booking given one of the latter is
 * planned (it keeps searching and is planned again within {@link REPLAN_EVERY_MS}), the others are offered their
 * doctor. Offers are written in parallel; a booking whose doctor was taken meanwhile (an emergency, a dispatcher)
 * waits for the next batch. The candidate search and the start of the offers run in time slices (time-slice.ts).
 */
export async function matchBatch(context: DispatchContext, now: number): Promise<BatchOutcome | undefined> {
  const searching = context.bookings.searching().filter((booking) => !booking.emergency);
  const memory = matcherMemoryOf(context);
  const freed = memory.plannedDoctorFreed(context);
  if (!freed && !searching.some((booking) => isDue(context, booking, now))) return undefined;
  const columns = new Map<string, number>();
  const doctorIds: string[] = [];
  const entries: { booking: Booking; candidates: Candidate[] }[] = [];
  let maxCost = 0;
  const coverage = new CoverageGaps(context, now);
  const soonFree = new SoonFreeDoctors(context, now);
  // A thousand bookings' candidates take ~100 ms: in slices, so that an emergency's request waits 2 ms, not 100.
  const slice = new TimeSlice();
  for (const booking of searching) {
    await slice.pause();
    const candidates = [...candidatesOf(context, booking, now), ...soonFree.candidatesOf(booking)];
    if (candidates.length === 0) {
      memory.drop(booking.id);
      retryLater(context, booking, now);
      continue;
    }
    coverage.addTo(candidates);
    for (const candidate of candidates) {
      maxCost = Math.max(maxCost, candidate.cost);
      if (!columns.has(candidate.doctorId)) {
        columns.set(candidate.doctorId, doctorIds.length);
        doctorIds.push(candidate.doctorId);
      }
    }
    entries.push({ booking, candidates });
  }
  if (entries.length === 0) return { rows: 0, cols: 0, offered: 0, planned: 0, solveSeconds: 0 };
  const rows: CandidateRow[] = entries.map(({ booking, candidates }) => ({
    cols: candidates.map((candidate) => columns.get(candidate.doctorId) as number),
    costs: candidates.map((candidate) => candidate.cost),
    unassignedCost: unassignedCost(booking.priority, maxCost),
  }));
  const problem = problemFromCandidates(rows, doctorIds.length);
  const started = performance.now();
  const solution = await context.solver.solve(problem);
  const solveSeconds = (performance.now() - started) / 1000;
  context.metrics?.matchingBatchSize.observe(entries.length);
  context.metrics?.matchingSolveSeconds.observe(solveSeconds);
  const settle = async (
    { booking, candidates }: (typeof entries)[number],
    row: number,
  ): Promise<'offered' | 'planned' | 'none'> => {
    const col = solution.rowToCol[row] as number;
    const candidate = col < 0 ? undefined : candidates.find((c) => c.doctorId === doctorIds[col]);
    if (candidate?.freeInSeconds !== undefined) {
      memory.plan(booking.id, candidate, now);
      context.bookings.deferAttempt(
        booking.id,
        now + Math.max(context.settings.batchWindowMs, REPLAN_EVERY_MS),
      );
      return 'planned';
    }
    // An offer to the doctor the booking waited for says so in its history.
    const reason =
      candidate !== undefined && memory.planOf(booking.id)?.doctorId === candidate.doctorId
        ? 'matched:look_ahead'
        : 'matched:batch';
    memory.drop(booking.id);
    const offered = candidate !== undefined && (await offerTo(context, booking.id, candidate, now, reason));
    if (!offered) retryLater(context, booking, now);
    return offered ? 'offered' : 'none';
  };
  // The offers are written in parallel, but started in slices too: a thousand of them take tens of milliseconds.
  const results = await startInSlices(entries, settle);
  return {
    rows: entries.length,
    cols: doctorIds.length,
    offered: results.filter((result) => result === 'offered').length,
    planned: results.filter((result) => result === 'planned').length,
    solveSeconds,
  };
}

/**
 * Offers the booking to its cheapest free candidate, trying the next when one is taken meanwhile. Returns whether an
 * offer was written; when not, the booking is tried again a batch window later.
 */
export async function matchGreedy(context: DispatchContext, booking: Booking, now: number): Promise<boolean> {
  for (const candidate of candidatesOf(context, booking, now)) {
    if (await offerTo(context, booking.id, candidate, now, 'matched:greedy')) return true;
    if (context.bookings.get(booking.id)?.status !== 'searching') return false;
  }
  retryLater(context, booking, now);
  return false;
}
