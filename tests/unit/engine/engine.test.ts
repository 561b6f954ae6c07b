import { unpack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backup, SnapshotEnvelope } from '../../../engine/backup.ts';
import { decodeEnvelope, encodeEnvelope } from '../../../engine/backup.ts';
import type { BusRecord, PartState } from '../../../engine/bus.ts';
import { TOPICS } from '../../../engine/bus.ts';
import { Engine } from '../../../engine/engine.ts';
import { InProcessBus } from '../../../engine/in-process-bus.ts';
import { createLogger } from '../../../engine/logger.ts';
import { Metrics } from '../../../engine/metrics.ts';
import { waitFor } from '../../support/wait.ts';

const start = Date.UTC(2026, 10, 22, 8, 0, 0);

class MemoryBackup implements Backup {
  readonly kind = 'memory';
  saved: SnapshotEnvelope[] = [];
  failing = false;
  async save(envelope: SnapshotEnvelope): Promise<void> {
    if (this.failing) throw new Error('backup unreachable');
    // Through the codec, as a real backup does.
    this.saved.push(decodeEnvelope(encodeEnvelope(envelope)));
  }
  async load() {
    return this.saved.at(-1);
  }
  state(): PartState {
    return this.failing ? 'degraded' : 'ready';
  }
  async close() {}
}

describe('Engine', () => {
  const buses: InProcessBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  function setup() {
    let now = start;
    const bus = new InProcessBus();
    buses.push(bus);
    const engine = new Engine({
      bus,
      logger: createLogger('silent'),
      metrics: new Metrics({ processMetrics: false }),
      clock: () => now,
      fleet: { offlineAfterMs: 60_000 },
    });
    return { engine, bus, advance: (ms: number) => (now += ms), now: () => now };
  }

  it('restores from a snapshot the fleet, the traffic field and the stream positions', () => {
    const { engine } = setup();
    engine.fleet.register({ id: 'd1', specializations: ['therapist'], rating: 4.8 }, start);
    engine.applyFix({ doctorId: 'd1', lat: 55.75, lng: 37.61, ts: start, heading: 90 }, start);
    engine.applyReading({ detectorId: 'det', ts: start, speedKmh: 12, lat: 55.75, lng: 37.61 }, start);
    engine.markApplied(TOPICS.fixes, 2, 41);
    engine.markApplied(TOPICS.readings, 0, 7);
    const envelope = decodeEnvelope(encodeEnvelope(engine.snapshot()));

    const { engine: other } = setup();
    expect(other.restore(envelope)).toEqual({ [TOPICS.fixes]: { 2: 41 }, [TOPICS.readings]: { 0: 7 } });
    expect(other.fleet.get('d1')).toEqual(engine.fleet.get('d1'));
    expect(other.traffic.speedAt({ lat: 55.75, lng: 37.61 }, start)).toBe(
      engine.traffic.speedAt({ lat: 55.75, lng: 37.61 }, start),
    );
    expect(other.appliedPositions()).toEqual(engine.appliedPositions());
  });

  it('refuses a corrupt snapshot and keeps its state', () => {
    const { engine } = setup();
    engine.fleet.register({ id: 'keep' }, start);
    const envelope = { ...engine.snapshot(), fleet: new Uint8Array([1, 2, 3]) };
    expect(() => engine.restore(envelope)).toThrow(
      expect.objectContaining({ code: 'ENGINE_INVALID_SNAPSHOT' }),
    );
    expect(engine.fleet.get('keep')).toBeDefined();
  });

  it('publishes DoctorWentOffline on tot.events when a doctor falls silent', async () => {
    const { engine, bus, advance } = setup();
    const events: BusRecord[] = [];
    await bus.subscribe([TOPICS.events], (records) => void events.push(...records), { group: 'test' });
    engine.fleet.register({ id: 'quiet' }, start);
    engine.applyFix({ doctorId: 'quiet', lat: 55.7, lng: 37.6, ts: start }, start);
    advance(61_000);
    await engine.sweep();
    const offline = await waitFor(() =>
      events
        .map((record) => unpack(record.value) as { type: string; doctorId: string })
        .find((e) => e.type === 'DoctorWentOffline'),
    );
    expect(offline.doctorId).toBe('quiet');
    expect(
      events.find((record) => (unpack(record.value) as { type: string }).type === 'DoctorWentOffline')!.key,
    ).toBe('quiet');
    expect(engine.fleet.get('quiet')!.status).toBe('offline');
  });

  it('tells snapshot listeners the saved positions only after the backup accepted the snapshot', async () => {
    const { engine } = setup();
    const backup = new MemoryBackup();
    const committed: unknown[] = [];
    engine.onSnapshotSaved((positions) => void committed.push(positions));
    engine.markApplied(TOPICS.fixes, 0, 10);

    backup.failing = true;
    await engine.saveSnapshot(backup);
    expect(committed).toEqual([]);

    backup.failing = false;
    engine.markApplied(TOPICS.fixes, 0, 12);
    await engine.saveSnapshot(backup);
    expect(committed).toEqual([{ [TOPICS.fixes]: { 0: 12 } }]);
    expect(backup.saved.at(-1)!.positions).toEqual({ [TOPICS.fixes]: { 0: 12 } });
  });

  it('counts an applied reading and rejects an impossible one with a coded error', () => {
    const { engine } = setup();
    expect(
      engine.applyReading({ detectorId: 'd', ts: start, speedKmh: 40, lat: 55.7, lng: 37.6 }, start),
    ).toBe('applied');
    expect(() =>
      engine.applyReading({ detectorId: 'd', ts: start + 1, speedKmh: 400, lat: 55.7, lng: 37.6 }, start),
    ).toThrow(expect.objectContaining({ code: 'GEO_INVALID_READING' }));
  });
});
