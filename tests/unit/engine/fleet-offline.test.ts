import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fleet } from '../../../engine/fleet.ts';

const fix = (doctorId: string, ts: number, lat = 55.75) => ({ doctorId, lat, lng: 37.62, ts });

describe('Fleet.sweepOffline', () => {
  it('sends a doctor offline exactly offlineAfterMs after the last fix, with the event', () => {
    const fleet = new Fleet({ offlineAfterMs: 60_000 });
    fleet.applyFix(fix('doc', 1_000), 1_000);
    fleet.setStatus('doc', 'offered', 2_000);
    expect(fleet.sweepOffline(60_999)).toEqual([]);
    expect(fleet.get('doc')?.status).toBe('offered');
    expect(fleet.sweepOffline(61_000)).toEqual([
      {
        type: 'DoctorWentOffline',
        doctorId: 'doc',
        at: 61_000,
        lastFixAt: 1_000,
        lastSeenAt: 1_000,
        previousStatus: 'offered',
        reason: 'timeout',
      },
    ]);
    expect(fleet.get('doc')).toMatchObject({
      status: 'offline',
      offlineReason: 'timeout',
      statusBeforeOffline: 'offered',
    });
    expect(fleet.sweepOffline(200_000)).toEqual([]);
    expect(fleet.stats().offlineTimeouts).toBe(1);
  });

  it('brings a timed-out doctor back to the previous status on the next fresh fix, not on a stale one', () => {
    const fleet = new Fleet({ offlineAfterMs: 10_000 });
    fleet.applyFix(fix('doc', 1_000), 1_000);
    for (const status of ['offered', 'assigned', 'en_route'] as const) fleet.setStatus('doc', status, 1_500);
    fleet.drainEvents();
    fleet.sweepOffline(20_000);
    expect(fleet.applyFix(fix('doc', 900), 21_000)).toBe('stale');
    expect(fleet.get('doc')?.status).toBe('offline');
    expect(fleet.applyFix(fix('doc', 21_000, 55.76), 21_000)).toBe('applied');
    expect(fleet.get('doc')).toMatchObject({ status: 'en_route', lat: 55.76 });
    expect(fleet.get('doc')?.offlineReason).toBeUndefined();
    expect(fleet.drainEvents()).toEqual([
      { type: 'DoctorBackOnline', doctorId: 'doc', at: 21_000, status: 'en_route' },
    ]);
    // The timer runs again from the fix.
    expect(fleet.sweepOffline(30_999)).toEqual([]);
    expect(fleet.sweepOffline(31_000)).toHaveLength(1);
  });

  it('keeps an off-duty doctor offline whatever the fixes; on duty restarts the timer from now', () => {
    const fleet = new Fleet({ offlineAfterMs: 10_000 });
    fleet.applyFix(fix('doc', 1_000), 1_000);
    fleet.setDuty('doc', false, 2_000);
    expect(fleet.sweepOffline(50_000)).toEqual([]);
    fleet.applyFix(fix('doc', 50_000), 50_000);
    expect(fleet.get('doc')).toMatchObject({ status: 'offline', offlineReason: 'off_duty' });
    fleet.setDuty('doc', true, 100_000);
    expect(fleet.sweepOffline(109_999)).toEqual([]);
    expect(fleet.sweepOffline(110_000).map((e) => e.doctorId)).toEqual(['doc']);
  });

  it('turns a timed-out doctor into an off-duty one when set offline explicitly', () => {
    const fleet = new Fleet({ offlineAfterMs: 10_000 });
    fleet.applyFix(fix('doc', 1_000), 1_000);
    fleet.sweepOffline(11_000);
    expect(fleet.setStatus('doc', 'offline', 12_000)).toBe(false);
    fleet.applyFix(fix('doc', 13_000), 13_000);
    expect(fleet.get('doc')).toMatchObject({ status: 'offline', offlineReason: 'off_duty' });
  });

  it('never times out doctors without a position, and forgets removed doctors', () => {
    const fleet = new Fleet({ offlineAfterMs: 1_000 });
    fleet.register({ id: 'nofix' }, 0);
    fleet.applyFix(fix('gone', 0), 0);
    fleet.remove('gone');
    fleet.applyFix(fix('new', 0), 0);
    expect(fleet.sweepOffline(5_000).map((e) => e.doctorId)).toEqual(['new']);
    expect(fleet.get('nofix')?.status).toBe('available');
  });

  it('matches the rule "offline iff now − last fix ≥ offlineAfterMs" over random timelines', () => {
    type Step = { kind: 'fix'; doctor: number; advance: number } | { kind: 'sweep'; advance: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constant('fix' as const),
        doctor: fc.integer({ min: 0, max: 15 }),
        // A fix with the same time as the doctor's last one is stale by design, so time moves on between fixes.
        advance: fc.integer({ min: 1, max: 3_000 }),
      }),
      fc.record({ kind: fc.constant('sweep' as const), advance: fc.integer({ min: 0, max: 9_000 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 150 }),
        fc.constantFrom(1, 250, 1000, 7000),
        (steps, bucketMs) => {
          const offlineAfterMs = 5_000;
          const fleet = new Fleet({ offlineAfterMs, sweepBucketMs: bucketMs });
          const lastSeen = new Map<string, number>();
          const offline = new Set<string>();
          let now = 1_000_000;
          for (const s of steps) {
            now += s.advance;
            if (s.kind === 'fix') {
              const id = `d${s.doctor}`;
              expect(fleet.applyFix(fix(id, now), now)).toBe('applied');
              lastSeen.set(id, now);
              offline.delete(id);
            } else {
              const events = fleet.sweepOffline(now);
              const expected = [...lastSeen]
                .filter(([id, seen]) => !offline.has(id) && now - seen >= offlineAfterMs)
                .map(([id]) => id)
                .sort();
              expect(events.map((e) => e.doctorId).sort()).toEqual(expected);
              for (const id of expected) offline.add(id);
            }
            for (const [id] of lastSeen) {
              expect(fleet.get(id)?.status).toBe(offline.has(id) ? 'offline' : 'available');
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Fleet.onWentOffline', () => {
  it('tells each doctor going offline, on timeout or off duty, and nothing else; until unsubscribed', () => {
    const fleet = new Fleet({ offlineAfterMs: 10_000 });
    const heard: string[] = [];
    const stop = fleet.onWentOffline((doctorId) => heard.push(doctorId));
    fleet.applyFix(fix('silent', 1_000), 1_000);
    fleet.applyFix(fix('leaving', 1_000), 1_000);
    fleet.register({ id: 'unplaced' }, 1_000);
    fleet.setStatus('leaving', 'offered', 2_000);
    expect(heard).toEqual([]);
    fleet.setDuty('leaving', false, 3_000);
    fleet.setDuty('unplaced', false, 3_000);
    fleet.applyFix(fix('leaving', 4_000), 4_000);
    expect(heard).toEqual(['leaving', 'unplaced']);
    fleet.sweepOffline(11_000);
    expect(heard).toEqual(['leaving', 'unplaced', 'silent']);
    // Already offline: off duty now, but not gone again.
    fleet.setDuty('silent', false, 12_000);
    expect(heard).toHaveLength(3);
    stop();
    fleet.setDuty('leaving', true, 13_000);
    fleet.setDuty('leaving', false, 14_000);
    expect(heard).toHaveLength(3);
  });
});
