import { describe, expect, it } from 'vitest';
import { ChangeJournal } from '../../../engine/fleet-changes.ts';
import { type Fix, Fleet } from '../../../engine/fleet.ts';

const fix = (doctorId: string, ts: number, lat = 55.75, lng = 37.62, extra: Partial<Fix> = {}): Fix => ({
  doctorId,
  lat,
  lng,
  ts,
  ...extra,
});

const ids = (fleet: Fleet) =>
  fleet
    .drainChanged()
    .changed.map((change) => change.id)
    .sort();

describe('Fleet.drainChanged', () => {
  it('lists a doctor once however many fixes arrived, with the latest position, then nothing', () => {
    const fleet = new Fleet();
    fleet.applyFix(fix('a', 1, 55.75, 37.62), 1);
    fleet.applyFix(fix('a', 2, 55.76, 37.63, { heading: 90, speed: 4.5 }), 2);
    fleet.applyFix(fix('b', 1), 2);
    const { changed, removed } = fleet.drainChanged();
    expect(changed).toEqual([
      { id: 'a', lat: 55.76, lng: 37.63, status: 'available', heading: 90, speed: 4.5 },
      { id: 'b', lat: 55.75, lng: 37.62, status: 'available' },
    ]);
    expect(removed).toEqual([]);
    expect(fleet.drainChanged()).toEqual({ changed: [], removed: [] });
  });

  it('does not list a stale fix, and lists a doctor again after the drain', () => {
    const fleet = new Fleet();
    fleet.applyFix(fix('a', 5), 5);
    fleet.drainChanged();
    expect(fleet.applyFix(fix('a', 4, 56, 38), 6)).toBe('stale');
    expect(ids(fleet)).toEqual([]);
    fleet.applyFix(fix('a', 6, 55.8, 37.7), 7);
    expect(fleet.drainChanged().changed).toEqual([{ id: 'a', lat: 55.8, lng: 37.7, status: 'available' }]);
  });

  it('lists status changes of placed doctors, offline timeouts and going back online', () => {
    const fleet = new Fleet({ offlineAfterMs: 1_000 });
    fleet.applyFix(fix('a', 1), 0);
    fleet.applyFix(fix('b', 1), 0);
    fleet.register({ id: 'unplaced' }, 0);
    fleet.drainChanged();

    fleet.setStatus('a', 'offered', 10);
    fleet.setStatus('unplaced', 'offline', 10);
    expect(fleet.drainChanged().changed).toEqual([{ id: 'a', lat: 55.75, lng: 37.62, status: 'offered' }]);

    fleet.sweepOffline(2_000);
    expect(ids(fleet)).toEqual(['a', 'b']);
    fleet.applyFix(fix('b', 2), 2_100);
    expect(fleet.drainChanged().changed).toEqual([{ id: 'b', lat: 55.75, lng: 37.62, status: 'available' }]);
    // Setting the status it already has changes nothing on the map.
    expect(fleet.setStatus('b', 'available', 2_200)).toBe(false);
    expect(ids(fleet)).toEqual([]);
  });

  it('reports removals; a doctor removed and placed again in one interval is in both lists', () => {
    const fleet = new Fleet();
    fleet.applyFix(fix('a', 1), 1);
    fleet.applyFix(fix('b', 1), 1);
    fleet.drainChanged();
    fleet.applyFix(fix('a', 2, 55.7), 2);
    fleet.remove('a');
    fleet.remove('never-known');
    expect(fleet.drainChanged()).toEqual({ changed: [], removed: ['a'] });

    fleet.remove('b');
    fleet.applyFix(fix('b', 3, 55.9, 37.9), 3);
    expect(fleet.drainChanged()).toEqual({
      changed: [{ id: 'b', lat: 55.9, lng: 37.9, status: 'available' }],
      removed: ['b'],
    });
  });

  it('lists the doctor now in a slot that was freed and reused since the mark', () => {
    const fleet = new Fleet();
    fleet.applyFix(fix('a', 1), 1);
    fleet.drainChanged();
    fleet.applyFix(fix('a', 2), 2);
    fleet.remove('a');
    fleet.applyFix(fix('c', 2, 55.6, 37.5), 2);
    const { changed, removed } = fleet.drainChanged();
    expect(changed).toEqual([{ id: 'c', lat: 55.6, lng: 37.5, status: 'available' }]);
    expect(removed).toEqual(['a']);
  });

  it('keeps up with a growing fleet (capacity doubles while marks are pending)', () => {
    const fleet = new Fleet({ initialCapacity: 2 });
    for (let i = 0; i < 5_000; i++) fleet.applyFix(fix(`d${i}`, 1, 55 + i / 10_000), 1);
    const { changed } = fleet.drainChanged();
    expect(changed).toHaveLength(5_000);
    expect(new Set(changed.map((change) => change.id)).size).toBe(5_000);
  });

  it('starts empty in a fleet rebuilt from a snapshot', () => {
    const fleet = new Fleet();
    fleet.applyFix(fix('a', 1), 1);
    const restored = Fleet.fromSnapshot(fleet.toSnapshot());
    expect(restored.drainChanged()).toEqual({ changed: [], removed: [] });
  });
});

describe('ChangeJournal', () => {
  it('visits each marked slot once in first-mark order and stays bounded without drains', () => {
    const journal = new ChangeJournal();
    journal.ensureCapacity(4);
    for (let round = 0; round < 100; round++) for (const slot of [2, 0, 2, 3]) journal.mark(slot);
    expect(journal.pending).toBe(3);
    const visited: number[] = [];
    journal.drain((slot) => visited.push(slot));
    expect(visited).toEqual([2, 0, 3]);
    expect(journal.pending).toBe(0);
  });

  it('leaves no slot stuck when a visitor throws', () => {
    const journal = new ChangeJournal();
    journal.ensureCapacity(2);
    journal.mark(0);
    journal.mark(1);
    expect(() =>
      journal.drain(() => {
        throw new Error('visitor failed');
      }),
    ).toThrow('visitor failed');
    journal.mark(1);
    const visited: number[] = [];
    journal.drain((slot) => visited.push(slot));
    expect(visited).toEqual([1]);
  });
});
