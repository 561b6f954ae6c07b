import { describe, expect, it } from 'vitest';
import { TotError } from '../../../geo/errors.ts';
import {
  DOCTOR_STATUSES,
  DOCTOR_STATUS_TRANSITIONS,
  type DoctorStatus,
  Fleet,
} from '../../../engine/fleet.ts';

/** A path of allowed changes from available to each status. */
const PATH: Record<DoctorStatus, DoctorStatus[]> = {
  available: [],
  offered: ['offered'],
  assigned: ['offered', 'assigned'],
  en_route: ['offered', 'assigned', 'en_route'],
  on_site: ['offered', 'assigned', 'en_route', 'on_site'],
  offline: ['offline'],
};

function fleetWith(status: DoctorStatus, placed: boolean): Fleet {
  const fleet = new Fleet();
  fleet.register({ id: 'doc', specializations: ['therapist'], clinicId: 'c1', rating: 4.5 }, 0);
  if (placed) fleet.applyFix({ doctorId: 'doc', lat: 55.75, lng: 37.62, ts: 1 }, 1);
  for (const step of PATH[status]) fleet.setStatus('doc', step, 2);
  fleet.drainEvents();
  return fleet;
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(TotError);
    return (error as TotError).code;
  }
  return undefined;
}

describe('Fleet.setStatus', () => {
  for (const placed of [true, false]) {
    for (const from of DOCTOR_STATUSES) {
      for (const to of DOCTOR_STATUSES) {
        const allowed = from === to || DOCTOR_STATUS_TRANSITIONS[from].includes(to);
        it(`${allowed ? 'allows' : 'refuses'} ${from} → ${to} (${placed ? 'with' : 'without'} a position)`, () => {
          const fleet = fleetWith(from, placed);
          const before = fleet.get('doc');
          const statsBefore = fleet.stats();
          if (allowed) {
            expect(fleet.setStatus('doc', to, 10, 'test')).toBe(from !== to);
            expect(fleet.get('doc')?.status).toBe(to);
            const events = fleet.drainEvents();
            if (from === to) expect(events).toEqual([]);
            else
              expect(events).toEqual([
                { type: 'DoctorStatusChanged', doctorId: 'doc', at: 10, from, to, reason: 'test' },
              ]);
          } else {
            expect(codeOf(() => fleet.setStatus('doc', to, 10))).toBe('ENGINE_INVALID_TRANSITION');
            expect(fleet.get('doc')).toEqual(before);
            expect(fleet.drainEvents()).toEqual([]);
            expect(fleet.stats().statusChanges).toBe(statsBefore.statusChanges);
            expect(fleet.stats().byStatus).toEqual(statsBefore.byStatus);
          }
        });
      }
    }
  }

  it('names the doctor, both statuses and the allowed ones in the error', () => {
    const fleet = fleetWith('available', true);
    try {
      fleet.setStatus('doc', 'on_site', 1);
      expect.fail('accepted available → on_site');
    } catch (error) {
      const e = error as TotError;
      expect(e.code).toBe('ENGINE_INVALID_TRANSITION');
      expect(e.message).toContain('"doc"');
      expect(e.message).toContain('available');
      expect(e.message).toContain('on_site');
      expect(e.details).toMatchObject({ from: 'available', value: 'on_site', doctorId: 'doc' });
    }
  });

  it('refuses unknown doctors and unknown status names', () => {
    const fleet = fleetWith('available', true);
    expect(codeOf(() => fleet.setStatus('nobody', 'offline', 1))).toBe('ENGINE_DOCTOR_NOT_FOUND');
    expect(codeOf(() => fleet.setStatus('doc', 'sleeping' as DoctorStatus, 1))).toBe(
      'ENGINE_INVALID_ARGUMENT',
    );
    expect(fleet.get('doc')?.status).toBe('available');
  });

  it('keeps per-status counts in step with changes', () => {
    const fleet = fleetWith('assigned', true);
    fleet.register({ id: 'other' }, 0);
    expect(fleet.countByStatus('assigned')).toBe(1);
    expect(fleet.countByStatus('available')).toBe(1);
    fleet.setStatus('doc', 'available', 5, 'cancelled');
    expect(fleet.countByStatus('assigned')).toBe(0);
    expect(fleet.countByStatus('available')).toBe(2);
  });
});

describe('Fleet.setDuty', () => {
  it('goes off duty from any status and back on duty to available', () => {
    const fleet = fleetWith('en_route', true);
    expect(fleet.setDuty('doc', false, 5)).toBe(true);
    expect(fleet.get('doc')).toMatchObject({ status: 'offline', offlineReason: 'off_duty' });
    expect(fleet.get('doc')?.statusBeforeOffline).toBeUndefined();
    expect(fleet.setDuty('doc', true, 6)).toBe(true);
    expect(fleet.get('doc')).toMatchObject({ status: 'available' });
    expect(fleet.get('doc')?.offlineReason).toBeUndefined();
    expect(fleet.setDuty('doc', true, 7)).toBe(false);
    expect(codeOf(() => fleet.setDuty('nobody', true, 1))).toBe('ENGINE_DOCTOR_NOT_FOUND');
  });
});

describe('Fleet.register', () => {
  it('creates a doctor without a position, then updates the profile', () => {
    const fleet = new Fleet();
    expect(fleet.register({ id: 'a', specializations: ['surgeon'], clinicId: 'c1', rating: 4 }, 0)).toBe(
      true,
    );
    expect(fleet.get('a')).toMatchObject({
      id: 'a',
      status: 'available',
      specializations: ['surgeon'],
      clinicId: 'c1',
      rating: 4,
    });
    expect(fleet.get('a')?.lat).toBeUndefined();
    expect(fleet.register({ id: 'a', rating: 3, status: 'offline' }, 1)).toBe(false);
    expect(fleet.get('a')).toMatchObject({
      status: 'offline',
      specializations: ['surgeon'],
      clinicId: 'c1',
      rating: 3,
    });
    expect(fleet.size).toBe(1);
  });

  it('rejects bad profiles with ENGINE_INVALID_ARGUMENT and changes nothing', () => {
    const fleet = new Fleet();
    fleet.register({ id: 'a', rating: 4 }, 0);
    const bad = [
      { id: '' },
      { id: 'a', rating: Number.NaN },
      { id: 'a', specializations: [''] },
      { id: 'a', specializations: 'surgeon' as unknown as string[] },
      { id: 'a', clinicId: '' },
      { id: 'a', status: 'asleep' as DoctorStatus },
    ];
    for (const profile of bad)
      expect(codeOf(() => fleet.register(profile, 1))).toBe('ENGINE_INVALID_ARGUMENT');
    expect(codeOf(() => fleet.register({ id: 'a', status: 'on_site' }, 1))).toBe('ENGINE_INVALID_TRANSITION');
    expect(fleet.get('a')).toMatchObject({ rating: 4, status: 'available', specializations: [] });
  });

  it('removes a doctor with or without a position', () => {
    const fleet = new Fleet();
    fleet.register({ id: 'a' }, 0);
    fleet.applyFix({ doctorId: 'b', lat: 55.75, lng: 37.62, ts: 1 }, 1);
    expect(fleet.remove('a')).toBe(true);
    expect(fleet.remove('b')).toBe(true);
    expect(fleet.remove('b')).toBe(false);
    expect(fleet.size).toBe(0);
    expect(fleet.nearby(55.75, 37.62, { k: 5 })).toEqual([]);
  });
});

describe('Fleet pending events', () => {
  /** `changes` status changes of one doctor, toggling offline ↔ available, at times 1, 2, 3, … */
  function toggle(fleet: Fleet, changes: number, firstAt = 1): void {
    for (let i = 0; i < changes; i++) {
      fleet.setStatus('doc', fleet.get('doc')?.status === 'available' ? 'offline' : 'available', firstAt + i);
    }
  }

  it('keeps the newest maxPendingEvents in order and counts the dropped ones, across many wraps', () => {
    const fleet = new Fleet({ maxPendingEvents: 3 });
    fleet.register({ id: 'doc' }, 0);
    fleet.drainEvents();
    // 20 changes through a queue of 3: the dropped ones are cut off several times over.
    toggle(fleet, 20);
    expect(fleet.drainEvents().map((event) => event.at)).toEqual([18, 19, 20]);
    expect(fleet.stats().eventsDropped).toBe(17);
    // A drain starts a fresh queue: the next events are all kept while they fit.
    toggle(fleet, 2, 100);
    expect(fleet.drainEvents().map((event) => event.at)).toEqual([100, 101]);
    expect(fleet.drainEvents()).toEqual([]);
    expect(fleet.stats().eventsDropped).toBe(17);
  });

  it('keeps none with maxPendingEvents 0, counting each', () => {
    const fleet = new Fleet({ maxPendingEvents: 0 });
    fleet.register({ id: 'doc' }, 0);
    toggle(fleet, 4);
    expect(fleet.drainEvents()).toEqual([]);
    expect(fleet.stats().eventsDropped).toBe(4);
  });
});
