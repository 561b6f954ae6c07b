/**
 * KafkaBus against the real broker started by scripts/services.sh: keyed publishing on Kafka's partitioner, delivery
 * in per-partition order, commits and resumption, explicit start positions, a consumer group sharing and handing over
 * partitions, health, and redelivery after a failed handler. Every test uses its own topic and group and closes what
 * it opens; waits poll for a condition with a deadline.
 */
import { randomUUID } from 'node:crypto';
import { Admin } from '@platformatic/kafka';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  BatchHandler,
  BusRecord,
  OutgoingMessage,
  StreamPositions,
  Subscription,
} from '../../../engine/bus.ts';
import { KafkaBus, type KafkaBusOptions } from '../../../ingest/kafka-bus.ts';
import { deleteTopics } from '../../support/kafka-topics.ts';

const PARTITIONS = 6;
const WAIT_MS = 60_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Partitions the Java client (org.apache.kafka.common.utils.Utils.murmur2, toPositive, modulo 6) chooses for these
 * keys, computed with kafka-clients 3.9.2. Keys whose murmur2 is negative tell Kafka's partitioner from a plain
 * unsigned one.
 */
const JAVA_PARTITIONS: Record<string, number> = {
  'doctor-1': 2,
  'doctor-42': 2,
  'd7f3c2a0-1b2c-4d5e-8f90-123456789abc': 4,
  'det-0001': 0,
  Дмитрий: 1,
  a: 4,
};

/** Polls `condition` every 20 ms until it holds; fails with `what` after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Messages `key:seq` for `keys` × `perKey`, interleaved across keys. */
function keyedMessages(keys: readonly string[], perKey: number, firstSeq = 0): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  for (let seq = firstSeq; seq < firstSeq + perKey; seq++) {
    for (const key of keys) messages.push({ key, value: encoder.encode(`${key}:${seq}`) });
  }
  return messages;
}

/**
 * Collects what a subscription delivers and checks the bus's promises on every batch: one partition per batch,
 * offsets strictly increasing within a partition across batches (no redelivery within a subscription).
 */
class Collector {
  readonly records: BusRecord[] = [];
  readonly violations: string[] = [];
  batches = 0;
  private readonly next = new Map<string, number>();

  readonly handler: BatchHandler = (batch) => {
    this.batches += 1;
    const first = batch[0];
    if (!first) {
      this.violations.push('empty batch');
      return;
    }
    for (const record of batch) {
      const id = `${record.topic}:${record.partition}`;
      if (record.partition !== first.partition || record.topic !== first.topic) {
        this.violations.push(`batch mixes ${first.topic}:${first.partition} and ${id}`);
      }
      const expected = this.next.get(id);
      if (expected !== undefined && record.offset < expected) {
        this.violations.push(`${id} offset ${record.offset} delivered after ${expected - 1}`);
      }
      this.next.set(id, record.offset + 1);
      this.records.push(record);
    }
  };

  /** `partition:offset` of every delivered record. */
  ids(): string[] {
    return this.records.map((record) => `${record.partition}:${record.offset}`);
  }

  /** The next position after what was delivered, per partition, as Bus positions for `topic`. */
  positions(topic: string): StreamPositions {
    const byPartition: Record<number, number> = {};
    for (const record of this.records) {
      byPartition[record.partition] = Math.max(byPartition[record.partition] ?? 0, record.offset + 1);
    }
    return { [topic]: byPartition };
  }
}

describe('KafkaBus (real broker)', () => {
  const runId = randomUUID().slice(0, 8);
  let brokers: string[];
  let admin: Admin;
  const topics: string[] = [];
  const buses: KafkaBus[] = [];
  const subscriptions: Subscription[] = [];

  const openBus = (options: Partial<KafkaBusOptions> = {}): KafkaBus => {
    const bus = new KafkaBus({ brokers, clientId: `tot-test-${runId}`, partitions: PARTITIONS, ...options });
    buses.push(bus);
    return bus;
  };
  const groups: string[] = [];
  const newGroup = (name: string): string => {
    const group = `tot-test-kafka-bus-${name}-${runId}`;
    groups.push(group);
    return group;
  };
  const newTopic = (name: string): string => {
    const topic = `tot.test.kafka-bus.${name}.${runId}`;
    topics.push(topic);
    return topic;
  };
  const subscribe = async (
    bus: KafkaBus,
    ...args: Parameters<KafkaBus['subscribe']>
  ): Promise<Subscription> => {
    const subscription = await bus.subscribe(...args);
    subscriptions.push(subscription);
    return subscription;
  };

  beforeAll(() => {
    brokers = inject('KAFKA_BROKERS').split(',');
    admin = new Admin({ clientId: `tot-test-admin-${runId}`, bootstrapBrokers: brokers });
  });

  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
  });

  afterAll(async () => {
    await deleteTopics(brokers, { names: topics });
    // One group at a time: a group that never committed does not exist on the broker, and that is fine.
    for (const group of groups) await admin.deleteGroups({ groups: [group] }).catch(() => undefined);
    await admin.close();
  });

  it('delivers exactly the published keyed messages, each key in order on the partition Java would choose', async () => {
    const bus = openBus();
    expect(bus.kind).toBe('kafka');
    const topic = newTopic('order');
    await bus.ensureTopics([topic]);
    await bus.ensureTopics([topic]); // idempotent

    const keys = [
      ...Object.keys(JAVA_PARTITIONS),
      ...Array.from({ length: 14 }, (_, i) => `doctor-${100 + i}`),
    ];
    const perKey = 25;
    const messages = keyedMessages(keys, perKey);
    // Concurrent publishes of a few messages each: the publisher merges them while requests are in flight.
    const chunks = Array.from({ length: 50 }, (_, i) => messages.slice(i * 10, i * 10 + 10));
    await Promise.all(chunks.map((chunk) => bus.publish(topic, chunk)));
    await bus.publish(topic, []);

    const collector = new Collector();
    const startedAt = Date.now();
    await subscribe(bus, [topic], collector.handler, { group: newGroup('order') });
    await waitFor('all messages', () => collector.records.length >= messages.length);

    expect(collector.violations).toEqual([]);
    expect(collector.records).toHaveLength(messages.length);
    expect(new Set(collector.ids()).size).toBe(messages.length);
    for (const key of keys) {
      const ofKey = collector.records.filter((record) => record.key === key);
      expect(ofKey.map((record) => decoder.decode(record.value))).toEqual(
        Array.from({ length: perKey }, (_, seq) => `${key}:${seq}`),
      );
      expect(new Set(ofKey.map((record) => record.partition)).size).toBe(1);
      const expectedPartition = JAVA_PARTITIONS[key];
      if (expectedPartition !== undefined) expect(ofKey[0]?.partition, key).toBe(expectedPartition);
    }
    // A fresh topic: every partition's offsets run 0, 1, 2, … without gaps.
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const offsets = collector.records
        .filter((record) => record.partition === partition)
        .map((record) => record.offset);
      expect(offsets).toEqual(offsets.map((_, index) => index));
    }
    for (const record of collector.records) {
      expect(record.topic).toBe(topic);
      expect(record.value).toBeInstanceOf(Uint8Array);
      expect(record.timestamp).toBeGreaterThan(startedAt - 60_000);
      expect(record.timestamp).toBeLessThanOrEqual(Date.now() + 1_000);
    }
  });

  it('resumes a group after its committed positions and redelivers nothing before them', async () => {
    const bus = openBus();
    const topic = newTopic('commit');
    const group = newGroup('commit');
    await bus.ensureTopics([topic]);
    const keys = Array.from({ length: 12 }, (_, i) => `doctor-${i}`);
    await bus.publish(topic, keyedMessages(keys, 10));

    const first = new Collector();
    const subscription = await subscribe(bus, [topic], first.handler, { group });
    await waitFor('the first 120 messages', () => first.records.length >= 120);
    // Commit half of each partition: the next offset to read is the count / 2.
    const all = first.positions(topic)[topic]!;
    const committed: Record<number, number> = {};
    for (const [partition, next] of Object.entries(all)) committed[Number(partition)] = Math.floor(next / 2);
    await subscription.commit({ [topic]: committed });
    await subscription.close();

    // More messages while no member runs; each key stays on the partition the first member saw it on.
    const more = keyedMessages(keys, 5, 10);
    await bus.publish(topic, more);
    const partitionOfKey = new Map(first.records.map((record) => [record.key, record.partition]));
    const ends = { ...all };
    for (const message of more) {
      const partition = partitionOfKey.get(message.key)!;
      ends[partition] = (ends[partition] ?? 0) + 1;
    }
    const expected = new Set<string>();
    for (const [partition, end] of Object.entries(ends)) {
      for (let offset = committed[Number(partition)]!; offset < end; offset++)
        expected.add(`${partition}:${offset}`);
    }

    const second = new Collector();
    await subscribe(bus, [topic], second.handler, { group });
    await waitFor(`${expected.size} messages after the commit`, () => second.records.length >= expected.size);
    expect(second.violations).toEqual([]);
    expect(new Set(second.ids())).toEqual(expected);
    expect(second.records).toHaveLength(expected.size);
  });

  it('starts exactly at explicit `from` positions, ahead of the group commit; other partitions use the commit', async () => {
    const bus = openBus();
    const topic = newTopic('from');
    const group = newGroup('from');
    await bus.ensureTopics([topic]);
    const keys = Array.from({ length: 12 }, (_, i) => `doctor-${i}`);
    await bus.publish(topic, keyedMessages(keys, 10));

    // A first member reads everything and commits the ends: the group is fully caught up.
    const first = new Collector();
    const subscription = await subscribe(bus, [topic], first.handler, { group });
    await waitFor('120 messages', () => first.records.length >= 120);
    const ends = first.positions(topic)[topic]!;
    await subscription.commit({ [topic]: ends });
    await subscription.close();

    // Restart from a snapshot that reflects one record less than the end of some partitions and two of others.
    const partitions = Object.keys(ends)
      .map(Number)
      .sort((a, b) => a - b);
    expect(partitions.length).toBeGreaterThanOrEqual(3);
    const from: Record<number, number> = {};
    const expected = new Set<string>();
    partitions.slice(0, -1).forEach((partition, index) => {
      const start = ends[partition]! - 1 - (index % 2);
      from[partition] = start;
      for (let offset = start; offset < ends[partition]!; offset++) expected.add(`${partition}:${offset}`);
    });
    // The last partition is absent from `from`: it resumes at the commit, so a new record there is all it gets.
    const lastPartition = partitions.at(-1)!;
    const lastKey = first.records.find((record) => record.partition === lastPartition)!.key;
    expected.add(`${lastPartition}:${ends[lastPartition]}`);

    const second = new Collector();
    await subscribe(bus, [topic], second.handler, { group, from: { [topic]: from } });
    await bus.publish(topic, [{ key: lastKey, value: encoder.encode('after-restart') }]);
    await waitFor(
      `${expected.size} records from the positions`,
      () => second.records.length >= expected.size,
    );
    expect(second.violations).toEqual([]);
    expect(new Set(second.ids())).toEqual(expected);
    expect(second.records).toHaveLength(expected.size);
    const last = second.records.find((record) => record.partition === lastPartition);
    expect(last && decoder.decode(last.value)).toBe('after-restart');
  });

  it('shares the partitions between two members and hands them over when one leaves (at-least-once)', async () => {
    const bus = openBus();
    const topic = newTopic('group');
    const group = newGroup('group');
    await bus.ensureTopics([topic]);
    const keys = Array.from({ length: 30 }, (_, i) => `doctor-${i}`);

    const a = new Collector();
    const b = new Collector();
    await subscribe(bus, [topic], a.handler, { group });
    const memberB = await subscribe(bus, [topic], b.handler, { group });

    const values = (records: readonly BusRecord[]) =>
      new Set(records.map((record) => decoder.decode(record.value)));
    const publishRound = async (round: number): Promise<OutgoingMessage[]> => {
      const messages = keyedMessages(keys, 2, round * 2);
      await bus.publish(topic, messages);
      return messages;
    };
    const allIn = (messages: readonly OutgoingMessage[], seen: Set<string>) =>
      messages.every((message) => seen.has(decoder.decode(message.value)));

    // Round 1 may straddle the end of the rebalance that B's arrival started; round 2 comes after it.
    const round1 = await publishRound(0);
    await waitFor('round 1 in either member', () => allIn(round1, values([...a.records, ...b.records])));
    const [aBefore, bBefore] = [a.records.length, b.records.length];
    const round2 = await publishRound(1);
    await waitFor('round 2 in either member', () => allIn(round2, values([...a.records, ...b.records])));
    const partitionsOfA = new Set(a.records.slice(aBefore).map((record) => record.partition));
    const partitionsOfB = new Set(b.records.slice(bBefore).map((record) => record.partition));
    expect(partitionsOfA.size).toBeGreaterThan(0);
    expect(partitionsOfB.size).toBeGreaterThan(0);
    expect([...partitionsOfA].filter((partition) => partitionsOfB.has(partition))).toEqual([]);
    expect(partitionsOfA.size + partitionsOfB.size).toBe(PARTITIONS);

    // B leaves without committing: A takes over B's partitions from the start of the log (no commit there).
    await memberB.close();
    const bAfterClose = b.records.length;
    const round3 = await publishRound(2);
    await waitFor('round 3 in member A', () => allIn(round3, values(a.records)));
    await waitFor("rounds 1 and 2 of B's partitions re-read by A", () =>
      allIn([...round1, ...round2], values(a.records)),
    );
    expect(b.records.length).toBe(bAfterClose);
    expect(new Set(a.records.map((record) => record.partition)).size).toBe(PARTITIONS);
    expect(a.violations).toEqual([]);
    expect(b.violations).toEqual([]);
  });

  it('writes each message once when requests are retried right after the topic was created', async () => {
    // Regression: the first produce requests to a new topic can be answered NOT_LEADER_OR_FOLLOWER with tagged
    // fields the client cannot parse; it then resends the whole request, which duplicated the partitions already
    // written until the producer became idempotent.
    const bus = openBus();
    for (let round = 0; round < 3; round++) {
      const topic = newTopic(`fresh-${round}`);
      await bus.ensureTopics([topic]);
      const messages = keyedMessages(
        Array.from({ length: 60 }, (_, i) => `doctor-${i}`),
        1,
      );
      for (let i = 0; i < messages.length; i += 10) await bus.publish(topic, messages.slice(i, i + 10));
      const offsets = await admin.listOffsets({
        topics: [
          {
            name: topic,
            partitions: Array.from({ length: PARTITIONS }, (_, partitionIndex) => ({
              partitionIndex,
              timestamp: -1n,
            })),
          },
        ],
      });
      const written = offsets[0]!.partitions.reduce((sum, partition) => sum + Number(partition.offset), 0);
      expect(written, topic).toBe(messages.length);
    }
  });

  it('resumes at the earliest record when `from` lies beyond the end of the log', async () => {
    const bus = openBus();
    const topic = newTopic('beyond');
    await bus.ensureTopics([topic]);
    await bus.publish(topic, keyedMessages(['doctor-1'], 3));
    const collector = new Collector();
    const from = {
      [topic]: Object.fromEntries(Array.from({ length: PARTITIONS }, (_, partition) => [partition, 1_000])),
    };
    await subscribe(bus, [topic], collector.handler, { group: newGroup('beyond'), from });
    await waitFor('the 3 records', () => collector.records.length >= 3);
    expect(collector.records.map((record) => record.offset)).toEqual([0, 1, 2]);
  });

  it('reports starting, ready and down, and degraded with rejected publishes when no broker answers', async () => {
    const bus = openBus({ probeIntervalMs: 200 });
    expect(['starting', 'ready']).toContain(bus.state());
    await bus.ensureTopics([newTopic('health')]);
    expect(bus.state()).toBe('ready');
    await bus.close();
    expect(bus.state()).toBe('down');
    await expect(bus.publish('t', [{ key: 'k', value: new Uint8Array(1) }])).rejects.toThrow(/closed/);

    // Port 9 (discard) on the loopback: nothing listens, connections are refused at once.
    const nowhere = openBus({ brokers: ['127.0.0.1:9'], probeIntervalMs: 200 });
    expect(nowhere.state()).toBe('starting');
    await expect(
      nowhere.publish('tot.test.nowhere', [{ key: 'k', value: new Uint8Array(1) }]),
    ).rejects.toThrow(/publishing 1 messages to tot.test.nowhere failed/);
    expect(nowhere.state()).toBe('degraded');
  });

  it('redelivers a batch whose handler threw, then continues', async () => {
    const bus = openBus();
    const topic = newTopic('retry');
    await bus.ensureTopics([topic]);
    await bus.publish(topic, keyedMessages(['doctor-1'], 5));
    const collector = new Collector();
    let failures = 0;
    await subscribe(
      bus,
      [topic],
      (records) => {
        if (failures === 0) {
          failures += 1;
          throw new Error('handler failed once');
        }
        return collector.handler(records);
      },
      { group: newGroup('retry') },
    );
    await waitFor('the batch after the failure', () => collector.records.length >= 5);
    expect(failures).toBe(1);
    expect(collector.records.map((record) => decoder.decode(record.value))).toEqual(
      Array.from({ length: 5 }, (_, seq) => `doctor-1:${seq}`),
    );
  });
});
