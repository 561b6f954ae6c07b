import { describe, expect, it } from 'vitest';
import { PRIOR_SPREAD, VisitDurations, uniformRemainingMs } from '../../../dispatch/visit-durations.ts';

const MINUTE = 60_000;

describe('visit durations', () => {
  it('spreads the estimate evenly over ± half of it until visits are known', () => {
    expect(PRIOR_SPREAD).toBe(0.5);
    const durations = new VisitDurations();
    // A 40-minute estimate: visits taken as 20–60 min. Just begun: 40 min to go; after 30 min: (60 − 30) / 2.
    expect(durations.remainingMs('home_visit', 0, 40 * MINUTE)).toBe(40 * MINUTE);
    expect(durations.remainingMs('home_visit', 10 * MINUTE, 40 * MINUTE)).toBe(30 * MINUTE);
    expect(durations.remainingMs('home_visit', 30 * MINUTE, 40 * MINUTE)).toBe(15 * MINUTE);
    // Past the longest a visit was thought to last, nobody can say when it ends.
    expect(durations.remainingMs('home_visit', 60 * MINUTE, 40 * MINUTE)).toBeUndefined();
    expect(uniformRemainingMs(10, 30, 5)).toBe(15);
  });

  it('gives the mean residual of the visits seen once there are enough of them', () => {
    const durations = new VisitDurations({ minSamples: 5, minLonger: 2 });
    for (let minutes = 10; minutes <= 100; minutes += 10) durations.record('home_visit', minutes * MINUTE);
    expect(durations.count('home_visit')).toBe(10);
    // Begun 35 min ago: the visits longer than that lasted 40…100 min, 70 on average, so 35 min are left.
    expect(durations.remainingMs('home_visit', 35 * MINUTE, 40 * MINUTE)).toBe(35 * MINUTE);
    // The estimate no longer matters: 5 min in, the visits of 10…100 min average 55.
    expect(durations.remainingMs('home_visit', 5 * MINUTE, 1 * MINUTE)).toBe(50 * MINUTE);
    // Only one visit (100 min) lasted longer than 95 min: too few to say.
    expect(durations.remainingMs('home_visit', 95 * MINUTE, 40 * MINUTE)).toBeUndefined();
    // Another call type has seen nothing and still uses its estimate.
    expect(durations.remainingMs('consultation', 0, 20 * MINUTE)).toBe(20 * MINUTE);
  });

  it('keeps only the latest visits and ignores impossible durations', () => {
    const durations = new VisitDurations({ capacity: 3, minSamples: 3, minLonger: 1 });
    for (const minutes of [1, 2, 3, 100]) durations.record('urgent_visit', minutes * MINUTE);
    durations.record('urgent_visit', -5);
    durations.record('urgent_visit', Number.NaN);
    expect(durations.count('urgent_visit')).toBe(3);
    // The 1-minute visit fell out: the mean of 2, 3 and 100 minutes.
    expect(durations.remainingMs('urgent_visit', 0, 0)).toBe(35 * MINUTE);
  });

  it('refuses options that are not whole numbers ≥ 1', () => {
    expect(() => new VisitDurations({ capacity: 0 })).toThrow(/capacity must be a whole number ≥ 1, got 0/);
    expect(() => new VisitDurations({ minLonger: 1.5 })).toThrow(/minLonger/);
  });
});
