import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unpack } from 'msgpackr';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusRecord } from '../../../engine/bus.ts';
import { topicNames } from '../../../engine/bus.ts';
import { encodeRecords } from '../../../ingest/codec.ts';
import { KafkaBus } from '../../../ingest/kafka-bus.ts';
import { getJson, startEngineProcess } from '../../support/engine-process.ts';
import { deleteTopics } from '../../support/kafka-topics.ts';
import { waitFor } from '../../support/wait.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration global setup starts the services`);
  return value;
}

describe('npm start with KAFKA_BROKERS, DATABASE_URL and REDIS_URL set', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('uses the real services: fixes through Kafka, store on PostgreSQL, snapshot in Redis, dead letters in the DLQ topic', async () => {
    const run = `t${process.pid}x${Date.now()}`;
    const prefix = `test.${run}`;
    const topics = topicNames(prefix);
    const snapshotKey = `tot:test:${run}`;
    // First registered, so it runs last: after the engine and the test's own clients are gone.
    cleanups.push(async () => {
      await deleteTopics(required('KAFKA_BROKERS'), { prefixes: [`${prefix}.`] });
    });
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tot-real-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));

    const engine = await startEngineProcess({
      KAFKA_BROKERS: required('KAFKA_BROKERS'),
      DATABASE_URL: required('DATABASE_URL'),
      REDIS_URL: required('REDIS_URL'),
      TOPIC_PREFIX: prefix,
      KAFKA_GROUP: `group-${run}`,
      SNAPSHOT_KEY: snapshotKey,
      SNAPSHOT_INTERVAL_MS: '1000',
      DATA_DIR: dataDir,
      SIMULATOR_DOCTORS: '200',
      SIMULATOR_DETECTORS: '10',
    });
    // Awaited, so that the topics deleted afterwards are not asked for (and auto-created) by the engine again.
    cleanups.push(async () => {
      engine.child.kill('SIGKILL');
      await engine.exited;
    });

    const ready = await waitFor(
      async () => {
        const response = await getJson(engine.url('/readyz'));
        return response.status === 200 ? response.body : undefined;
      },
      { timeoutMs: 60_000, what: '/readyz 200' },
    );
    expect(ready).toMatchObject({
      status: 'ready',
      parts: {
        bus: { kind: 'kafka', state: 'ready' },
        store: { kind: 'postgres', state: 'ready' },
        backup: { kind: 'redis', state: 'ready' },
      },
    });

    // Simulated fixes travel producer → broker → consumer → index.
    await waitFor(
      async () => {
        const body = (await getJson(engine.url('/v1/doctors/nearby?lat=55.75&lng=37.6&k=5&maxKm=100')))
          .body as {
          doctors: unknown[];
        };
        return body.doctors.length === 5 ? true : undefined;
      },
      { timeoutMs: 60_000, what: 'doctors arriving through Kafka' },
    );

    // A malformed fix next to a good one: the bad one lands in the dead-letter topic with its reason and origin.
    const bus = new KafkaBus({ brokers: required('KAFKA_BROKERS').split(','), clientId: `test-${run}` });
    cleanups.push(() => bus.close());
    await bus.publish(topics.fixes, [
      { key: 'doc-bad', value: encodeRecords({ doctorId: 'doc-bad', lat: 123, lng: 37, ts: Date.now() }) },
    ]);
    const letters: BusRecord[] = [];
    const subscription = await bus.subscribe([topics.dlq], (records) => void letters.push(...records), {
      group: `dlq-${run}`,
    });
    cleanups.push(() => subscription.close());
    await waitFor(() => (letters.length > 0 ? true : undefined), {
      timeoutMs: 60_000,
      what: 'a dead letter',
    });
    const letter = unpack(letters[0]!.value) as {
      reason: string;
      detail: string;
      topic: string;
      partition: number;
      offset: number;
    };
    expect(letter).toMatchObject({ reason: 'invalid', topic: topics.fixes });
    expect(letter.detail).toContain('lat');
    expect(letter.offset).toBeGreaterThanOrEqual(0);

    // The periodic snapshot is in Redis, with the Kafka positions it covers.
    const redis = new Redis(required('REDIS_URL'));
    cleanups.push(async () => {
      await redis.del(snapshotKey);
      redis.disconnect();
    });
    await waitFor(async () => ((await redis.exists(snapshotKey)) === 1 ? true : undefined), {
      what: 'snapshot in Redis',
    });

    engine.child.kill('SIGTERM');
    expect(await engine.exited).toEqual({ code: 0, signal: null });
  });
});
