/**
 * Consumer lag on the real broker: a subscription whose handler is held reports the records between its position and
 * the partition's end, and reports 0 once the handler has caught up. The topic and group are this run's own; waits
 * poll for a condition with a deadline; everything opened is closed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PartitionLag, Subscription } from '../../../engine/bus.ts';
import { KafkaBus } from '../../../ingest/kafka-bus.ts';
import { deleteTopics } from '../../support/kafka-topics.ts';

const WAIT_MS = 60_000;
const RECORDS = 50;

/** Polls `condition` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('KafkaBus consumer lag', () => {
  const runId = randomUUID().slice(0, 8);
  const topic = `tot-test-lag-${runId}`;
  let brokers: string[];
  let bus: KafkaBus;

  beforeAll(() => {
    brokers = inject('KAFKA_BROKERS').split(',');
    bus = new KafkaBus({ brokers, clientId: `tot-test-lag-${runId}`, partitions: 1, lagIntervalMs: 100 });
  });

  afterAll(async () => {
    await bus.close();
    await deleteTopics(brokers, { names: [topic] });
  });

  it(
    'reports the records behind a held handler, then 0 once it caught up',
    async () => {
      await bus.ensureTopics([topic]);
      await bus.publish(
        topic,
        Array.from({ length: RECORDS }, (_, i) => ({ key: `doctor-${i}`, value: new Uint8Array([i]) })),
      );

      let latest: readonly PartitionLag[] = [];
      let delivered = 0;
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let subscription: Subscription | undefined;
      try {
        subscription = await bus.subscribe(
          [topic],
          async (records) => {
            await released;
            delivered += records.length;
          },
          { group: `tot-test-lag-${runId}`, onLag: (lags) => (latest = lags) },
        );
        const lag = () => latest.find((entry) => entry.topic === topic && entry.partition === 0)?.lag;

        await waitFor('a lag report of the held partition', () => (lag() ?? 0) > 0);
        // Nothing was delivered yet, so every record is behind the position (which starts at the earliest).
        expect(lag()).toBe(RECORDS);
        expect(delivered).toBe(0);

        release();
        await waitFor('every record delivered', () => delivered === RECORDS);
        await waitFor('the lag to drop to 0', () => lag() === 0);
      } finally {
        release();
        await subscription?.close();
      }
    },
    WAIT_MS * 2,
  );
});
