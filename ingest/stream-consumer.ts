import type { z } from 'zod';
import { encodeRecords, decodeRecords, type DecodeFailure } from './codec.ts';
import { fixSchema, readingSchema, type FixMessage, type ReadingMessage } from './schemas.ts';
import { TOPICS, type Bus, type BusRecord, type Subscription, type TopicNames } from '../engine/bus.ts';
import type { Logger } from '../engine/logger.ts';
import type { Metrics } from '../engine/metrics.ts';
import { TotError } from '../geo/errors.ts';

/** What the consumer applies records to: the engine (engine/engine.ts) satisfies it. */
export interface StreamSink {
  /** Applies one fix; returns the outcome, counted per topic. Must be idempotent (replays are harmless). */
  applyFix(fix: FixMessage, now: number): string;
  /** Applies one reading; a TotError means the reading is a dead letter. */
  applyReading(reading: ReadingMessage, now: number): string;
  /** Records that everything before `nextOffset` of the partition has been applied. */
  markApplied(topic: string, partition: number, nextOffset: number): void;
}

/** A dead letter as written to tot.dlq (msgpack). */
export interface DeadLetter {
  reason: DecodeFailure['reason'] | 'rejected';
  detail: string;
  topic: string;
  partition: number;
  offset: number;
  /** Index of the record in a batched value; -1 when the whole value failed. */
  index: number;
  key: string;
  /** The original value, so nothing is lost; cut to 64 KiB. */
  value: Uint8Array;
  at: number;
}

/** Options of {@link StreamConsumer}. */
export interface StreamConsumerOptions {
  bus: Bus;
  sink: StreamSink;
  logger: Logger;
  metrics: Metrics;
  group: string;
  /** Topic names; default {@link TOPICS}. */
  topics?: TopicNames;
  clock?: () => number;
}

/**
 * Consumes tot.fixes and tot.readings: decodes, validates, applies, and sends what fails to tot.dlq with its reason,
 * source topic, partition and offset. A bad message never stops the consumer; every record ends applied, counted as a
 * drop, or in the dead-letter topic.
 */
export class StreamConsumer {
  private subscription: Subscription | undefined;
  private readonly clock: () => number;
  private readonly topics: TopicNames;

  constructor(private readonly options: StreamConsumerOptions) {
    this.clock = options.clock ?? Date.now;
    this.topics = options.topics ?? TOPICS;
  }

  /** Subscribes from `from` (the positions of a restored snapshot) or the group's committed positions. */
  async start(from?: Parameters<Bus['subscribe']>[2]['from']): Promise<void> {
    const { bus, group } = this.options;
    const topics = this.topics;
    await bus.ensureTopics([topics.fixes, topics.readings, topics.events, topics.dlq]);
    this.subscription = await bus.subscribe([topics.fixes, topics.readings], (records) => this.onBatch(records), {
      group,
      ...(from ? { from } : {}),
    });
  }

  /** Commits positions covered by a backup (Kafka: consumer offsets). */
  async commit(positions: Parameters<Subscription['commit']>[0]): Promise<void> {
    await this.subscription?.commit(positions);
  }

  /** Stops consuming after the batch in progress. */
  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
  }

  private async onBatch(records: readonly BusRecord[]): Promise<void> {
    const now = this.clock();
    const deadLetters: DeadLetter[] = [];
    for (const record of records) {
      if (record.topic === this.topics.fixes) {
        this.applyAll<FixMessage>(record, fixSchema, now, deadLetters, (fix) => this.options.sink.applyFix(fix, now));
      } else {
        this.applyAll<ReadingMessage>(record, readingSchema, now, deadLetters, (reading) =>
          this.options.sink.applyReading(reading, now),
        );
      }
    }
    if (deadLetters.length > 0) await this.sendDeadLetters(deadLetters);
    const last = records[records.length - 1];
    if (last) this.options.sink.markApplied(last.topic, last.partition, last.offset + 1);
  }

  private applyAll<Item extends { ts: number }>(
    record: BusRecord,
    schema: z.ZodType<Item>,
    now: number,
    deadLetters: DeadLetter[],
    apply: (item: Item) => string,
  ): void {
    const { metrics } = this.options;
    const decoded = decodeRecords(record.value, schema, now);
    for (const failure of decoded.failures) deadLetters.push(deadLetterOf(record, failure.index, failure.reason, failure.detail, now));
    decoded.items.forEach((item, i) => {
      try {
        metrics.messages.inc({ topic: record.topic, outcome: apply(item) });
      } catch (error) {
        // Only the engine's coded refusals are a record's fault; anything else is a bug and must surface.
        if (!(error instanceof TotError)) throw error;
        deadLetters.push(deadLetterOf(record, decoded.indexes[i]!, 'rejected', `${error.code}: ${error.message}`, now));
      }
    });
  }

  private async sendDeadLetters(deadLetters: DeadLetter[]): Promise<void> {
    const { bus, metrics, logger } = this.options;
    for (const letter of deadLetters) {
      metrics.deadLetters.inc({ topic: letter.topic, reason: letter.reason });
      metrics.messages.inc({ topic: letter.topic, outcome: 'dead_letter' });
    }
    logger.warn(
      { count: deadLetters.length, first: { ...deadLetters[0], value: undefined } },
      'records sent to the dead-letter topic',
    );
    await bus.publish(
      this.topics.dlq,
      deadLetters.map((letter) => ({ key: `${letter.topic}/${letter.partition}/${letter.offset}`, value: encodeRecords(letter) })),
    );
  }
}

function deadLetterOf(record: BusRecord, index: number, reason: DeadLetter['reason'], detail: string, now: number): DeadLetter {
  return {
    reason,
    detail,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    index,
    key: record.key,
    value: record.value.subarray(0, 64 * 1024),
    at: now,
  };
}
