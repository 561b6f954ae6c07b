/**
 * How long visits take, learnt from the visits the dispatcher saw end: per call type, the durations of the latest
 * visits (start to completion). From them, the expected time still to run of a visit under way — the mean residual
 * life, E[D − e | D > e] for a visit begun e ago — which is what the look-ahead matcher (look-ahead.ts) needs to know
 * when a doctor with a patient will be free. A fixed guess would be wrong twice: a visit that has run long is not
 * "nearly over" (it is one of the long ones), and a visit just begun is not "as long as the average" once the short
 * ones are known to be over.
 */
import type { CallType } from './booking-types.ts';

/** Options of {@link VisitDurations}. */
export interface VisitDurationsOptions {
  /** Latest visits kept per call type. Default 500: a few hours of a busy service, so the model follows the day. */
  capacity?: number;
  /**
   * Visits of a call type needed before the learnt durations are used; below it the booking's own estimate
   * (estimatedDurationMinutes, from the tariff) stands in. Default 30.
   */
  minSamples?: number;
  /**
   * Visits that lasted longer than the elapsed time needed for an answer. Default 5: with fewer, a visit has outlasted
   * nearly everything seen and nobody can say when it ends, so {@link VisitDurations.remainingMs} gives undefined.
   */
  minLonger?: number;
}

/**
 * Until visits of a call type are known, its durations are taken as spread evenly over the estimate ± this share: an
 * estimate is a guess of the mean, and a single point would wrongly make every visit end at the same minute (and give
 * up on a doctor the moment it passes).
 */
export const PRIOR_SPREAD = 0.5;

/** The mean residual of a duration spread evenly over [low, high] after `elapsed`; undefined past `high`. */
export function uniformRemainingMs(low: number, high: number, elapsed: number): number | undefined {
  if (elapsed >= high) return undefined;
  if (elapsed < low) return (low + high) / 2 - elapsed;
  return (high - elapsed) / 2;
}

interface Samples {
  /** Ring buffer of durations, ms. */
  durations: number[];
  next: number;
  /** Sorted copy and suffix sums, rebuilt on the first question after a change. */
  sorted: Float64Array | undefined;
  suffixSums: Float64Array | undefined;
}

/** The learnt visit durations of one dispatcher (in memory; a restart reads them back from the store, restore.ts). */
export class VisitDurations {
  private readonly capacity: number;
  private readonly minSamples: number;
  private readonly minLonger: number;
  private readonly byCallType = new Map<CallType, Samples>();

  /** @throws RangeError for a capacity, minimum of samples or of longer visits that is not a whole number ≥ 1. */
  constructor(options: VisitDurationsOptions = {}) {
    this.capacity = options.capacity ?? 500;
    this.minSamples = options.minSamples ?? 30;
    this.minLonger = options.minLonger ?? 5;
    for (const [name, value] of [
      ['capacity', this.capacity],
      ['minSamples', this.minSamples],
      ['minLonger', this.minLonger],
    ] as const) {
      if (!(Number.isInteger(value) && value >= 1))
        throw new RangeError(`VisitDurations: ${name} must be a whole number ≥ 1, got ${String(value)}`);
    }
  }

  /** Records a visit of `callType` that lasted `durationMs`; a negative or non-finite duration is ignored. */
  record(callType: CallType, durationMs: number): void {
    if (!(Number.isFinite(durationMs) && durationMs >= 0)) return;
    let samples = this.byCallType.get(callType);
    if (samples === undefined) {
      samples = { durations: [], next: 0, sorted: undefined, suffixSums: undefined };
      this.byCallType.set(callType, samples);
    }
    if (samples.durations.length < this.capacity) samples.durations.push(durationMs);
    else samples.durations[samples.next] = durationMs;
    samples.next = (samples.next + 1) % this.capacity;
    samples.sorted = undefined;
    samples.suffixSums = undefined;
  }

  /** Visits of the call type currently kept. */
  count(callType: CallType): number {
    return this.byCallType.get(callType)?.durations.length ?? 0;
  }

  /**
   * Expected ms still to run of a visit of `callType` begun `elapsedMs` ago: the mean of (d − elapsed) over the kept
   * durations d longer than `elapsedMs`. With fewer than minSamples kept, the same for durations spread evenly over
   * `estimateMs` ± {@link PRIOR_SPREAD}. Undefined when the visit has outlasted what is known (fewer than minLonger
   * longer visits, or past the spread of the estimate): such a doctor is not counted on.
   */
  remainingMs(callType: CallType, elapsedMs: number, estimateMs: number): number | undefined {
    const elapsed = Math.max(0, elapsedMs);
    const samples = this.byCallType.get(callType);
    if (samples === undefined || samples.durations.length < this.minSamples) {
      return uniformRemainingMs(estimateMs * (1 - PRIOR_SPREAD), estimateMs * (1 + PRIOR_SPREAD), elapsed);
    }
    if (samples.sorted === undefined || samples.suffixSums === undefined) {
      samples.sorted = Float64Array.from(samples.durations).sort();
      samples.suffixSums = new Float64Array(samples.sorted.length + 1);
      for (let i = samples.sorted.length - 1; i >= 0; i--) {
        samples.suffixSums[i] = (samples.suffixSums[i + 1] as number) + (samples.sorted[i] as number);
      }
    }
    const { sorted, suffixSums } = samples;
    // First index whose duration exceeds the elapsed time.
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((sorted[middle] as number) > elapsed) high = middle;
      else low = middle + 1;
    }
    const longer = sorted.length - low;
    if (longer < this.minLonger) return undefined;
    return (suffixSums[low] as number) / longer - elapsed;
  }
}
