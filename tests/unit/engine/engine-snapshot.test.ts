import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backup, SnapshotEnvelope } from '../../../engine/backup.ts';
import { decodeEnvelope } from '../../../engine/backup.ts';
import { type PartState, type StreamPositions, TOPICS } from '../../../engine/bus.ts';
import { Engine } from '../../../engine/engine.ts';
import { fleetDifferences } from '../../../engine/fleet-compare.ts';
import { type Fix, Fleet } from '../../../engine/fleet.ts';
import { InProcessBus } from '../../../engine/in-process-bus.ts';
import { createLogger } from '../../../engine/logger.ts';
import { Metrics } from '../../../engine/metrics.ts';
import { SnapshotEncoder } from '../../../engine/snapshot-encoder.ts';
import { CRASH_AT } from './faulty-snapshot-worker.ts';

const OFFLINE_AFTER_MS = 3_600_000;

/** Keeps what it is given, as a real backup stores it: the encoded bytes when there are some. */
class MemoryBackup implements Backup {
  readonly kind = 'memory';
  // It decodes what it is given during save(), so the engine may reuse the bytes afterwards.
  readonly releasesBytes = true;
  readonly saved: SnapshotEnvelope[] = [];
  async save(envelope: SnapshotEnvelope, encoded?: Uint8Array): Promise<void> {
    this.saved.push(encoded ? decodeEnvelope(encoded) : envelope);
  }
  async load() {
    return this.saved.at(-1);
  }
  state(): PartState {
    return 'ready';
  }
  async close() {}
}

/** The n-th fix of the test stream: 300 doctors moving about the city, one fix per offset. */
function fixAt(n: number): Fix {
  return {
    doctorId: `doctor-${n % 300}`,
    lat: 55.6 + ((n * 37) % 1000) * 2e-4,
    lng: 37.4 + ((n * 53) % 1000) * 3e-4,
    ts: 1_000 + n,
    speed: n % 20,
  };
}

describe('Engine snapshots off the event loop', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function setup(options: { encoder?: SnapshotEncoder; clock?: () => number } = {}) {
    const bus = new InProcessBus();
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const metrics = new Metrics({ processMetrics: false });
    const engine = new Engine({
      bus,
      logger: createLogger('warn', destination),
      metrics,
      fleet: { offlineAfterMs: OFFLINE_AFTER_MS },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.encoder ? { snapshotEncoder: options.encoder } : {}),
    });
    cleanups.push(async () => {
      await engine.stop();
      await bus.close();
    });
    const snapshotCount = async (outcome: string) =>
      (await metrics.snapshots.get()).values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
    return { engine, lines, snapshotCount };
  }

  it('holds one moment: the positions saved are exactly the fixes in the state, though fixes keep arriving', async () => {
    const { engine } = setup();
    let offset = 0;
    const applyNext = () => {
      const fix = fixAt(offset);
      engine.applyFix(fix, fix.ts);
      engine.markApplied(TOPICS.fixes, 0, ++offset);
    };
    for (let i = 0; i < 2_000; i++) applyNext();
    const backup = new MemoryBackup();
    let saved = false;
    const saving = engine.saveSnapshot(backup).then(() => {
      saved = true;
    });
    // A fix per event-loop turn while the snapshot is captured, encoded on the worker and stored.
    let during = 0;
    while (!saved) {
      applyNext();
      during++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await saving;

    const envelope = backup.saved[0]!;
    const positions = envelope.positions as StreamPositions;
    const applied = positions[TOPICS.fixes]?.[0] as number;
    expect(during).toBeGreaterThan(0);
    expect(applied).toBeGreaterThanOrEqual(2_000);
    // Fixes arrived after the capture and are not in it.
    expect(offset).toBeGreaterThan(applied);
    const expected = new Fleet({ offlineAfterMs: OFFLINE_AFTER_MS });
    for (let n = 0; n < applied; n++) expected.applyFix(fixAt(n), fixAt(n).ts);
    expect(fleetDifferences(expected, Fleet.fromSnapshot(envelope.fleet))).toEqual([]);
  });

  it('counts and logs a snapshot whose worker crashed, keeps serving, and saves the next one', async () => {
    let now = CRASH_AT;
    const encoder = new SnapshotEncoder({
      workerUrl: new URL('./faulty-snapshot-worker.ts', import.meta.url),
    });
    const { engine, lines, snapshotCount } = setup({ encoder, clock: () => now });
    engine.applyFix({ doctorId: 'a', lat: 55.75, lng: 37.61, ts: now }, now);
    engine.markApplied(TOPICS.fixes, 0, 1);
    const committed: StreamPositions[] = [];
    engine.onSnapshotSaved((positions) => void committed.push(positions));
    const backup = new MemoryBackup();

    await engine.saveSnapshot(backup);
    expect(await snapshotCount('failed')).toBe(1);
    expect(backup.saved).toEqual([]);
    expect(committed).toEqual([]);
    const warning = lines.find(
      (line) => line.msg === 'snapshot not saved; the engine keeps serving from memory',
    );
    expect(warning).toMatchObject({ stage: 'encode', backup: 'memory' });
    expect(String((warning?.err as { message?: string }).message)).toMatch(/crashed on purpose/);

    now += 1_000;
    engine.applyFix({ doctorId: 'b', lat: 55.751, lng: 37.611, ts: now }, now);
    engine.markApplied(TOPICS.fixes, 0, 2);
    expect(engine.fleet.nearby(55.75, 37.61, { k: 5 }).map((hit) => hit.doctor.id)).toEqual(['a', 'b']);
    await engine.saveSnapshot(backup);
    expect(await snapshotCount('ok')).toBe(1);
    expect(committed).toEqual([{ [TOPICS.fixes]: { 0: 2 } }]);
    expect(Fleet.fromSnapshot(backup.saved[0]!.fleet).ids().sort()).toEqual(['a', 'b']);
  });

  it('saves snapshot after snapshot right when each reuses the memory of the one before', async () => {
    const { engine } = setup();
    const backup = new MemoryBackup();
    for (let round = 0; round < 4; round++) {
      for (let n = 0; n < 500; n++) engine.applyFix(fixAt(round * 500 + n), fixAt(round * 500 + n).ts);
      engine.markApplied(TOPICS.fixes, 0, (round + 1) * 500);
      await engine.saveSnapshot(backup);
      const saved = backup.saved[round]!;
      expect(saved.positions).toEqual({ [TOPICS.fixes]: { 0: (round + 1) * 500 } });
      expect(fleetDifferences(engine.fleet, Fleet.fromSnapshot(saved.fleet))).toEqual([]);
    }
  });

  it('saves a last snapshot after stop, in the calling thread', async () => {
    const { engine } = setup();
    engine.applyFix({ doctorId: 'last', lat: 55.7, lng: 37.6, ts: 5 }, 5);
    engine.markApplied(TOPICS.fixes, 1, 9);
    const backup = new MemoryBackup();
    await engine.saveSnapshot(backup);
    await engine.stop();
    engine.applyFix({ doctorId: 'later', lat: 55.71, lng: 37.61, ts: 6 }, 6);
    await engine.saveSnapshot(backup);
    expect(backup.saved).toHaveLength(2);
    expect(Fleet.fromSnapshot(backup.saved[1]!.fleet).ids().sort()).toEqual(['last', 'later']);
    expect(backup.saved[1]!.positions).toEqual({ [TOPICS.fixes]: { 1: 9 } });
  });
});
