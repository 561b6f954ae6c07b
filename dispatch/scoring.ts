/**
 * The cost of giving a booking to a candidate doctor, in seconds so that every term reads as "this much extra driving
 * is worth it": cost = ETA + rating term + fairness term. The matcher minimises the sum of costs over a batch, so the
 * weights say how many seconds of a patient's wait each preference may buy.
 */

/** The weights of {@link Scorer}. */
export interface ScoringWeights {
  /**
   * Seconds per rating star below 5. Default 60: a 4-star doctor must be a minute closer than a 5-star one to be
   * preferred, a 3-star one two minutes. Small against typical city ETAs (10–30 min) on purpose: ratings are noisy
   * and few, and the product's first promise is arrival time; a minute is still enough to break near-ties in favour
   * of the better-rated doctor.
   */
  ratingSecondsPerStar: number;
  /** The rating assumed for a doctor without one. Default 4: a new doctor is neither favoured nor pushed aside. */
  unratedRating: number;
  /**
   * Seconds per visit the doctor was given within {@link fairnessWindowMs}. Default 120: a doctor who already had
   * three visits in the window loses near-ties (up to 6 min of driving) to an idle colleague, which spreads work and
   * income over the shift without sending anyone across town.
   */
  fairnessSecondsPerVisit: number;
  /** How far back visits count for fairness, ms. Default 4 h: about half a shift. */
  fairnessWindowMs: number;
}

/** The defaults explained on {@link ScoringWeights}. */
export const DEFAULT_SCORING: ScoringWeights = {
  ratingSecondsPerStar: 60,
  unratedRating: 4,
  fairnessSecondsPerVisit: 120,
  fairnessWindowMs: 4 * 3_600_000,
};

/** What a cost is computed from. */
export interface CostInput {
  doctorId: string;
  etaSeconds: number;
  rating?: number;
}

/**
 * Costs of candidates, and the memory of recent visits the fairness term needs (in process: after a restart the
 * dispatcher seeds it from the active bookings' assignments). Emergencies are costed by ETA alone: for a
 * life-threatening or urgent call minutes outweigh ratings and load balance.
 */
export class Scorer {
  /** Assignment times per doctor, oldest first. */
  private readonly visits = new Map<string, number[]>();

  constructor(readonly weights: ScoringWeights = DEFAULT_SCORING) {}

  /** Cost in seconds of giving a booking (emergency or not) to the candidate at time `now`; finite and ≥ 0. */
  cost(candidate: CostInput, emergency: boolean, now: number): number {
    const eta = Math.max(0, candidate.etaSeconds);
    if (emergency) return eta;
    const { ratingSecondsPerStar, unratedRating, fairnessSecondsPerVisit } = this.weights;
    const rating = Math.min(5, Math.max(0, candidate.rating ?? unratedRating));
    return (
      eta +
      ratingSecondsPerStar * (5 - rating) +
      fairnessSecondsPerVisit * this.recentVisits(candidate.doctorId, now)
    );
  }

  /** Records that the doctor was given a visit at `at`. */
  recordVisit(doctorId: string, at: number): void {
    const times = this.visits.get(doctorId);
    if (times === undefined) this.visits.set(doctorId, [at]);
    else times.push(at);
  }

  /** Visits the doctor was given within the fairness window before `now`. */
  recentVisits(doctorId: string, now: number): number {
    const times = this.visits.get(doctorId);
    if (times === undefined) return 0;
    const since = now - this.weights.fairnessWindowMs;
    let stale = 0;
    while (stale < times.length && (times[stale] as number) <= since) stale++;
    if (stale > 0) times.splice(0, stale);
    if (times.length === 0) this.visits.delete(doctorId);
    return times.length;
  }
}
