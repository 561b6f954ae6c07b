/**
 * The real Kafka (KRaft) started by scripts/services.sh: a topic is created, keyed messages are produced, and a
 * consumer group reads back exactly those messages, each key always on one partition, in order within it.
 */
import { randomUUID } from 'node:crypto';
import {
  Admin,
  Consumer,
  type Message,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { deleteTopics } from '../../support/kafka-topics.ts';

const PARTITIONS = 3;
const RECEIVE_TIMEOUT_MS = 60_000;

describe('Kafka (real broker)', () => {
  const runId = randomUUID();
  const topic = `tot.test.services.${runId}`;
  const groupId = `tot-test-services-${runId}`;
  let bootstrapBrokers: string[];
  let admin: Admin;
  let producer: Producer<string, string, string, string> | undefined;
  let consumer: Consumer<string, string, string, string> | undefined;
  let groupUsed = false;

  beforeAll(async () => {
    bootstrapBrokers = inject('KAFKA_BROKERS').split(',');
    admin = new Admin({ clientId: `tot-test-admin-${runId}`, bootstrapBrokers });
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
  });

  afterAll(async () => {
    await consumer?.close(true);
    await producer?.close();
    if (admin) {
      if (groupUsed) await admin.deleteGroups({ groups: [groupId] });
      await admin.close();
    }
    await deleteTopics(inject('KAFKA_BROKERS'), { names: [topic] });
  });

  it('delivers exactly the produced keyed messages to a consumer group', async () => {
    const sent = Array.from({ length: 30 }, (_, index) => ({
      key: `doctor-${index % 5}`,
      value: JSON.stringify({ seq: index, lat: 55.75 + index / 1000, lng: 37.62 }),
    }));

    // Idempotent: right after a topic is created the first produce request can fail for one partition, and the
    // client retries the whole request, so without idempotence the partitions that had succeeded get every message
    // twice (seen in about a third of runs against the real broker).
    producer = new Producer({
      clientId: `tot-test-producer-${runId}`,
      bootstrapBrokers,
      serializers: stringSerializers,
      idempotent: true,
    });
    await producer.send({ messages: sent.map((message) => ({ topic, ...message })) });

    consumer = new Consumer({
      clientId: `tot-test-consumer-${runId}`,
      groupId,
      bootstrapBrokers,
      deserializers: stringDeserializers,
    });
    groupUsed = true;
    const stream = await consumer.consume({
      topics: [topic],
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: true,
    });

    const received: Message<string, string, string, string>[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`received ${received.length} of ${sent.length} messages in ${RECEIVE_TIMEOUT_MS} ms`),
            ),
          RECEIVE_TIMEOUT_MS,
        );
        stream.on('data', (message: Message<string, string, string, string>) => {
          received.push(message);
          if (received.length >= sent.length) {
            clearTimeout(timer);
            resolve();
          }
        });
        stream.on('error', (error: Error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
    } finally {
      await stream.close();
    }

    const byKeyValue = (a: { key: string; value: string }, b: { key: string; value: string }) =>
      a.key.localeCompare(b.key) || a.value.localeCompare(b.value);
    expect(received.map(({ key, value }) => ({ key, value })).sort(byKeyValue)).toEqual(
      [...sent].sort(byKeyValue),
    );

    // One key, one partition; within a key, the order of production.
    for (const key of new Set(sent.map((message) => message.key))) {
      const ofKey = received.filter((message) => message.key === key);
      expect(new Set(ofKey.map((message) => message.partition)).size, key).toBe(1);
      expect(ofKey.map((message) => message.value)).toEqual(
        sent.filter((message) => message.key === key).map((message) => message.value),
      );
      for (const message of ofKey) expect(message.topic).toBe(topic);
    }
    expect(new Set(received.map((message) => message.partition)).size).toBeGreaterThan(1);
  });
});
