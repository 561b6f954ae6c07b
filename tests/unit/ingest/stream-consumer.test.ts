/**
 * StreamConsumer on the in-process bus with a real Engine: good fixes are applied, replays are counted as stale, each
 * malformed record becomes exactly one dead letter naming its reason, topic, partition, offset and index, the good
 * records beside it are applied, the consumer keeps going, positions are marked, and commits cover only what this
 * consumer applied.
 */
import { unpack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backup, SnapshotEnvelope } from '../../../engine/backup.ts';
import {
  topicNames,
  type BatchHandler,
  type Bus,
  type BusRecord,
  type OutgoingMessage,
  type StreamPositions,
  type SubscribeOptions,
  type Subscription,
} from '../../../engine/bus.ts';
import { Engine } from '../../../engine/engine.ts';
import { InProcessBus, partitionOf } from '../../../engine/in-process-bus.ts';
import { createLogger } from '../../../engine/logger.ts';
import { Metrics } from '../../../engine/metrics.ts';
import { encodeRecords, MAX_RECORD_BYTES } from '../../../ingest/codec.ts';
import type { DeadLetter } from '../../../ingest/stream-consumer.ts';
import { StreamConsumer } from '../../../ingest/stream-consumer.ts';
import { waitFor } from '../../support/wait.ts';

const PARTITIONS = 4;
const topics = topicNames('unit');
const now = Date.UTC(2026, 10, 22, 9, 0, 0);
const fix = (doctorId: string, ts: number, lat = 55.75, lng = 37.61) => ({ doctorId, lat, lng, ts });

/** Counts the bus's commits and delegates everything to an in-process bus. */
class CommitSpyBus implements Bus {
  readonly kind = 'spy';
  readonly commits: StreamPositions[] = [];
  refuseCommits = false;
  /** The lag observers subscribers passed, in subscription order. */
  readonly lagObservers: NonNullable<SubscribeOptions['onLag']>[] = [];
  constructor(readonly inner: InProcessBus) {}
  ensureTopics(names: readonly string[]): Promise<void> {
    return this.inner.ensureTopics(names);
  }
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    return this.inner.publish(topic, messages);
  }
  async subscribe(
    names: readonly string[],
    handler: BatchHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const subscription = await this.inner.subscribe(names, handler, options);
    if (options.onLag) this.lagObservers.push(options.onLag);
    return {
      commit: async (positions) => {
        if (this.refuseCommits) throw new Error('rebalance in progress');
        this.commits.push(structuredClone(positions));
        await subscription.commit(positions);
      },
      close: () => subscription.close(),
    };
  }
  state() {
    return this.inner.state();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Harness {
  bus: CommitSpyBus;
  engine: Engine;
  metrics: Metrics;
  consumer: StreamConsumer;
  letters: DeadLetter[];
  /** Publishes and waits until the consumer has applied everything published so far. */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  counter(name: string, labels: Record<string, string>): Promise<number>;
}

describe('StreamConsumer', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(
    from?: StreamPositions,
    options: { replayWindowMs?: number; clock?: () => number; offlineAfterMs?: number } = {},
  ): Promise<Harness> {
    const bus = new CommitSpyBus(new InProcessBus({ partitions: PARTITIONS, maxBatch: 64 }));
    const logger = createLogger('silent');
    const metrics = new Metrics({ processMetrics: false });
    const clock = options.clock ?? (() => now);
    const fleet = options.offlineAfterMs === undefined ? {} : { offlineAfterMs: options.offlineAfterMs };
    const engine = new Engine({ bus, logger, metrics, topics, clock, fleet });
    const consumer = new StreamConsumer({
      bus,
      sink: engine,
      logger,
      metrics,
      group: 'engine',
      topics,
      clock,
      ...(options.replayWindowMs === undefined ? {} : { replayWindowMs: options.replayWindowMs }),
    });
    const letters: DeadLetter[] = [];
    const dlq = await bus.subscribe(
      [topics.dlq],
      (records) => void letters.push(...records.map(decodeLetter)),
      {
        group: 'dlq-reader',
      },
    );
    await consumer.start(from);
    cleanups.push(async () => {
      await consumer.stop();
      await dlq.close();
      await bus.close();
    });
    // Next offset published per topic and partition, to wait for the consumer to reach it.
    const published: StreamPositions = {};
    const send = async (topic: string, messages: OutgoingMessage[]) => {
      for (const message of messages) {
        const partition = partitionOf(message.key, PARTITIONS);
        const byPartition = (published[topic] ??= {});
        byPartition[partition] = (byPartition[partition] ?? from?.[topic]?.[partition] ?? 0) + 1;
      }
      await bus.publish(topic, messages);
      await waitFor(
        () => {
          const applied = engine.appliedPositions();
          const done = Object.entries(published).every(([name, byPartition]) =>
            Object.entries(byPartition).every(
              ([partition, next]) => applied[name]?.[Number(partition)] === next,
            ),
          );
          return done ? true : undefined;
        },
        { timeoutMs: 5_000, what: 'the consumer to apply everything published' },
      );
    };
    const counter = async (name: string, labels: Record<string, string>) => {
      const metric = await metrics.registry.getSingleMetric(name)?.get();
      const entries = metric?.values.filter((value) =>
        Object.entries(labels).every(
          ([key, wanted]) => (value.labels as Record<string, unknown>)[key] === wanted,
        ),
      );
      return (entries ?? []).reduce((sum, value) => sum + value.value, 0);
    };
    return { bus, engine, metrics, consumer, letters, send, counter };
  }

  it('applies good fixes and counts replays as stale', async () => {
    const { engine, send, counter, letters } = await start();
    const messages = Array.from({ length: 50 }, (_, i) => ({
      key: `doc-${i % 10}`,
      value: encodeRecords(fix(`doc-${i % 10}`, now - 1000 + i, 55.7 + i / 1000, 37.6)),
    }));
    await send(topics.fixes, messages);
    for (let doctor = 0; doctor < 10; doctor++) {
      const last = 40 + doctor;
      expect(engine.fleet.get(`doc-${doctor}`)).toMatchObject({
        lat: 55.7 + last / 1000,
        lastFixAt: now - 1000 + last,
      });
    }
    expect(await counter('tot_stream_messages_total', { topic: topics.fixes, outcome: 'applied' })).toBe(50);

    // The same fixes again (a redelivery after a crash): nothing changes, each is counted as stale.
    await send(topics.fixes, messages);
    expect(await counter('tot_stream_messages_total', { topic: topics.fixes, outcome: 'stale' })).toBe(50);
    expect(await counter('tot_stream_messages_total', { topic: topics.fixes, outcome: 'applied' })).toBe(50);
    expect(engine.fleet.get('doc-3')).toMatchObject({ lat: 55.7 + 43 / 1000 });
    expect(letters).toEqual([]);
  });

  it('turns each malformed record into one dead letter with its reason, origin and index, and keeps consuming', async () => {
    const { engine, send, counter, letters } = await start();
    const good = fix('doc-ok', now - 5000);
    const truncated = encodeRecords([good, good]);
    const cases: { name: string; value: Uint8Array; reason: string; index: number; detail?: string }[] = [
      {
        name: 'random',
        value: Uint8Array.from([0x92, 0xc1, 0xff, 0x13, 0x37]),
        reason: 'not_msgpack',
        index: -1,
      },
      {
        name: 'truncated',
        value: truncated.subarray(0, truncated.length - 4),
        reason: 'not_msgpack',
        index: -1,
      },
      { name: 'empty', value: new Uint8Array(0), reason: 'not_msgpack', index: -1 },
      { name: 'empty-batch', value: encodeRecords([]), reason: 'invalid', index: -1 },
      { name: 'too-large', value: new Uint8Array(MAX_RECORD_BYTES + 1), reason: 'too_large', index: -1 },
      {
        name: 'nan',
        value: encodeRecords({ ...good, lat: Number.NaN }),
        reason: 'invalid',
        index: 0,
        detail: 'lat',
      },
      {
        name: 'infinity',
        value: encodeRecords({ ...good, lng: -Infinity }),
        reason: 'invalid',
        index: 0,
        detail: 'lng',
      },
      {
        name: 'range',
        value: encodeRecords({ ...good, lat: 91 }),
        reason: 'invalid',
        index: 0,
        detail: 'lat',
      },
      { name: 'type', value: encodeRecords({ ...good, ts: '1' }), reason: 'invalid', index: 0, detail: 'ts' },
      {
        name: 'missing',
        value: encodeRecords({ lat: 1, lng: 2, ts: now }),
        reason: 'invalid',
        index: 0,
        detail: 'doctorId',
      },
      { name: 'not-object', value: encodeRecords('text'), reason: 'invalid', index: 0, detail: '(record)' },
      {
        name: 'future',
        value: encodeRecords({ ...good, ts: now + 3_600_000 }),
        reason: 'timestamp_out_of_range',
        index: 0,
      },
      {
        name: 'past',
        value: encodeRecords({ ...good, ts: now - 3 * 86_400_000 }),
        reason: 'timestamp_out_of_range',
        index: 0,
      },
    ];
    const messages = cases.flatMap((bad, i) => [
      { key: `bad-${bad.name}`, value: bad.value },
      // A good fix after every bad one, on another key: the consumer never stops.
      { key: `doc-${i}`, value: encodeRecords(fix(`doc-${i}`, now - 1000)) },
    ]);
    await send(topics.fixes, messages);

    for (let i = 0; i < cases.length; i++) expect(engine.fleet.get(`doc-${i}`)?.lat).toBe(55.75);
    await waitFor(() => (letters.length >= cases.length ? true : undefined), { what: 'dead letters' });
    expect(letters).toHaveLength(cases.length);
    for (const bad of cases) {
      const key = `bad-${bad.name}`;
      const letter = letters.find((candidate) => candidate.key === key);
      expect(letter, key).toMatchObject({
        reason: bad.reason,
        topic: topics.fixes,
        index: bad.index,
        at: now,
      });
      expect(letter!.partition).toBe(partitionOf(key, PARTITIONS));
      expect(Number.isInteger(letter!.offset)).toBe(true);
      if (bad.detail) expect(letter!.detail.startsWith(`${bad.detail}:`), letter!.detail).toBe(true);
      // The original value travels with the letter (cut to 64 KiB).
      expect(Buffer.from(letter!.value)).toEqual(Buffer.from(bad.value.subarray(0, 64 * 1024)));
    }
    // Offsets of the letters are those of the bad messages: every other offset of their partitions held a good fix.
    const offsets = new Set(letters.map((letter) => `${letter.partition}/${letter.offset}`));
    expect(offsets.size).toBe(cases.length);

    expect(await counter('tot_dead_letters_total', {})).toBe(cases.length);
    expect(await counter('tot_dead_letters_total', { reason: 'not_msgpack' })).toBe(3);
    expect(await counter('tot_dead_letters_total', { reason: 'timestamp_out_of_range' })).toBe(2);
    expect(await counter('tot_stream_messages_total', { outcome: 'dead_letter' })).toBe(cases.length);
    expect(await counter('tot_stream_messages_total', { outcome: 'applied' })).toBe(cases.length);
  });

  it('applies the good records of a batch and dead-letters each bad one with its index', async () => {
    const { engine, send, letters, counter } = await start();
    const batch = [
      fix('doc-a', now - 10),
      { ...fix('doc-b', now - 10), lat: Number.POSITIVE_INFINITY },
      fix('doc-c', now - 10),
      null,
      { ...fix('doc-d', now - 10), speed: -3 },
      fix('doc-e', now - 10),
    ];
    await send(topics.fixes, [{ key: 'gateway-1', value: encodeRecords(batch) }]);
    expect(['doc-a', 'doc-c', 'doc-e'].map((id) => engine.fleet.get(id)?.lat)).toEqual([55.75, 55.75, 55.75]);
    expect(['doc-b', 'doc-d'].map((id) => engine.fleet.get(id))).toEqual([undefined, undefined]);
    await waitFor(() => (letters.length >= 3 ? true : undefined), { what: 'dead letters' });
    expect(letters.map((letter) => [letter.index, letter.reason, letter.detail.split(':')[0]])).toEqual([
      [1, 'invalid', 'lat'],
      [3, 'invalid', '(record)'],
      [4, 'invalid', 'speed'],
    ]);
    expect(new Set(letters.map((letter) => letter.offset)).size).toBe(1);
    expect(await counter('tot_stream_messages_total', { outcome: 'applied' })).toBe(3);
  });

  it('dead-letters readings the engine refuses, with the error code', async () => {
    const { engine, send, letters, counter } = await start();
    await send(topics.readings, [
      {
        key: 'det-1',
        value: encodeRecords({ detectorId: 'det-1', ts: now - 60_000, speedKmh: 42, lat: 55.75, lng: 37.61 }),
      },
      // Valid for the schema, but a detector without a known position must say where it is.
      { key: 'det-2', value: encodeRecords({ detectorId: 'det-2', ts: now - 60_000, speedKmh: 42 }) },
      {
        key: 'det-3',
        value: encodeRecords({ detectorId: 'det-3', ts: now - 60_000, speedKmh: 251, lat: 55.7, lng: 37.6 }),
      },
    ]);
    await waitFor(() => (letters.length >= 2 ? true : undefined), { what: 'dead letters' });
    const byKey = Object.fromEntries(letters.map((letter) => [letter.key, letter]));
    expect(byKey['det-2']).toMatchObject({ reason: 'rejected', topic: topics.readings, index: 0 });
    expect(byKey['det-2']!.detail).toContain('GEO_INVALID_READING');
    expect(byKey['det-3']).toMatchObject({ reason: 'invalid', topic: topics.readings });
    expect(byKey['det-3']!.detail).toMatch(/^speedKmh:/);
    expect(engine.traffic.toSnapshot()).toBeTruthy();
    expect(await counter('tot_stream_messages_total', { topic: topics.readings, outcome: 'applied' })).toBe(
      1,
    );
  });

  it('marks the next offset of every partition it applied, in the engine and in the position gauge', async () => {
    const { engine, send, counter } = await start();
    const messages = Array.from({ length: 200 }, (_, i) => ({
      key: `doc-${i % 25}`,
      value: encodeRecords(fix(`doc-${i % 25}`, now - 1000 + i)),
    }));
    await send(topics.fixes, messages);
    const expected: Record<number, number> = {};
    for (const message of messages) {
      const partition = partitionOf(message.key, PARTITIONS);
      expected[partition] = (expected[partition] ?? 0) + 1;
    }
    expect(engine.appliedPositions()).toEqual({ [topics.fixes]: expected });
    for (const [partition, next] of Object.entries(expected)) {
      expect(await counter('tot_stream_partition_position', { topic: topics.fixes, partition })).toBe(next);
    }
  });

  it('commits only partitions it applied, only when they moved, and never restored positions of others', async () => {
    const keyOn = (partition: number) => {
      for (let i = 0; ; i++) if (partitionOf(`doc-${i}`, PARTITIONS) === partition) return `doc-${i}`;
    };
    // A restored snapshot reflects partitions 0 and 1 (say another instance owns partition 1 by now).
    const restored: StreamPositions = { [topics.fixes]: { 0: 0, 1: 7 } };
    const { bus, consumer, engine, send } = await start(restored, { replayWindowMs: 0 });
    engine.restore({ ...engine.snapshot(), positions: restored });
    const doctor = keyOn(0);
    await send(topics.fixes, [{ key: doctor, value: encodeRecords(fix(doctor, now - 100)) }]);

    await consumer.commit(engine.appliedPositions());
    expect(bus.commits).toEqual([{ [topics.fixes]: { 0: 1 } }]);
    // Nothing moved since: nothing to commit.
    await consumer.commit(engine.appliedPositions());
    expect(bus.commits).toHaveLength(1);

    await send(topics.fixes, [{ key: doctor, value: encodeRecords(fix(doctor, now - 50)) }]);
    await consumer.commit(engine.appliedPositions());
    expect(bus.commits).toEqual([{ [topics.fixes]: { 0: 1 } }, { [topics.fixes]: { 0: 2 } }]);
  });

  it('holds commits back to the first record applied within the replay window of the sink, and to nothing before a whole window', async () => {
    let time = now;
    const { bus, consumer, engine, send } = await start(undefined, {
      clock: () => time,
      offlineAfterMs: 10_000,
    });
    expect(engine.replayWindowMs(topics.fixes)).toBe(10_000);
    expect(engine.replayWindowMs(topics.readings)).toBe(25 * 60_000);
    const doctor = 'doc-0';
    const partition = partitionOf(doctor, PARTITIONS);
    const fixes = (from: number) =>
      Array.from({ length: 5 }, (_, i) => ({
        key: doctor,
        value: encodeRecords(fix(doctor, now - 100 + from + i)),
      }));

    await send(topics.fixes, fixes(0));
    // Not a whole window of its own history yet: records before it started (an earlier life of this instance,
    // resumed from its snapshot) may be within the window, so the group's commit is left alone.
    time = now + 2_000;
    await consumer.commit(engine.appliedPositions());
    expect(bus.commits).toEqual([]);
    time = now + 5_000;
    await send(topics.fixes, fixes(5));
    // 12 s on: the first five were applied more than the 10 s window (and a checkpoint interval) ago.
    time = now + 12_000;
    await consumer.commit(engine.appliedPositions());
    // 2 s later the second five are still within the window: the commit has not moved, nothing is sent.
    time = now + 14_000;
    await consumer.commit(engine.appliedPositions());
    // Long after: nothing applied within the window, the commit catches up with the snapshot.
    time = now + 60_000;
    await consumer.commit(engine.appliedPositions());
    expect(bus.commits).toEqual([
      { [topics.fixes]: { [partition]: 5 } },
      { [topics.fixes]: { [partition]: 10 } },
    ]);
  });

  it('sets tot_stream_lag_records from lag reports and removes partitions a report no longer has', async () => {
    const { bus, consumer, metrics } = await start();
    const report = bus.lagObservers[0]!;
    const lags = async () =>
      (await metrics.streamLag.get()).values.map(({ labels, value }) => [
        labels.topic,
        labels.partition,
        value,
      ]);
    report([
      { topic: topics.fixes, partition: 0, lag: 7 },
      { topic: topics.fixes, partition: 1, lag: 0 },
    ]);
    expect(await lags()).toEqual([
      [topics.fixes, '0', 7],
      [topics.fixes, '1', 0],
    ]);
    report([{ topic: topics.fixes, partition: 1, lag: 3 }]);
    expect(await lags()).toEqual([[topics.fixes, '1', 3]]);
    await consumer.stop();
    expect(await lags()).toEqual([]);
  });

  it('keeps a snapshot saved when the commit after it is refused, and commits with the next one', async () => {
    const { bus, consumer, engine, send } = await start(undefined, { replayWindowMs: 0 });
    engine.onSnapshotSaved((positions) => consumer.commit(positions));
    const saved: SnapshotEnvelope[] = [];
    const backup: Backup = {
      kind: 'memory',
      save: async (envelope) => void saved.push(envelope),
      load: async () => saved.at(-1),
      state: () => 'ready',
      close: async () => {},
    };
    await send(topics.fixes, [{ key: 'doc-1', value: encodeRecords(fix('doc-1', now - 100)) }]);
    bus.refuseCommits = true;
    await expect(engine.saveSnapshot(backup)).resolves.toBeUndefined();
    expect(saved).toHaveLength(1);
    expect(bus.commits).toEqual([]);
    bus.refuseCommits = false;
    await engine.saveSnapshot(backup);
    expect(bus.commits).toEqual([saved[1]!.positions]);
  });
});

function decodeLetter(record: BusRecord): DeadLetter {
  return unpack(record.value) as DeadLetter;
}
