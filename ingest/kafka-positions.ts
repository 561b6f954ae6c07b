import { ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import type { PartitionLag, StreamPositions } from '../engine/bus.ts';
import type { Logger } from '../engine/logger.ts';

/** The offsets of the assigned partitions that decide where each starts. */
export interface PartitionBounds {
  committed: Map<string, bigint[]>;
  earliest: Map<string, bigint[]>;
  latest: Map<string, bigint[]>;
}

/**
 * Where a subscription is in each partition: the next offset to deliver, keyed `topic:partition` (the library's own
 * key for its fetch positions). It starts as `from`, follows every delivered batch, and is set again whenever the
 * partition is assigned, so it always says where this process's state of the partition is.
 */
export class PartitionPositions {
  private readonly next = new Map<string, number>();
  /** Keys whose position follows a delivered record, hence exists in the log (see {@link startOf}). */
  private readonly confirmed = new Set<string>();

  /** @throws RangeError naming the entry when an offset of `from` is not a non-negative integer. */
  constructor(
    from: StreamPositions | undefined,
    topics: readonly string[],
    private readonly logger: Logger,
  ) {
    for (const [topic, byPartition] of Object.entries(from ?? {})) {
      if (!topics.includes(topic)) continue;
      for (const [partition, offset] of Object.entries(byPartition)) {
        this.next.set(
          positionKey(topic, Number(partition)),
          checkOffset(offset, `from.${topic}.${partition}`),
        );
      }
    }
  }

  /** The next offset to deliver of the partition, if known. */
  get(key: string): number | undefined {
    return this.next.get(key);
  }

  /** Records that everything before `next` has been delivered. */
  delivered(key: string, next: number): void {
    this.next.set(key, next);
    this.confirmed.add(key);
  }

  /** After the log moved under positions read before (a recreated topic): check every position against it again. */
  distrust(): void {
    this.confirmed.clear();
  }

  /** Reads the committed offsets of partitions without a position, and the bounds of every assigned partition. */
  async bounds(
    consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
    keys: readonly string[],
  ): Promise<PartitionBounds> {
    const byTopic = new Map<string, number[]>();
    for (const key of keys) {
      const { topic, partition } = parseKey(key);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    }
    const unpositioned = [...byTopic].flatMap(([topic, partitions]) => {
      const missing = partitions.filter((partition) => !this.next.has(positionKey(topic, partition)));
      return missing.length > 0 ? [{ topic, partitions: missing }] : [];
    });
    const topics = [...byTopic.keys()];
    const [committed, earliest, latest] = await Promise.all([
      unpositioned.length > 0
        ? consumer.listCommittedOffsets({ topics: unpositioned })
        : new Map<string, bigint[]>(),
      consumer.listOffsets({ topics: [...topics], timestamp: ListOffsetTimestamps.EARLIEST }),
      consumer.listOffsets({ topics: [...topics], timestamp: ListOffsetTimestamps.LATEST }),
    ]);
    return { committed, earliest, latest };
  }

  /**
   * The lag of the partitions `keys` whose position is known: records between the position (the next offset to
   * deliver) and the partition's end (ListOffsets LATEST). Rejects when the offsets cannot be listed.
   */
  async lag(
    consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
    keys: readonly string[],
  ): Promise<PartitionLag[]> {
    const known = keys.filter((key) => this.next.has(key)).map(parseKey);
    if (known.length === 0) return [];
    const topics = [...new Set(known.map(({ topic }) => topic))];
    const latest = await consumer.listOffsets({ topics, timestamp: ListOffsetTimestamps.LATEST });
    const lags: PartitionLag[] = [];
    for (const { topic, partition } of known) {
      const end = latest.get(topic)?.[partition];
      const position = this.next.get(positionKey(topic, partition));
      if (end === undefined || position === undefined) continue;
      lags.push({ topic, partition, lag: Math.max(0, Number(end) - position) });
    }
    return lags;
  }

  /**
   * Where an assigned partition starts, and records it: its position, else the group's commit, else the earliest
   * record; a position below the earliest retained record (retention) or beyond the end of the log (a recreated
   * topic) moves to the earliest record, with a warning.
   */
  start(key: string, bounds: PartitionBounds): number {
    const { topic, partition } = parseKey(key);
    const earliest = Number(bounds.earliest.get(topic)?.[partition] ?? 0n);
    const latest = Number(bounds.latest.get(topic)?.[partition] ?? 0n);
    const committed = bounds.committed.get(topic)?.[partition];
    const wanted =
      this.next.get(key) ?? (committed !== undefined && committed >= 0n ? Number(committed) : earliest);
    // `latest` was listed a moment ago; a position delivered up to since then may be past it and is valid all the same.
    const beyondEnd = wanted > latest && !this.confirmed.has(key);
    let start = wanted;
    if (wanted < earliest || beyondEnd) {
      this.logger.warn(
        { topic, partition, wanted, earliest, latest },
        wanted < earliest
          ? 'kafka: position already deleted by retention; resuming at the earliest retained record'
          : 'kafka: position beyond the end of the log; resuming at the earliest retained record',
      );
      start = earliest;
    }
    this.next.set(key, start);
    return start;
  }
}

/** The library's key for a topic partition. */
export function positionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

function parseKey(key: string): { topic: string; partition: number } {
  const colon = key.lastIndexOf(':');
  return { topic: key.slice(0, colon), partition: Number(key.slice(colon + 1)) };
}

/** @throws RangeError naming `field` unless `offset` is a non-negative safe integer. */
export function checkOffset(offset: number, field: string): number {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`${field} must be a non-negative integer offset, got ${offset}`);
  }
  return offset;
}
