import {
  encodeRecords,
  FIX_RECORDS,
  READING_RECORDS,
  visitRecords,
  type DecodeFailure,
  type RecordVisitor,
} from './codec.ts';
import type { FixMessage, ReadingMessage } from './schemas.ts';
import {
  TOPICS,
  type Bus,
  type BusRecord,
  type PartitionLag,
  type StreamPositions,
  type Subscription,
  type TopicNames,
} from '../engine/bus.ts';
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
  /**
   * How far back, in time applied, another instance taking over a partition of `topic` must replay for its state to
   * be whole (the engine: the offline timeout for fixes, the traffic horizon for readings). Absent: 0.
   */
  replayWindowMs?(topic: string): number;
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
  /** Replay window of every topic, ms, instead of the sink's {@link StreamSink.replayWindowMs}. */
  replayWindowMs?: number;
}

/** Bytes of the original value a dead letter keeps. */
const DEAD_LETTER_VALUE_BYTES = 64 * 1024;

/** Granularity of the replay window: a partition gets at most one checkpoint (time applied, offset) per interval. */
const CHECKPOINT_MS = 1_000;

/** The first offset of the records of a partition applied from `at` on (until the next checkpoint). */
interface Checkpoint {
  at: number;
  offset: number;
}

/**
 * Consumes tot.fixes and tot.readings: decodes, validates, applies, and sends what fails to tot.dlq with its reason,
 * source topic, partition and offset. A bad message never stops the consumer; every record ends applied, counted as a
 * drop, or in the dead-letter topic.
 *
 * The per-record path allocates nothing of its own: records are validated by the hand-written checks of
 * ingest/record-checks.ts (zod only writes the detail of a rejected record), outcomes are counted in a map per batch
 * and added to the Prometheus counters once per batch, and the visitors are created once.
 *
 * Commits ({@link commit}) are what another instance of the group resumes a partition from when it takes it over
 * without this instance's state. They cover only partitions this consumer has applied records of, and only when their
 * position moved since its last commit, so the positions of a restored snapshot for partitions another instance owns
 * by now are never committed over that instance's progress. And they are held back by the sink's replay window: the
 * new owner replays every record this instance applied within the window (the last fix of every doctor still online),
 * not only those after the last snapshot (docs/SCALING.md).
 */
export class StreamConsumer {
  private subscription: Subscription | undefined;
  private readonly clock: () => number;
  private readonly topics: TopicNames;
  /** Next offset applied by this consumer, per topic and partition (not the restored ones). */
  private readonly applied = new Map<string, Map<number, number>>();
  /** Last offset committed by this consumer, per topic and partition. */
  private readonly committed = new Map<string, Map<number, number>>();
  /** Checkpoints within the replay window (and one interval before it), oldest first, per topic and partition. */
  private readonly checkpoints = new Map<string, Map<number, Checkpoint[]>>();
  /** When this consumer first applied a batch of each partition. */
  private readonly firstApplied = new Map<string, Map<number, number>>();
  /** Label values of `tot_stream_lag_records` set by the last lag report. */
  private lagLabels: { topic: string; partition: string }[] = [];

  // State of the batch being handled, read by the visitors. Batches never overlap: the bus awaits each handler.
  private now = 0;
  private record: BusRecord | undefined;
  private outcomes = new Map<string, number>();
  private readonly outcomesByTopic = new Map<string, Map<string, number>>();
  private deadLetters: DeadLetter[] = [];
  private readonly fixVisitor: RecordVisitor<FixMessage>;
  private readonly readingVisitor: RecordVisitor<ReadingMessage>;

  constructor(private readonly options: StreamConsumerOptions) {
    this.clock = options.clock ?? Date.now;
    this.topics = options.topics ?? TOPICS;
    const { sink } = options;
    const failure = (index: number, reason: DeadLetter['reason'], detail: string) => {
      this.deadLetters.push(deadLetterOf(this.record!, index, reason, detail, this.now));
    };
    this.fixVisitor = {
      item: (fix, index) => {
        try {
          this.count(sink.applyFix(fix, this.now));
        } catch (error) {
          this.reject(error, index);
        }
      },
      failure,
    };
    this.readingVisitor = {
      item: (reading, index) => {
        try {
          this.count(sink.applyReading(reading, this.now));
        } catch (error) {
          this.reject(error, index);
        }
      },
      failure,
    };
  }

  /** Subscribes from `from` (the positions of a restored snapshot) or the group's committed positions. */
  async start(from?: StreamPositions): Promise<void> {
    const { bus, group } = this.options;
    const topics = this.topics;
    await bus.ensureTopics([topics.fixes, topics.readings, topics.events, topics.dlq]);
    this.subscription = await bus.subscribe(
      [topics.fixes, topics.readings],
      (records) => this.onBatch(records),
      {
        group,
        ...(from ? { from } : {}),
        onLag: (lags) => this.onLag(lags),
      },
    );
  }

  /**
   * Commits the positions covered by a saved backup (Kafka: consumer offsets), limited to the partitions this consumer
   * has applied records of and whose position moved since its last commit, and held back to the first record applied
   * within the replay window. Rejects when the bus refuses the commit (e.g. during a rebalance); the next backup
   * commits again.
   */
  async commit(positions: StreamPositions): Promise<void> {
    const subscription = this.subscription;
    if (!subscription) return;
    const now = this.clock();
    const wanted: StreamPositions = {};
    let count = 0;
    for (const [topic, byPartition] of Object.entries(positions)) {
      const applied = this.applied.get(topic);
      if (!applied) continue;
      const committed = this.committed.get(topic);
      const window = this.options.replayWindowMs ?? this.options.sink.replayWindowMs?.(topic) ?? 0;
      for (const [key, saved] of Object.entries(byPartition)) {
        const partition = Number(key);
        // Restored but never applied here: another instance may own the partition and be further.
        if (!applied.has(partition)) continue;
        const start = this.windowStart(topic, partition, now, window);
        // Until this consumer has a whole window of its own history of the partition, records applied before it
        // started (by an earlier life of this instance, resumed from its snapshot) may still be within the window:
        // the group's commit stays where it is.
        if (window > 0 && now - this.firstApplied.get(topic)!.get(partition)! <= window + CHECKPOINT_MS)
          continue;
        const offset = window > 0 ? Math.min(saved, start ?? saved) : saved;
        if ((committed?.get(partition) ?? -1) >= offset) continue;
        (wanted[topic] ??= {})[partition] = offset;
        count++;
      }
    }
    if (count === 0) return;
    await subscription.commit(wanted);
    for (const [topic, byPartition] of Object.entries(wanted)) {
      let committed = this.committed.get(topic);
      if (!committed) this.committed.set(topic, (committed = new Map()));
      for (const [key, offset] of Object.entries(byPartition)) committed.set(Number(key), offset);
    }
  }

  /** Stops consuming after the batch in progress. */
  async stop(): Promise<void> {
    await this.subscription?.close();
    this.subscription = undefined;
    for (const labels of this.lagLabels) this.options.metrics.streamLag.remove(labels);
    this.lagLabels = [];
  }

  /** Sets `tot_stream_lag_records` from a lag report, removing the partitions the report no longer has. */
  private onLag(lags: readonly PartitionLag[]): void {
    const { streamLag } = this.options.metrics;
    const labels = lags.map(({ topic, partition }) => ({ topic, partition: String(partition) }));
    const kept = new Set(labels.map(({ topic, partition }) => `${topic}\u0000${partition}`));
    for (const old of this.lagLabels) {
      if (!kept.has(`${old.topic}\u0000${old.partition}`)) streamLag.remove(old);
    }
    lags.forEach(({ lag }, index) => streamLag.set(labels[index]!, lag));
    this.lagLabels = labels;
  }

  private async onBatch(records: readonly BusRecord[]): Promise<void> {
    this.now = this.clock();
    const deadLetters: DeadLetter[] = (this.deadLetters = []);
    const { fixes, readings } = this.topics;
    try {
      let topic: string | undefined;
      for (const record of records) {
        this.record = record;
        if (record.topic !== topic) {
          topic = record.topic;
          this.outcomes = this.outcomesOf(topic);
        }
        if (topic === fixes) visitRecords(record.value, FIX_RECORDS, this.now, this.fixVisitor);
        else if (topic === readings)
          visitRecords(record.value, READING_RECORDS, this.now, this.readingVisitor);
        else
          this.deadLetters.push(
            deadLetterOf(record, -1, 'rejected', `topic ${topic} is not consumed here`, this.now),
          );
      }
    } finally {
      // What was applied stays applied even if a later record broke the batch: count it.
      this.flushOutcomes();
      this.record = undefined;
    }
    if (deadLetters.length > 0) await this.sendDeadLetters(deadLetters);
    const first = records[0];
    const last = records[records.length - 1];
    if (first && last) this.markApplied(last.topic, last.partition, first.offset, last.offset + 1);
  }

  private markApplied(topic: string, partition: number, first: number, next: number): void {
    this.options.sink.markApplied(topic, partition, next);
    let applied = this.applied.get(topic);
    if (!applied) this.applied.set(topic, (applied = new Map()));
    applied.set(partition, next);
    this.options.metrics.streamPositions.set({ topic, partition: String(partition) }, next);
    let byPartition = this.checkpoints.get(topic);
    if (!byPartition) this.checkpoints.set(topic, (byPartition = new Map()));
    let list = byPartition.get(partition);
    if (!list) {
      byPartition.set(partition, (list = []));
      let firstApplied = this.firstApplied.get(topic);
      if (!firstApplied) this.firstApplied.set(topic, (firstApplied = new Map()));
      firstApplied.set(partition, this.now);
    }
    const last = list[list.length - 1];
    if (!last || this.now - last.at >= CHECKPOINT_MS) list.push({ at: this.now, offset: first });
  }

  /**
   * The first offset of the partition applied within `window` ms before `now` (or a little earlier: checkpoints are
   * CHECKPOINT_MS apart), undefined when nothing was. Drops the checkpoints that are older.
   *
   * A checkpoint's records were all applied within CHECKPOINT_MS of it (any later batch starts a new one), so the
   * first checkpoint younger than `window + CHECKPOINT_MS` starts at or before every record applied within `window`.
   */
  private windowStart(topic: string, partition: number, now: number, window: number): number | undefined {
    const list = this.checkpoints.get(topic)?.get(partition);
    if (!list) return undefined;
    let stale = 0;
    while (stale < list.length && list[stale]!.at <= now - window - CHECKPOINT_MS) stale++;
    if (stale > 0) list.splice(0, stale);
    return list[0]?.offset;
  }

  private count(outcome: string): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  /** Only the engine's coded refusals are a record's fault; anything else is a bug and must surface. */
  private reject(error: unknown, index: number): void {
    if (!(error instanceof TotError)) throw error;
    this.deadLetters.push(
      deadLetterOf(this.record!, index, 'rejected', `${error.code}: ${error.message}`, this.now),
    );
  }

  private outcomesOf(topic: string): Map<string, number> {
    let outcomes = this.outcomesByTopic.get(topic);
    if (!outcomes) this.outcomesByTopic.set(topic, (outcomes = new Map()));
    return outcomes;
  }

  private flushOutcomes(): void {
    const { messages } = this.options.metrics;
    for (const [topic, outcomes] of this.outcomesByTopic) {
      for (const [outcome, count] of outcomes) if (count > 0) messages.inc({ topic, outcome }, count);
      outcomes.clear();
    }
  }

  private async sendDeadLetters(deadLetters: DeadLetter[]): Promise<void> {
    const { bus, metrics, logger } = this.options;
    logger.warn(
      { count: deadLetters.length, first: { ...deadLetters[0], value: undefined } },
      'records sent to the dead-letter topic',
    );
    await bus.publish(
      this.topics.dlq,
      deadLetters.map((letter) => ({
        key: `${letter.topic}/${letter.partition}/${letter.offset}`,
        value: encodeRecords(letter),
      })),
    );
    // Counted once the dead-letter topic has them: a failed publish redelivers the batch, which counts them then.
    const counts = new Map<string, { topic: string; reason: string; count: number }>();
    for (const letter of deadLetters) {
      const key = `${letter.topic}\u0000${letter.reason}`;
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { topic: letter.topic, reason: letter.reason, count: 1 });
    }
    for (const { topic, reason, count } of counts.values()) {
      metrics.deadLetters.inc({ topic, reason }, count);
      metrics.messages.inc({ topic, outcome: 'dead_letter' }, count);
    }
  }
}

function deadLetterOf(
  record: BusRecord,
  index: number,
  reason: DeadLetter['reason'],
  detail: string,
  now: number,
): DeadLetter {
  return {
    reason,
    detail,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    index,
    key: record.key,
    value: record.value.subarray(0, DEAD_LETTER_VALUE_BYTES),
    at: now,
  };
}
