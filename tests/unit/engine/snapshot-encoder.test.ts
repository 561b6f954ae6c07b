import { afterEach, describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../../engine/backup.ts';
import type { StreamPositions } from '../../../engine/bus.ts';
import { fleetDifferences } from '../../../engine/fleet-compare.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { SnapshotEncoder, type SnapshotSubject } from '../../../engine/snapshot-encoder.ts';
import { CRASH_AT, HANG_AT, REFUSE_AT } from './faulty-snapshot-worker.ts';
import { seededRandom, variedFleet } from './snapshot-fleets.ts';
import { GOLDEN_V1_BASE64, goldenFleet } from './snapshot-v1-golden.ts';

const FAULTY_WORKER = new URL('./faulty-snapshot-worker.ts', import.meta.url);

/** A subject over a fleet that can be swapped, with the envelope's other parts set by the test. */
function subjectOf(initial: Fleet, takenAt = 5_000) {
  const state = {
    fleet: initial,
    takenAt,
    positions: { 'tot.fixes': { 0: 17, 3: 4 } } as StreamPositions,
    traffic: { version: 1, cells: [{ cell: '8911aa7a1a3ffff', weight: 2 }] } as unknown,
  };
  const subject: SnapshotSubject = {
    fleet: () => state.fleet,
    envelopeParts: () => ({ takenAt: state.takenAt, positions: state.positions, traffic: state.traffic }),
  };
  return { state, subject };
}

/** Changes of every kind a capture must follow: new doctors, removals (freed and reused slots), moves, statuses. */
function churn(fleet: Fleet, seed: number, now: number): void {
  const r = seededRandom(seed);
  for (let i = 0; i < 40; i++) fleet.remove(`doctor-${Math.floor(r() * 500)}`);
  for (let i = 0; i < 60; i++) {
    const id = r() < 0.5 ? `doctor-${Math.floor(r() * 500)}` : `new-${seed}-${i}`;
    fleet.applyFix({ doctorId: id, lat: 55.55 + r() * 0.35, lng: 37.35 + r() * 0.5, ts: now + i }, now + i);
  }
  fleet.register(
    { id: `unplaced-${seed}`, clinicId: `clinic-new-${seed}`, specializations: ['spec-39'] },
    now,
  );
  const someone = fleet.ids().find((id) => fleet.get(id)?.status === 'available');
  if (someone !== undefined) fleet.setStatus(someone, 'offered', now);
}

describe('SnapshotEncoder', () => {
  const encoders: SnapshotEncoder[] = [];
  const encoder = (options?: ConstructorParameters<typeof SnapshotEncoder>[0]) => {
    const made = new SnapshotEncoder(options);
    encoders.push(made);
    return made;
  };
  afterEach(async () => {
    await Promise.all(encoders.splice(0).map((made) => made.close()));
  });

  it('encodes on its worker the bytes Fleet.toSnapshot gives, snapshot after snapshot', async () => {
    const fleet = variedFleet();
    const { state, subject } = subjectOf(fleet);
    const snapshots = encoder();
    for (let round = 0; round < 4; round++) {
      const encoded = await snapshots.encode(subject);
      expect(snapshots.running).toBe(true);
      expect(encoded.envelope.fleet).toEqual(state.fleet.toSnapshot());
      const decoded = decodeEnvelope(encoded.bytes);
      expect(new Uint8Array(decoded.fleet)).toEqual(encoded.envelope.fleet);
      expect(decoded.positions).toEqual(state.positions);
      expect(decoded.takenAt).toBe(state.takenAt);
      expect(decoded.traffic).toEqual(state.traffic);
      expect(fleetDifferences(state.fleet, Fleet.fromSnapshot(encoded.envelope.fleet))).toEqual([]);
      churn(state.fleet, round + 1, 100_000 * (round + 1));
      state.takenAt += 10_000;
    }
    // A restore replaces the fleet object (other slots for the same ids): the worker's lists follow.
    state.fleet = Fleet.fromSnapshot(fleet.toSnapshot());
    churn(state.fleet, 9, 900_000);
    expect((await snapshots.encode(subject)).envelope.fleet).toEqual(state.fleet.toSnapshot());
  });

  it('starts its worker before the first snapshot when asked, and not once closed', async () => {
    const fleet = variedFleet(100);
    const { subject } = subjectOf(fleet);
    const snapshots = encoder();
    expect(snapshots.running).toBe(false);
    snapshots.startWorker();
    expect(snapshots.running).toBe(true);
    snapshots.startWorker();
    expect((await snapshots.encode(subject)).envelope.fleet).toEqual(fleet.toSnapshot());
    await snapshots.close();
    snapshots.startWorker();
    expect(snapshots.running).toBe(false);
  });

  it('writes version 1 byte for byte', async () => {
    const { subject } = subjectOf(goldenFleet());
    const encoded = await encoder().encode(subject);
    expect(encoded.envelope.fleet).toEqual(new Uint8Array(Buffer.from(GOLDEN_V1_BASE64, 'base64')));
  });

  it('fails a snapshot whose worker crashes, and sends everything to the next worker', async () => {
    const fleet = variedFleet(200);
    const { state, subject } = subjectOf(fleet);
    const snapshots = encoder({ workerUrl: FAULTY_WORKER });
    await snapshots.encode(subject);
    state.takenAt = CRASH_AT;
    await expect(snapshots.encode(subject)).rejects.toThrow(/crashed on purpose/);
    expect(snapshots.running).toBe(false);
    // The new worker knows no ids: had they not been sent again, the snapshot would lack them.
    state.takenAt = 9_000;
    churn(fleet, 3, 300_000);
    const encoded = await snapshots.encode(subject);
    expect(encoded.envelope.fleet).toEqual(fleet.toSnapshot());
  });

  it('fails a snapshot the worker refuses or does not answer in time, then works again', async () => {
    const fleet = variedFleet(100);
    const { state, subject } = subjectOf(fleet);
    const snapshots = encoder({ workerUrl: FAULTY_WORKER, timeoutMs: 300 });
    state.takenAt = REFUSE_AT;
    await expect(snapshots.encode(subject)).rejects.toThrow(/refused on purpose/);
    state.takenAt = HANG_AT;
    await expect(snapshots.encode(subject)).rejects.toThrow(/did not answer within 300 ms/);
    expect(snapshots.running).toBe(false);
    state.takenAt = 9_000;
    expect((await snapshots.encode(subject)).envelope.fleet).toEqual(fleet.toSnapshot());
  });

  it("writes the next envelope into the memory of one given back, and never into the calling thread's", async () => {
    const fleet = variedFleet(300);
    const { state, subject } = subjectOf(fleet);
    const snapshots = encoder();
    const first = await snapshots.encode(subject);
    const size = first.bytes.buffer.byteLength;
    snapshots.recycle(first);
    churn(fleet, 4, 400_000);
    state.takenAt += 1;
    const second = await snapshots.encode(subject);
    // Moved to the worker and written over: the first snapshot's bytes are gone from here.
    expect(first.bytes.byteLength).toBe(0);
    expect(second.bytes.buffer.byteLength).toBe(size);
    expect(second.envelope.fleet).toEqual(fleet.toSnapshot());
    expect(decodeEnvelope(second.bytes).takenAt).toBe(state.takenAt);

    await snapshots.close();
    const inline = await snapshots.encode(subject);
    snapshots.recycle(inline);
    snapshots.open();
    await snapshots.encode(subject);
    expect(inline.bytes.byteLength).toBeGreaterThan(0);
    expect(decodeEnvelope(inline.bytes).takenAt).toBe(state.takenAt);
  });

  it('refuses a second snapshot while one is being encoded', async () => {
    const { subject } = subjectOf(variedFleet(50));
    const snapshots = encoder();
    const first = snapshots.encode(subject);
    await expect(snapshots.encode(subject)).rejects.toThrow(/already being encoded/);
    await first;
  });

  it('encodes in the calling thread once closed, and on a worker again once reopened', async () => {
    const fleet = variedFleet(80);
    const { subject } = subjectOf(fleet);
    const snapshots = encoder();
    await snapshots.encode(subject);
    await snapshots.close();
    expect(snapshots.running).toBe(false);
    const encoded = await snapshots.encode(subject);
    expect(snapshots.running).toBe(false);
    expect(encoded.envelope.fleet).toEqual(fleet.toSnapshot());
    snapshots.open();
    await snapshots.encode(subject);
    expect(snapshots.running).toBe(true);
  });

  it('names a bad timeout', () => {
    expect(() => new SnapshotEncoder({ timeoutMs: 0 })).toThrow(
      /options.timeoutMs must be a positive number, got 0/,
    );
  });
});
