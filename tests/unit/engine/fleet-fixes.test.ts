import { describe, expect, it } from 'vitest';
import { TotError } from '../../../geo/errors.ts';
import { type Fix, Fleet } from '../../../engine/fleet.ts';

const FIX: Fix = {
  doctorId: 'doc',
  lat: 55.75,
  lng: 37.62,
  ts: 1_000,
  accuracy: 5,
  speed: 3,
  heading: 90,
  battery: 80,
  seq: 7,
};

function codeAndField(action: () => unknown): [string, unknown] | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(TotError);
    return [(error as TotError).code, (error as TotError).details.field];
  }
  return undefined;
}

describe('Fleet.applyFix', () => {
  it('places a registered doctor at the first fix, keeping the profile', () => {
    const fleet = new Fleet();
    fleet.register({ id: 'doc', specializations: ['pediatrician'], clinicId: 'c9', rating: 4.8 }, 0);
    expect(fleet.nearby(55.75, 37.62, { k: 1 })).toEqual([]);
    expect(fleet.applyFix(FIX, 2_000)).toBe('applied');
    expect(fleet.get('doc')).toEqual({
      id: 'doc',
      status: 'available',
      lat: 55.75,
      lng: 37.62,
      heading: 90,
      speed: 3,
      accuracy: 5,
      battery: 80,
      lastFixAt: 1_000,
      lastSeenAt: 2_000,
      seq: 7,
      specializations: ['pediatrician'],
      clinicId: 'c9',
      rating: 4.8,
      offlineReason: undefined,
      statusBeforeOffline: undefined,
    });
    expect(fleet.nearby(55.75, 37.62, { k: 1 })[0]?.doctor.id).toBe('doc');
  });

  it('is idempotent: older, replayed and same-time fixes without a newer seq are stale and change nothing', () => {
    const fleet = new Fleet();
    fleet.applyFix(FIX, 2_000);
    const before = fleet.get('doc');
    const stale: Fix[] = [
      FIX,
      { ...FIX, lat: 55.7, ts: 999 },
      { ...FIX, lat: 55.7, seq: 7 },
      { ...FIX, lat: 55.7, seq: 6 },
      { doctorId: 'doc', lat: 55.7, lng: 37.6, ts: 1_000 },
    ];
    for (const fix of stale) expect(fleet.applyFix(fix, 3_000)).toBe('stale');
    expect(fleet.get('doc')).toEqual(before);
    expect(fleet.stats()).toMatchObject({ fixesApplied: 1, fixesStale: 5 });
    expect(fleet.applyFix({ ...FIX, lat: 55.7, seq: 8 }, 3_000)).toBe('applied');
    expect(fleet.get('doc')?.lat).toBe(55.7);
    expect(fleet.applyFix({ ...FIX, lat: 55.71, ts: 1_001, seq: 1 }, 3_000)).toBe('applied');
    expect(fleet.get('doc')).toMatchObject({ lat: 55.71, seq: 1, lastFixAt: 1_001 });
  });

  it('treats a same-time fix with a seq as newer than one without', () => {
    const fleet = new Fleet();
    fleet.applyFix({ doctorId: 'doc', lat: 55.75, lng: 37.62, ts: 5 }, 5);
    expect(fleet.applyFix({ doctorId: 'doc', lat: 55.76, lng: 37.62, ts: 5, seq: 0 }, 6)).toBe('applied');
  });

  it('replaces optional fields: absent means unknown', () => {
    const fleet = new Fleet();
    fleet.applyFix(FIX, 2_000);
    fleet.applyFix({ doctorId: 'doc', lat: 55.751, lng: 37.621, ts: 2_000 }, 3_000);
    const view = fleet.get('doc');
    expect(view).toMatchObject({ lat: 55.751, lng: 37.621, lastFixAt: 2_000, lastSeenAt: 3_000 });
    for (const field of ['heading', 'speed', 'accuracy', 'battery', 'seq'] as const)
      expect(view?.[field]).toBeUndefined();
  });

  it('auto-registers an unknown doctor as available, with an event', () => {
    const fleet = new Fleet();
    expect(fleet.applyFix(FIX, 2_000)).toBe('applied');
    expect(fleet.get('doc')).toMatchObject({ status: 'available', specializations: [] });
    expect(fleet.drainEvents()).toEqual([{ type: 'DoctorAutoRegistered', doctorId: 'doc', at: 2_000 }]);
    expect(fleet.stats()).toMatchObject({ autoRegistered: 1, fixesApplied: 1 });
  });

  it("counts and drops fixes of unknown doctors with unknownDoctors: 'reject'", () => {
    const fleet = new Fleet({ unknownDoctors: 'reject' });
    expect(fleet.applyFix(FIX, 2_000)).toBe('unknown_doctor');
    expect(fleet.size).toBe(0);
    expect(fleet.stats()).toMatchObject({ fixesUnknownDoctor: 1, fixesApplied: 0 });
    fleet.register({ id: 'doc' }, 2_000);
    expect(fleet.applyFix(FIX, 2_000)).toBe('applied');
  });

  it('moves an off-duty doctor but keeps them offline', () => {
    const fleet = new Fleet();
    fleet.applyFix(FIX, 2_000);
    fleet.setDuty('doc', false, 2_500);
    expect(fleet.applyFix({ ...FIX, ts: 3_000, lat: 55.8 }, 3_000)).toBe('applied');
    expect(fleet.get('doc')).toMatchObject({ status: 'offline', offlineReason: 'off_duty', lat: 55.8 });
  });

  it('rejects malformed fixes with ENGINE_INVALID_FIX naming the field, changing nothing', () => {
    const fleet = new Fleet();
    fleet.applyFix(FIX, 2_000);
    const before = fleet.get('doc');
    const cases: [Partial<Fix> & Record<string, unknown>, string][] = [
      [{ doctorId: '' }, 'doctorId'],
      [{ lat: Number.NaN }, 'lat'],
      [{ lat: 91 }, 'lat'],
      [{ lng: -180.1 }, 'lng'],
      [{ lng: Number.POSITIVE_INFINITY }, 'lng'],
      [{ ts: Number.NaN }, 'ts'],
      [{ heading: 361 }, 'heading'],
      [{ battery: 101 }, 'battery'],
      [{ speed: -1 }, 'speed'],
      [{ accuracy: Number.NaN }, 'accuracy'],
      [{ seq: Number.POSITIVE_INFINITY }, 'seq'],
    ];
    for (const [change, field] of cases) {
      expect(codeAndField(() => fleet.applyFix({ ...FIX, ts: 5_000, ...change } as Fix, 5_000))).toEqual([
        'ENGINE_INVALID_FIX',
        field,
      ]);
    }
    expect(fleet.get('doc')).toEqual(before);
    expect(fleet.stats().fixesApplied).toBe(1);
  });
});
