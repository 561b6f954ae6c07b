import { afterEach, describe, expect, it, vi } from 'vitest';
import { TotError } from '../../../geo/errors.ts';
import {
  CitySimulator,
  MOSCOW_BOX,
  SPECIALIZATIONS,
  startSimulator,
  type SimStep,
  type SimulatorOptions,
} from '../../../engine/simulator/index.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** 2025-01-15 05:00 UTC = 08:00 in Moscow. */
const MORNING = Date.UTC(2025, 0, 15, 5, 0);

/** Steps `sim` from `start` every `stepMs` for `durationMs` and concatenates what it reported. */
function run(sim: CitySimulator, start: number, durationMs: number, stepMs: number): SimStep {
  const all: SimStep = { fixes: [], readings: [], duty: [] };
  for (let t = start; t <= start + durationMs; t += stepMs) {
    const step = sim.step(t);
    all.fixes.push(...step.fixes);
    all.readings.push(...step.readings);
    all.duty.push(...step.duty);
  }
  return all;
}

function small(options: SimulatorOptions = {}): CitySimulator {
  return new CitySimulator({ doctors: 200, detectors: 40, ...options });
}

describe('CitySimulator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = run(small({ seed: 7 }), MORNING, 5 * MINUTE, SECOND);
    const b = run(small({ seed: 7 }), MORNING, 5 * MINUTE, SECOND);
    const c = run(small({ seed: 8 }), MORNING, 5 * MINUTE, SECOND);
    expect(a.fixes.length).toBeGreaterThan(1000);
    expect(b).toEqual(a);
    expect(c.fixes).not.toEqual(a.fixes);
    expect(small({ seed: 7 }).doctors()).toEqual(small({ seed: 7 }).doctors());
  });

  it('gives the same records however the time is sliced into steps', () => {
    const fine = run(small(), MORNING, 10 * MINUTE, SECOND);
    const coarse = run(small(), MORNING, 10 * MINUTE, MINUTE);
    const byKey = (step: SimStep): Map<string, SimStep['fixes'][number]> =>
      new Map(step.fixes.map((fix) => [`${fix.doctorId}/${fix.seq}`, fix]));
    const fineFixes = byKey(fine);
    const coarseFixes = byKey(coarse);
    expect([...coarseFixes.keys()].sort()).toEqual([...fineFixes.keys()].sort());
    let largestShift = 0;
    for (const [key, fix] of coarseFixes) {
      const other = fineFixes.get(key)!;
      expect(fix.ts).toBe(other.ts);
      largestShift = Math.max(largestShift, Math.abs(fix.lat - other.lat), Math.abs(fix.lng - other.lng));
    }
    // Only floating-point rounding differs: splitting a straight move in two adds and multiplies in another order.
    expect(largestShift).toBeLessThan(1e-9);
    const sorted = <T extends { ts: number }>(records: T[], id: (record: T) => string): T[] =>
      [...records].sort((a, b) => a.ts - b.ts || id(a).localeCompare(id(b)));
    expect(sorted(coarse.duty, (d) => d.doctorId)).toEqual(sorted(fine.duty, (d) => d.doctorId));
    expect(sorted(coarse.readings, (r) => r.detectorId)).toEqual(sorted(fine.readings, (r) => r.detectorId));
  });

  it('keeps every position inside the box', () => {
    const sim = small({ doctors: 300, tripKm: [5, 40] });
    const { fixes, readings } = run(sim, MORNING, 30 * MINUTE, 10 * SECOND);
    const inside = (p: { lat: number; lng: number }): boolean =>
      p.lat >= MOSCOW_BOX.minLat &&
      p.lat <= MOSCOW_BOX.maxLat &&
      p.lng >= MOSCOW_BOX.minLng &&
      p.lng <= MOSCOW_BOX.maxLng;
    expect(fixes.length).toBeGreaterThan(10_000);
    expect(fixes.every(inside)).toBe(true);
    expect(readings.every(inside)).toBe(true);
    expect(sim.doctors().every(inside)).toBe(true);
    expect(sim.clinics().every(inside)).toBe(true);
    expect(sim.detectors().every(inside)).toBe(true);
  });

  it('sends fixes with strictly increasing ts and seq per doctor, every 1–5 s while on duty', () => {
    const sim = small({ offDutyPerHour: 0.5 });
    const { fixes, duty } = run(sim, MORNING, HOUR, 5 * SECOND);
    const dutyTimes = new Map<string, number[]>();
    for (const change of duty)
      dutyTimes.set(change.doctorId, [...(dutyTimes.get(change.doctorId) ?? []), change.ts]);
    const last = new Map<string, { ts: number; seq: number }>();
    const problems: string[] = [];
    let gaps = 0;
    let minGap = Infinity;
    let maxGap = 0;
    // Plain comparisons and one expect at the end: 100k+ expect() calls would dominate the test's run time.
    for (const fix of fixes) {
      if (!Number.isInteger(fix.ts)) problems.push(`non-integer ts ${fix.ts}`);
      const previous = last.get(fix.doctorId);
      if (previous === undefined) {
        if (fix.seq !== 1) problems.push(`${fix.doctorId} starts at seq ${fix.seq}`);
      } else {
        if (fix.ts <= previous.ts) problems.push(`${fix.doctorId} ts ${fix.ts} after ${previous.ts}`);
        if (fix.seq !== previous.seq + 1)
          problems.push(`${fix.doctorId} seq ${fix.seq} after ${previous.seq}`);
        const interruptedByDuty = (dutyTimes.get(fix.doctorId) ?? []).some(
          (t) => t > previous.ts && t <= fix.ts,
        );
        if (!interruptedByDuty) {
          minGap = Math.min(minGap, fix.ts - previous.ts);
          maxGap = Math.max(maxGap, fix.ts - previous.ts);
          gaps += 1;
        }
      }
      last.set(fix.doctorId, { ts: fix.ts, seq: fix.seq });
    }
    expect(problems).toEqual([]);
    expect(minGap).toBeGreaterThanOrEqual(1000);
    expect(maxGap).toBeLessThanOrEqual(5000);
    // The whole range is used, not just a corner of it.
    expect(minGap).toBeLessThan(1100);
    expect(maxGap).toBeGreaterThan(4900);
    expect(gaps).toBeGreaterThan(100_000);
  });

  it('honours a configured fix interval on average', () => {
    const sim = small({ doctors: 100, onDutyShare: 1, fixIntervalMs: [2000, 2000] });
    const { fixes } = run(sim, MORNING, 10 * MINUTE, SECOND);
    // Every doctor on duty, one fix every 2 s from a random first offset in [0, 2 s): 300 or 301 fixes in 10 min.
    expect(fixes.length).toBeGreaterThanOrEqual(100 * 300);
    expect(fixes.length).toBeLessThanOrEqual(100 * 301);
    const gaps = new Set<number>();
    const last = new Map<string, number>();
    for (const fix of fixes) {
      const previous = last.get(fix.doctorId);
      if (previous !== undefined) gaps.add(fix.ts - previous);
      last.set(fix.doctorId, fix.ts);
    }
    expect([...gaps]).toEqual([2000]);
  });

  it('fills the fix fields within their documented ranges', () => {
    const { fixes } = run(small(), MORNING, 10 * MINUTE, 5 * SECOND);
    const outOfRange = fixes.filter(
      (fix) =>
        !/^doc-\d{6}$/.test(fix.doctorId) ||
        fix.accuracy < 3 ||
        fix.accuracy > 20 ||
        fix.speed < 0 ||
        fix.speed >= 150 ||
        fix.heading < 0 ||
        fix.heading >= 360 ||
        !Number.isInteger(fix.battery) ||
        fix.battery < 0 ||
        fix.battery > 100,
    );
    expect(fixes.length).toBeGreaterThan(10_000);
    expect(outOfRange).toEqual([]);
    const moving = fixes.filter((fix) => fix.speed > 0);
    expect(moving.length).toBeGreaterThan(fixes.length / 10);
    // Driving at city speeds: between a crawl and the fastest hour of the profile with a brisk driver.
    const meanKmh = (moving.reduce((sum, fix) => sum + fix.speed, 0) / moving.length) * 3.6;
    expect(meanKmh).toBeGreaterThan(10);
    expect(meanKmh).toBeLessThan(60);
  });

  it('shows lower detector speeds at rush hour than at night', () => {
    const mean = (readings: SimStep['readings']): number =>
      readings.reduce((sum, reading) => sum + reading.speedKmh, 0) / readings.length;
    const night = run(
      new CitySimulator({ doctors: 0, detectors: 200 }),
      Date.UTC(2025, 0, 15, 0, 0),
      30 * MINUTE,
      MINUTE,
    );
    const rush = run(
      new CitySimulator({ doctors: 0, detectors: 200 }),
      Date.UTC(2025, 0, 15, 15, 0),
      30 * MINUTE,
      MINUTE,
    );
    expect(night.readings.length).toBeGreaterThan(200 * 25);
    expect(mean(rush.readings)).toBeLessThan(0.7 * mean(night.readings));
    const outOfRange = [...night.readings, ...rush.readings].filter(
      (reading) =>
        !/^det-\d{4}$/.test(reading.detectorId) ||
        !(reading.speedKmh > 0 && reading.speedKmh <= 250) ||
        reading.volume < 0 ||
        !(reading.occupancy >= 0 && reading.occupancy <= 100),
    );
    expect(outOfRange).toEqual([]);
  });

  it('reports each detector every 30–60 s', () => {
    const { readings } = run(small({ doctors: 0 }), MORNING, 20 * MINUTE, 7 * SECOND);
    const last = new Map<string, number>();
    for (const reading of readings) {
      const previous = last.get(reading.detectorId);
      if (previous !== undefined) {
        expect(reading.ts - previous).toBeGreaterThanOrEqual(30_000);
        expect(reading.ts - previous).toBeLessThanOrEqual(60_000);
      }
      last.set(reading.detectorId, reading.ts);
    }
    expect(last.size).toBe(40);
  });

  it('sends doctors off and on duty, keeping about the configured share on duty', () => {
    const sim = new CitySimulator({
      doctors: 500,
      detectors: 0,
      offDutyPerHour: 0.3,
      fixIntervalMs: [60_000, 60_000],
    });
    const { duty } = run(sim, MORNING, 3 * HOUR, MINUTE);
    const off = duty.filter((change) => !change.onDuty).length;
    const on = duty.filter((change) => change.onDuty).length;
    // Expected ≈ 400 on duty × 0.3 per hour × 3 h ≈ 360 departures and as many returns.
    expect(off).toBeGreaterThan(150);
    expect(on).toBeGreaterThan(150);
    const share = sim.doctors().filter((doctor) => doctor.onDuty).length / 500;
    expect(share).toBeGreaterThan(0.65);
    expect(share).toBeLessThan(0.95);
  });

  it('reports no statuses: a step has fixes, readings and duty changes only', () => {
    const step = small().step(MORNING);
    expect(Object.keys(step).sort()).toEqual(['duty', 'fixes', 'readings']);
  });

  it('neither moves nor reports a held doctor, nor sends them off duty while held', () => {
    const sim = small({ doctors: 50, onDutyShare: 0.99, offDutyPerHour: 0.9 });
    sim.step(MORNING);
    const id = 'doc-000007';
    const taken = sim.hold(id);
    expect(sim.doctors().find((doctor) => doctor.doctorId === id)!.held).toBe(true);
    expect(sim.hold(id)).toEqual(taken);
    const during = run(sim, MORNING + SECOND, 2 * HOUR, MINUTE);
    expect(during.fixes.filter((fix) => fix.doctorId === id)).toEqual([]);
    expect(during.duty.filter((change) => change.doctorId === id)).toEqual([]);
    // Others do go off duty at this rate: the hold is what kept this doctor on.
    expect(during.duty.filter((change) => !change.onDuty).length).toBeGreaterThan(10);
    const still = sim.doctors().find((doctor) => doctor.doctorId === id)!;
    expect([still.lat, still.lng, still.onDuty]).toEqual([taken.lat, taken.lng, true]);
    // The shift that ended meanwhile ends at the release, not back when it was due.
    const now = sim.now!;
    sim.release(id, taken);
    const left = run(sim, now + SECOND, MINUTE, SECOND).duty.filter((change) => change.doctorId === id);
    expect(left[0]).toEqual({ doctorId: id, onDuty: false, ts: now });
  });

  it("resumes a released doctor where the holder left them, after the holder's last fix", () => {
    const sim = small({ doctors: 50, onDutyShare: 1 });
    sim.step(MORNING);
    const id = 'doc-000007';
    const taken = sim.hold(id);
    run(sim, MORNING + SECOND, HOUR, MINUTE);

    // The holder drove the doctor elsewhere and sent fixes up to seq 40 at the last step's time.
    const now = sim.now!;
    const place = { lat: 55.75, lng: 37.62 };
    sim.release(id, { ...place, lastFixAt: now, seq: taken.seq + 40 });
    const released = sim.doctors().find((doctor) => doctor.doctorId === id)!;
    expect(released.held).toBe(false);
    expect(released.lat).toBeCloseTo(place.lat, 9);
    expect(released.lng).toBeCloseTo(place.lng, 9);
    const after = run(sim, now + SECOND, 10 * MINUTE, SECOND).fixes.filter((fix) => fix.doctorId === id);
    expect(after.length).toBeGreaterThan(0);
    expect(after[0]!.ts).toBeGreaterThan(now);
    expect(after[0]!.seq).toBe(taken.seq + 41);
    expect(Math.abs(after[0]!.lat - place.lat)).toBeLessThan(0.01);
    expect(Math.abs(after[0]!.lng - place.lng)).toBeLessThan(0.01);
  });

  it('sends a doctor taken while off duty back off duty when released', () => {
    const sim = small({ doctors: 200 });
    sim.step(MORNING);
    const off = sim.doctors().find((doctor) => !doctor.onDuty)!;
    const taken = sim.hold(off.doctorId);
    expect(sim.doctors().find((doctor) => doctor.doctorId === off.doctorId)!.onDuty).toBe(false);
    sim.release(off.doctorId, taken);
    const after = run(sim, MORNING + SECOND, MINUTE, SECOND);
    expect(after.fixes.filter((fix) => fix.doctorId === off.doctorId)).toEqual([]);
    expect(sim.doctors().find((doctor) => doctor.doctorId === off.doctorId)!.onDuty).toBe(false);
  });

  it('refuses to hold or release a doctor it does not simulate', () => {
    const sim = small();
    expect(() => sim.hold('doc-999999')).toThrow(TotError);
    expect(() => sim.release('nobody', { lat: 55.7, lng: 37.6, lastFixAt: 0, seq: 0 })).toThrow(
      /doctorId "nobody" is not a simulated doctor/,
    );
    expect(sim.has('doc-000001')).toBe(true);
    expect(sim.has('doc-999999')).toBe(false);
  });

  it('builds a roster of doctors with plausible profiles', () => {
    const roster = small().doctors();
    expect(roster).toHaveLength(200);
    expect(roster[0]!.doctorId).toBe('doc-000001');
    expect(new Set(roster.map((doctor) => doctor.doctorId)).size).toBe(200);
    const clinics = new Set(
      small()
        .clinics()
        .map((clinic) => clinic.clinicId),
    );
    for (const doctor of roster) {
      expect(doctor.specializations.length).toBeGreaterThanOrEqual(1);
      for (const specialization of doctor.specializations) expect(SPECIALIZATIONS).toContain(specialization);
      expect(clinics.has(doctor.clinicId)).toBe(true);
      expect(doctor.rating).toBeGreaterThanOrEqual(3.5);
      expect(doctor.rating).toBeLessThanOrEqual(5);
      expect(doctor.held).toBe(false);
    }
    const onDuty = roster.filter((doctor) => doctor.onDuty).length / roster.length;
    expect(onDuty).toBeGreaterThan(0.7);
    expect(onDuty).toBeLessThan(0.9);
  });

  it('rejects time going backwards and bad options with coded errors', () => {
    const sim = small();
    sim.step(MORNING);
    expect(() => sim.step(MORNING - 1)).toThrow(TotError);
    expect(() => sim.step(Number.NaN)).toThrow(/now must be a finite number/);
    expect(() => new CitySimulator({ doctors: -1 })).toThrow(/simulator\.doctors must be an integer/);
    expect(() => new CitySimulator({ fixIntervalMs: [5000, 1000] })).toThrow(TotError);
    expect(() => new CitySimulator({ box: { minLat: 56, maxLat: 55, minLng: 37, maxLng: 38 } })).toThrow(
      /simulator\.box/,
    );
  });
});

describe('startSimulator', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('steps on a timer at the configured speed-up and stops cleanly', async () => {
    vi.useFakeTimers();
    let wall = 1_000_000;
    const sim = small({ doctors: 50 });
    const times: number[] = [];
    let fixes = 0;
    const handle = startSimulator(
      sim,
      (step, now) => {
        times.push(now);
        fixes += step.fixes.length;
      },
      { intervalMs: 100, speedUp: 10, startAt: MORNING, clock: () => wall },
    );
    // Let the first step finish (and schedule the next) before the clock moves.
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 10; i += 1) {
      wall += 100;
      await vi.advanceTimersByTimeAsync(100);
    }
    await handle.stop();
    expect(handle.steps).toBe(11);
    expect(handle.errors).toBe(0);
    expect(times[0]).toBe(MORNING);
    expect(times.at(-1)).toBe(MORNING + 10 * 100 * 10);
    expect(fixes).toBeGreaterThan(0);
    const after = handle.steps;
    await vi.advanceTimersByTimeAsync(1000);
    expect(handle.steps).toBe(after);
  });

  it('counts and reports publisher failures and keeps going', async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    const handle = startSimulator(
      small({ doctors: 5 }),
      () => {
        throw new Error('bus down');
      },
      { intervalMs: 50, onError: (error) => errors.push(error) },
    );
    await vi.advanceTimersByTimeAsync(120);
    await handle.stop();
    expect(handle.errors).toBe(3);
    expect(errors).toHaveLength(3);
    expect(handle.steps).toBe(0);
  });
});
