import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { TotError } from '../../../geo/errors.ts';
import { fleetDifferences } from '../../../engine/fleet-compare.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { variedFleet } from './snapshot-fleets.ts';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(TotError);
    return (error as TotError).code;
  }
  return undefined;
}

describe('Fleet snapshot', () => {
  it('round-trips to an equal fleet', () => {
    const fleet = variedFleet();
    expect(fleet.stats().byStatus.offline).toBeGreaterThan(0);
    const restored = Fleet.fromSnapshot(fleet.toSnapshot());
    expect(fleetDifferences(fleet, restored)).toEqual([]);
    // Same answers to queries, including specializations past the 32 tagged ones.
    for (const specialization of [undefined, 'spec-3', 'spec-39']) {
      const options = {
        k: 15,
        status: ['available', 'offered'] as const,
        ...(specialization ? { specialization } : {}),
      };
      expect(restored.nearby(55.7, 37.6, options)).toEqual(fleet.nearby(55.7, 37.6, options));
    }
    expect(restored.toSnapshot()).toEqual(fleet.toSnapshot());
  });

  it('leaves msgpack packing in the thread working and its memory alone (long strings, later packs)', () => {
    const fleet = variedFleet();
    const snapshot = fleet.toSnapshot();
    const copy = Uint8Array.from(snapshot);
    // msgpackr's buffer is shared by every Packr of the thread: a snapshot once left it unable to pack long strings.
    const other = new Packr({ useRecords: false });
    const text = 'a dead letter reason '.repeat(20);
    for (let i = 0; i < 50; i++) expect(other.unpack(other.pack({ text, i }))).toEqual({ text, i });
    expect(snapshot).toEqual(copy);
    expect(fleetDifferences(fleet, Fleet.fromSnapshot(snapshot))).toEqual([]);
  });

  it('the compare helper reports a difference', () => {
    const fleet = variedFleet(50);
    const other = Fleet.fromSnapshot(fleet.toSnapshot());
    other.applyFix({ doctorId: 'doctor-1', lat: 55.6, lng: 37.5, ts: 99_000 }, 99_000);
    other.register({ id: 'extra' }, 99_000);
    const differences = fleetDifferences(fleet, other);
    expect(differences.some((line) => line.startsWith('doctor-1.lat'))).toBe(true);
    expect(differences.some((line) => line.includes('extra'))).toBe(true);
  });

  it('restarts offline timers from each doctor’s last fix', () => {
    const fleet = new Fleet({ offlineAfterMs: 10_000 });
    fleet.applyFix({ doctorId: 'a', lat: 55.7, lng: 37.6, ts: 1_000 }, 1_000);
    fleet.applyFix({ doctorId: 'b', lat: 55.7, lng: 37.6, ts: 5_000 }, 5_000);
    const restored = Fleet.fromSnapshot(fleet.toSnapshot());
    expect(restored.sweepOffline(11_000).map((e) => e.doctorId)).toEqual(['a']);
    expect(restored.sweepOffline(15_000).map((e) => e.doctorId)).toEqual(['b']);
  });

  it('takes the resolution and offline delay from options over the snapshot’s', () => {
    const fleet = variedFleet(60);
    const restored = Fleet.fromSnapshot(fleet.toSnapshot(), { resolution: 8, offlineAfterMs: 5_000 });
    expect(restored.resolution).toBe(8);
    expect(restored.offlineAfterMs).toBe(5_000);
    expect(restored.nearby(55.7, 37.6, { k: 10 })).toEqual(fleet.nearby(55.7, 37.6, { k: 10 }));
  });

  it('round-trips an empty fleet', () => {
    const restored = Fleet.fromSnapshot(new Fleet().toSnapshot());
    expect(restored.size).toBe(0);
  });

  it('refuses corrupt bytes with ENGINE_INVALID_SNAPSHOT', () => {
    const fleet = variedFleet(30);
    const bytes = fleet.toSnapshot();
    const packr = new Packr({ useRecords: false });
    const record = packr.unpack(bytes) as Record<string, unknown>;
    const edited = (change: Record<string, unknown>) => packr.pack({ ...record, ...change });
    const ids = record['ids'] as string[];
    const lat = new Float64Array((record['lat'] as Uint8Array).byteLength / 8);
    new Uint8Array(lat.buffer).set(record['lat'] as Uint8Array);
    lat[0] = 123;
    const status = Uint8Array.from(record['status'] as Uint8Array);
    status[0] = 9;
    const corrupt: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([1, 2, 3, 4, 5]),
      bytes.subarray(0, bytes.byteLength - 10),
      packr.pack([1, 2, 3]),
      edited({ format: 'something-else' }),
      edited({ version: 2 }),
      edited({ ids: ids.slice(1) }),
      edited({ ids: [ids[1], ...ids.slice(1)] }),
      edited({ placed: ids.length + 1 }),
      edited({ lat: new Uint8Array(lat.buffer) }),
      edited({ status }),
      edited({ clinic: new Uint8Array(new Int32Array(ids.length).fill(1000).buffer) }),
      edited({ counters: 'none' }),
    ];
    for (const snapshot of corrupt)
      expect(codeOf(() => Fleet.fromSnapshot(snapshot))).toBe('ENGINE_INVALID_SNAPSHOT');
  });
});
