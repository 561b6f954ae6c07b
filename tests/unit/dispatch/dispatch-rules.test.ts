import { describe, expect, it } from 'vitest';
import { checkActor, checkBookingRequest } from '../../../dispatch/booking-request.ts';
import type { BookingRequest } from '../../../dispatch/booking-types.ts';
import { resolveDispatchSettings, settingsFromConfig } from '../../../dispatch/dispatch-settings.ts';
import { statusPath } from '../../../dispatch/doctor-sync.ts';
import { KeyedMutex } from '../../../dispatch/keyed-mutex.ts';
import { DEFAULT_TARIFF, estimatePrice, isNight } from '../../../dispatch/pricing.ts';
import { Scorer } from '../../../dispatch/scoring.ts';
import { loadConfig } from '../../../engine/config.ts';
import {
  DOCTOR_STATUSES,
  DOCTOR_STATUS_TRANSITIONS,
  type DoctorStatus,
} from '../../../engine/fleet-types.ts';
import { TotError } from '../../../geo/errors.ts';

const NOON_MOSCOW = Date.UTC(2026, 10, 23, 9, 0, 0);
const MIDNIGHT_MOSCOW = Date.UTC(2026, 10, 23, 21, 0, 0);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof TotError ? error.code : String(error);
  }
  return undefined;
}

describe('pricing', () => {
  it('adds the base, travel beyond the free km, the emergency and the night surcharges, rounded to 10', () => {
    expect(estimatePrice({ callType: 'home_visit', priority: 4, at: NOON_MOSCOW })).toEqual({
      price: 3_000,
      currency: 'RUB',
      breakdown: [{ item: 'base:home_visit', amount: 3_000 }],
    });
    // 10 km straight × 1.3 = 13 km of road, 10 paid at 60.
    const far = estimatePrice({
      callType: 'home_visit',
      priority: 4,
      nearestDoctorKm: 10,
      etaSeconds: 1_300.4,
      at: NOON_MOSCOW,
    });
    expect(far).toMatchObject({ price: 3_600, nearestDoctorKm: 10, etaSeconds: 1_300 });
    const night = estimatePrice({
      callType: 'emergency',
      priority: 1,
      nearestDoctorKm: 1,
      at: MIDNIGHT_MOSCOW,
    });
    expect(night.breakdown.map((entry) => entry.item)).toEqual(['base:emergency', 'emergency', 'night']);
    expect(night.price).toBe((6_000 + 1_000) * 1.25);
    expect(night.breakdown.reduce((sum, entry) => sum + entry.amount, 0)).toBe(night.price);
  });

  it('knows the night in local time, across midnight', () => {
    const hourUtc = (hour: number) => Date.UTC(2026, 10, 23, hour, 30);
    // Moscow is UTC+3: 22:00–07:00 local is 19:00–04:00 UTC.
    expect([18, 19, 23, 0, 3, 4].map((hour) => isNight(hourUtc(hour), DEFAULT_TARIFF))).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('scoring', () => {
  it('costs ETA plus a minute per missing star plus two minutes per recent visit; emergencies by ETA alone', () => {
    const scorer = new Scorer();
    expect(scorer.cost({ doctorId: 'a', etaSeconds: 600, rating: 5 }, false, NOON_MOSCOW)).toBe(600);
    expect(scorer.cost({ doctorId: 'a', etaSeconds: 600, rating: 3 }, false, NOON_MOSCOW)).toBe(720);
    // Unrated counts as 4 stars.
    expect(scorer.cost({ doctorId: 'a', etaSeconds: 600 }, false, NOON_MOSCOW)).toBe(660);
    scorer.recordVisit('a', NOON_MOSCOW - 3 * 3_600_000);
    scorer.recordVisit('a', NOON_MOSCOW - 3_600_000);
    expect(scorer.cost({ doctorId: 'a', etaSeconds: 600, rating: 5 }, false, NOON_MOSCOW)).toBe(840);
    expect(scorer.cost({ doctorId: 'a', etaSeconds: 600, rating: 1 }, true, NOON_MOSCOW)).toBe(600);
    // Visits older than the window (4 h) stop counting.
    expect(scorer.recentVisits('a', NOON_MOSCOW + 3_600_000)).toBe(1);
    expect(scorer.recentVisits('a', NOON_MOSCOW + 3 * 3_600_000)).toBe(0);
  });
});

describe('settings', () => {
  it('fills defaults, and refuses bad values naming them', () => {
    const settings = resolveDispatchSettings({ batchWindowMs: 500, scoring: { ratingSecondsPerStar: 0 } });
    expect(settings).toMatchObject({
      matching: 'batched',
      batchWindowMs: 500,
      offerTimeoutMs: 20_000,
      emergencyOfferTimeoutMs: 10_000,
      searchTimeoutMs: 600_000,
      targetMinutes: { 1: 15, 2: 30, 3: 60, 4: 180 },
      scoring: { ratingSecondsPerStar: 0, fairnessSecondsPerVisit: 120 },
    });
    const refused = (input: Parameters<typeof resolveDispatchSettings>[0]) => {
      try {
        resolveDispatchSettings(input);
      } catch (error) {
        return (error as TotError).details['field'];
      }
      return undefined;
    };
    expect(refused({ offerTimeoutMs: 0 })).toBe('offerTimeoutMs');
    expect(refused({ matching: 'fastest' as 'greedy' })).toBe('matching');
    expect(refused({ candidates: 1.5 })).toBe('candidates');
    expect(refused({ targetMinutes: { 2: 10 } })).toBe('targetMinutes[2]');
    expect(refused({ scoring: { unratedRating: 6 } })).toBe('scoring.unratedRating');
  });

  it('reads the DISPATCH_* variables of the configuration', () => {
    const config = loadConfig({
      DISPATCH_MATCHING: 'greedy',
      DISPATCH_BATCH_WINDOW_MS: '250',
      DISPATCH_TARGETS: '10, 20, 45, 120',
      DISPATCH_MAX_KM: '12.5',
      DISPATCH_FAIRNESS_SECONDS_PER_VISIT: '0',
    });
    const settings = resolveDispatchSettings(settingsFromConfig(config));
    expect(settings).toMatchObject({
      matching: 'greedy',
      batchWindowMs: 250,
      targetMinutes: { 1: 10, 2: 20, 3: 45, 4: 120 },
      maxKm: 12.5,
      offerTimeoutMs: 20_000,
      tickIntervalMs: 100,
      scoring: { fairnessSecondsPerVisit: 0, ratingSecondsPerStar: 60 },
    });
    for (const [variable, value] of [
      ['DISPATCH_TARGETS', '15,30,60'],
      ['DISPATCH_TARGETS', '30,15,60,180'],
      ['DISPATCH_MATCHING', 'random'],
      ['DISPATCH_OFFER_TIMEOUT_MS', '10'],
    ] as const) {
      expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`${variable}=`));
    }
  });
});

describe('doctor status paths', () => {
  it('finds a path through the fleet table between every pair of non-offline statuses, never through offline', () => {
    const statuses = DOCTOR_STATUSES.filter((status) => status !== 'offline');
    for (const from of statuses) {
      for (const to of statuses) {
        const path = statusPath(from, to);
        expect(path, `${from} → ${to}`).toBeDefined();
        let at: DoctorStatus = from;
        for (const step of path ?? []) {
          expect(DOCTOR_STATUS_TRANSITIONS[at]).toContain(step);
          expect(step).not.toBe('offline');
          at = step;
        }
        expect(at).toBe(to);
      }
    }
    expect(statusPath('available', 'en_route')).toEqual(['offered', 'assigned', 'en_route']);
    expect(statusPath('on_site', 'offered')).toEqual(['available', 'offered']);
    expect(statusPath('offline', 'available')).toEqual(['available']);
  });
});

describe('booking requests', () => {
  const now = NOON_MOSCOW;
  const valid: BookingRequest = {
    patientId: 'p1',
    callType: 'home_visit',
    symptoms: ' cough ',
    address: 'Arbat 1',
    lat: 55.75,
    lng: 37.6,
    priority: 4,
  };

  it('trims and keeps a valid request', () => {
    expect(checkBookingRequest(valid, now)).toEqual({ ...valid, symptoms: 'cough' });
  });

  it('drops fields that are not part of a request: a patient cannot set the id, the status or the version', () => {
    const forged = { ...valid, id: 'mine', status: 'completed', version: 99, doctorId: 'd1' };
    expect(checkBookingRequest(forged as BookingRequest, now)).toEqual({ ...valid, symptoms: 'cough' });
  });

  it.each([
    ['lat', { lat: 91 }],
    ['priority', { priority: 5 }],
    ['callType', { callType: 'teleport' }],
    ['address', { address: '' }],
    ['scheduledAt', { scheduledAt: now - 3_600_000 }],
    ['scheduledAt', { scheduledAt: now + 31 * 86_400_000 }],
    ['scheduledAt', { priority: 1, scheduledAt: now + 3_600_000 }],
    ['emergencyType', { emergencyType: 'cardiac' }],
  ])('refuses a bad %s with DISPATCH_INVALID_BOOKING naming it', (field, change) => {
    let thrown: unknown;
    try {
      checkBookingRequest({ ...valid, ...change } as BookingRequest, now);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TotError);
    expect((thrown as TotError).code).toBe('DISPATCH_INVALID_BOOKING');
    expect((thrown as TotError).details['field']).toBe(field);
    expect((thrown as TotError).message).toContain(field);
  });

  it('refuses an actor without an id or with an unknown role', () => {
    expect(codeOf(() => checkActor({ id: '', role: 'patient' }))).toBe('DISPATCH_INVALID_BOOKING');
    expect(codeOf(() => checkActor({ id: 'x', role: 'king' as 'admin' }))).toBe('DISPATCH_INVALID_BOOKING');
    expect(checkActor({ id: 'x', role: 'dispatcher' })).toEqual({ id: 'x', role: 'dispatcher' });
  });
});

describe('keyed mutex', () => {
  it('runs work on one key one at a time, in order, and frees the key afterwards', async () => {
    const mutex = new KeyedMutex();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = mutex.run(['a'], async () => {
      order.push('first start');
      await gate;
      order.push('first end');
    });
    const second = mutex.run(['b', 'a'], async () => {
      order.push('second');
    });
    const other = mutex.run(['c'], async () => {
      order.push('other');
    });
    await other;
    expect(order).toEqual(['first start', 'other']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first start', 'other', 'first end', 'second']);
    await expect(mutex.run(['a'], async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await mutex.run(['a'], async () => undefined);
    expect(mutex.size).toBe(0);
  });

  it('starts the work of a call whose keys are all free before run returns', () => {
    const mutex = new KeyedMutex();
    let started = false;
    void mutex.run(['a', 'b'], async () => {
      started = true;
    });
    expect(started).toBe(true);
  });

  it('never lets two calls hold one key at once, serves a key first come first served, frees every key', async () => {
    const mutex = new KeyedMutex();
    let seed = 7;
    const random = (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const holders = new Map<string, number>();
    const startedOn = new Map<string, number[]>();
    const queuedOn = new Map<string, number[]>();
    let overlaps = 0;
    const calls: Promise<void>[] = [];
    for (let call = 0; call < 300; call++) {
      const keys = ['a', 'b', 'c', 'd'].filter(() => random() < 0.4);
      if (keys.length === 0) keys.push('a');
      // A call queues for its first key at once, for the others as it gets the ones before.
      const first = [...keys].sort()[0] as string;
      queuedOn.set(first, [...(queuedOn.get(first) ?? []), call]);
      const pause = Math.floor(random() * 3);
      calls.push(
        mutex
          .run(keys, async () => {
            for (const key of keys) {
              if (holders.has(key)) overlaps += 1;
              holders.set(key, call);
              startedOn.set(key, [...(startedOn.get(key) ?? []), call]);
            }
            for (let i = 0; i < pause; i++) await new Promise((resolve) => setImmediate(resolve));
            for (const key of keys) holders.delete(key);
            if (random() < 0.1) throw new Error('work failed');
          })
          .catch(() => undefined),
      );
      if (random() < 0.3) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(calls);
    expect(overlaps).toBe(0);
    // Each key served the calls that asked for it first in the order they asked.
    for (const [key, queued] of queuedOn) {
      const asked = new Set(queued);
      expect(startedOn.get(key)?.filter((call) => asked.has(call))).toEqual(queued);
    }
    expect(mutex.size).toBe(0);
  });
});
