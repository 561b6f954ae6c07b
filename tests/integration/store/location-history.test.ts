import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocationHistory } from '../../../engine/location-history.ts';
import { createLogger } from '../../../engine/logger.ts';
import { migrate } from '../../../engine/migrate.ts';
import { Engine } from '../../../engine/engine.ts';
import { InProcessBus } from '../../../engine/in-process-bus.ts';
import { Metrics } from '../../../engine/metrics.ts';
import type { SqlExecutor, Store } from '../../../engine/store.ts';
import { TotError } from '../../../geo/errors.ts';
import { storeImplementations } from '../../support/stores.ts';

const day = Date.UTC(2026, 10, 22);

describe.each(storeImplementations)('location history: %s', (_name, open) => {
  let store: Store;
  const doctor = `hist-${process.pid}-${Math.floor(Math.random() * 1e9)}`;

  beforeAll(async () => {
    store = await open();
    await migrate(store);
  });
  afterAll(async () => {
    await store.query('DELETE FROM geo.location_history WHERE doctor_id LIKE $1', [`${doctor}%`]);
    await store.close();
  });

  it('writes fixes in batches into daily partitions and reads a track back in time order', async () => {
    const history = new LocationHistory({ store, logger: createLogger('silent'), batchRows: 100 });
    const fixes = Array.from({ length: 250 }, (_, i) => ({
      doctorId: doctor,
      lat: 55.7 + i * 1e-4,
      lng: 37.6 + i * 1e-4,
      ts: day + 9 * 3_600_000 + (249 - i) * 1000, // appended newest first: the track must still come out in time order
      accuracy: 5,
      speed: 10,
      heading: 45,
      battery: 80,
    }));
    for (const fix of fixes) history.append(fix);
    history.append({ doctorId: `${doctor}-other`, lat: 55, lng: 37, ts: day + 9 * 3_600_000 });
    expect(await history.flush(day + 10 * 3_600_000)).toBe(251);
    expect(history.pending).toBe(0);

    const track = await history.track(doctor, day, day + DAY, 10_000);
    expect(track).toHaveLength(250);
    const times = track.map((point) => point[2]);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const newest = fixes[0]!;
    expect(track.at(-1)![0]).toBeCloseTo(newest.lng, 9);
    expect(track.at(-1)![1]).toBeCloseTo(newest.lat, 9);
    expect(track.at(-1)![2]).toBe(newest.ts);

    // The rows sit in the day's partition, not in the default one.
    const partitions = await store.query<{ partition: string }>(
      `SELECT DISTINCT tableoid::regclass::text AS partition FROM geo.location_history WHERE doctor_id = $1`,
      [doctor],
    );
    expect(partitions.rows.map((row) => row.partition)).toEqual(['geo.location_history_20261122']);

    expect(await history.track(doctor, day, day + 9 * 3_600_000 + 10_000, 10_000)).toHaveLength(10);
    expect(await history.track(doctor, day, day + DAY, 5)).toHaveLength(5);
  });

  it('keeps the rows of a failed flush and writes them on the next', async () => {
    let failing = true;
    const flaky = {
      query: async <Row>(text: string, params?: readonly unknown[]) => {
        if (failing && text.includes('INSERT')) throw new Error('connection lost');
        return store.query<Row>(text, params);
      },
      exec: (script: string) => store.exec(script),
    };
    const history = new LocationHistory({ store: flaky, logger: createLogger('silent') });
    history.append({ doctorId: `${doctor}-retry`, lat: 55.7, lng: 37.6, ts: day + 1000 });
    await expect(history.flush(day + 2000)).rejects.toThrow('connection lost');
    expect(history.pending).toBe(1);
    failing = false;
    expect(await history.flush(day + 2000)).toBe(1);
    expect(await history.track(`${doctor}-retry`, day, day + DAY, 10)).toHaveLength(1);
  });

  it('bounds the buffer, counting what it drops', () => {
    let dropped = 0;
    const history = new LocationHistory({
      store,
      logger: createLogger('silent'),
      maxBufferedRows: 3,
      onDropped: (rows) => (dropped += rows),
    });
    for (let i = 0; i < 5; i++) history.append({ doctorId: 'x', lat: 0, lng: 0, ts: day + i });
    expect(history.pending).toBe(3);
    expect(dropped).toBe(2);
  });

  it('drops whole days past the retention', async () => {
    const history = new LocationHistory({ store, logger: createLogger('silent') });
    await history.ensurePartitions(day - 30 * DAY);
    const dropped = await history.prune(day, 7);
    expect(dropped).toBeGreaterThanOrEqual(4);
    const left = await store.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'location_history' AND c.relname < 'location_history_20261115'`,
    );
    expect(left.rows.filter((row) => /\d{8}$/.test(row.relname))).toEqual([]);
  });
});

describe.each(storeImplementations)('the engine pruning location history: %s', (_name, open) => {
  let store: Store;
  const bus = new InProcessBus();

  beforeAll(async () => {
    store = await open();
    await migrate(store);
  });
  afterAll(async () => {
    await bus.close();
    await store.close();
  });

  it('tries a prune the store refused (still starting) again at the next flush, not an hour later', async () => {
    // The store as the composition root hands it out: refused with ENGINE_STORE_UNAVAILABLE until it is ready.
    let ready = false;
    const gate = <T>(run: () => Promise<T>): Promise<T> =>
      ready
        ? run()
        : Promise.reject(
            new TotError('ENGINE_STORE_UNAVAILABLE', 'the store is starting', { state: 'starting' }),
          );
    const gated: SqlExecutor = {
      query: (...args) => gate(() => store.query(...args)),
      exec: (script) => gate(() => store.exec(script)),
    };
    const history = new LocationHistory({ store: gated, logger: createLogger('silent') });
    const metrics = new Metrics({ processMetrics: false });
    const engine = new Engine({
      bus,
      logger: createLogger('silent'),
      metrics,
      clock: () => day,
      fleet: { offlineAfterMs: 60_000 },
      history,
      historyRetentionDays: 7,
    });
    ready = true;
    await history.ensurePartitions(day - 20 * DAY);
    ready = false;
    await engine.flushHistory();
    ready = true;
    await engine.flushHistory();
    const left = await store.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE p.relname = 'location_history' AND c.relname < 'location_history_20261115'`,
    );
    expect(left.rows.filter((row) => /\d{8}$/.test(row.relname))).toEqual([]);
  });
});

const DAY = 86_400_000;
