import type {
  BatchHandler,
  Bus,
  BusRecord,
  OutgoingMessage,
  PartitionLag,
  PartState,
  StreamPositions,
  SubscribeOptions,
  Subscription,
} from './bus.ts';

/** Options of {@link InProcessBus}. */
export interface InProcessBusOptions {
  /** Partitions per topic (keys are hashed over them as Kafka does). Default 4. */
  partitions?: number;
  /** Most records delivered to a handler at once. Default 1024. */
  maxBatch?: number;
  /** Records kept per partition once every subscriber has read them (for late subscribers). Default 10 000. */
  retention?: number;
  /** How often a subscription with {@link SubscribeOptions.onLag} reports its lag. Default 5 s. */
  lagIntervalMs?: number;
}

interface Partition {
  /** Offset of records[0]. */
  base: number;
  records: BusRecord[];
}

interface Consumer {
  topics: readonly string[];
  handler: BatchHandler;
  group: string;
  /** Next offset to deliver, per topic and partition. */
  next: Map<string, number[]>;
  running: boolean;
  closed: boolean;
  idle: Promise<void>;
  wake: () => void;
  /** Reports the lag to {@link SubscribeOptions.onLag}, when given. */
  lagTimer: NodeJS.Timeout | undefined;
}

/**
 * The bus of the embedded default: Kafka's semantics in one process. Keys hash to partitions, records keep their
 * offsets, a handler sees one partition's records in order and the next batch only after it returned, groups keep
 * committed positions. Records live in memory only: after a restart the engine resumes from its snapshot, and
 * producers in the same process (the simulator, the phone gateway) start anew too.
 */
export class InProcessBus implements Bus {
  readonly kind = 'in-process';
  private readonly partitionCount: number;
  private readonly maxBatch: number;
  private readonly retention: number;
  private readonly lagIntervalMs: number;
  private readonly topics = new Map<string, Partition[]>();
  private readonly consumers = new Set<Consumer>();
  private readonly committed = new Map<string, StreamPositions>();
  private closed = false;

  constructor(options: InProcessBusOptions = {}) {
    this.partitionCount = options.partitions ?? 4;
    this.maxBatch = options.maxBatch ?? 1024;
    this.retention = options.retention ?? 10_000;
    this.lagIntervalMs = options.lagIntervalMs ?? 5_000;
  }

  /** Creates empty partitions for the topics. */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    for (const topic of topics) this.partitionsOf(topic);
  }

  /** Appends the messages; resolves at once (nothing to acknowledge in memory). */
  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.closed) throw new Error(`bus is closed; cannot publish to ${topic}`);
    const partitions = this.partitionsOf(topic);
    const now = Date.now();
    for (const message of messages) {
      const partition = partitionOf(message.key, this.partitionCount);
      const log = partitions[partition]!;
      log.records.push({
        topic,
        partition,
        offset: log.base + log.records.length,
        key: message.key,
        value: message.value,
        timestamp: now,
      });
    }
    // A topic nobody reads (the domain events of the embedded default) is trimmed here, or it would grow for ever.
    for (let partition = 0; partition < partitions.length; partition++) this.trim(topic, partition);
    for (const consumer of this.consumers) if (consumer.topics.includes(topic)) consumer.wake();
  }

  /** Starts delivering the topics' records to `handler`, from `options.from`, else the group's commit, else the start. */
  async subscribe(
    topics: readonly string[],
    handler: BatchHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const next = new Map<string, number[]>();
    const groupCommits = this.committed.get(options.group) ?? {};
    for (const topic of topics) {
      const partitions = this.partitionsOf(topic);
      next.set(
        topic,
        partitions.map((log, partition) => {
          const wanted = options.from?.[topic]?.[partition] ?? groupCommits[topic]?.[partition] ?? 0;
          return Math.max(wanted, log.base);
        }),
      );
    }
    let wake = () => {};
    const consumer: Consumer = {
      topics,
      handler,
      group: options.group,
      next,
      running: false,
      closed: false,
      idle: Promise.resolve(),
      wake,
      lagTimer: undefined,
    };
    wake = () => {
      if (consumer.running || consumer.closed) return;
      consumer.running = true;
      consumer.idle = this.drain(consumer).finally(() => {
        consumer.running = false;
      });
    };
    consumer.wake = wake;
    this.consumers.add(consumer);
    const onLag = options.onLag;
    if (onLag) {
      consumer.lagTimer = setInterval(() => {
        try {
          onLag(this.lagOf(consumer));
        } catch {
          // A failing observer must not stop the bus (see SubscribeOptions.onLag).
        }
      }, this.lagIntervalMs);
      consumer.lagTimer.unref();
    }
    wake();
    return {
      commit: async (positions) => {
        const group = this.committed.get(options.group) ?? {};
        for (const [topic, byPartition] of Object.entries(positions)) {
          group[topic] = { ...group[topic], ...byPartition };
        }
        this.committed.set(options.group, group);
      },
      close: async () => {
        consumer.closed = true;
        clearInterval(consumer.lagTimer);
        this.consumers.delete(consumer);
        await consumer.idle;
      },
    };
  }

  /** The in-process bus is ready as long as it is open. */
  state(): PartState {
    return this.closed ? 'down' : 'ready';
  }

  /** Stops every subscription after its running handler returns. */
  async close(): Promise<void> {
    this.closed = true;
    const consumers = [...this.consumers];
    for (const consumer of consumers) {
      consumer.closed = true;
      clearInterval(consumer.lagTimer);
    }
    this.consumers.clear();
    await Promise.all(consumers.map((consumer) => consumer.idle));
  }

  /** Delivers batches until the consumer has read everything; yields to the event loop between batches. */
  private async drain(consumer: Consumer): Promise<void> {
    for (;;) {
      let delivered = false;
      for (const topic of consumer.topics) {
        const partitions = this.partitionsOf(topic);
        const positions = consumer.next.get(topic)!;
        for (let partition = 0; partition < partitions.length; partition++) {
          if (consumer.closed) return;
          const log = partitions[partition]!;
          const from = Math.max(positions[partition]!, log.base);
          const start = from - log.base;
          if (start >= log.records.length) continue;
          const batch = log.records.slice(start, start + this.maxBatch);
          await consumer.handler(batch);
          positions[partition] = from + batch.length;
          delivered = true;
          this.trim(topic, partition);
        }
      }
      if (!delivered) return;
      // Let producers and timers run between rounds, as a network consumer would.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /**
   * The exact lag of every partition of the consumer's topics: records appended but not yet delivered to it (a batch
   * its handler is still working on counts as not delivered, as on Kafka).
   */
  private lagOf(consumer: Consumer): PartitionLag[] {
    const lags: PartitionLag[] = [];
    for (const topic of consumer.topics) {
      const positions = consumer.next.get(topic)!;
      this.partitionsOf(topic).forEach((log, partition) => {
        const end = log.base + log.records.length;
        lags.push({ topic, partition, lag: end - Math.max(positions[partition]!, log.base) });
      });
    }
    return lags;
  }

  /** Drops records every consumer has read, keeping `retention` of them. */
  private trim(topic: string, partition: number): void {
    const log = this.partitionsOf(topic)[partition]!;
    let lowest = log.base + log.records.length;
    for (const consumer of this.consumers) {
      const position = consumer.next.get(topic)?.[partition];
      if (position !== undefined) lowest = Math.min(lowest, position);
    }
    const removable = Math.min(lowest - log.base, log.records.length - this.retention);
    if (removable > 1024) {
      log.records.splice(0, removable);
      log.base += removable;
    }
  }

  private partitionsOf(topic: string): Partition[] {
    let partitions = this.topics.get(topic);
    if (!partitions) {
      partitions = Array.from({ length: this.partitionCount }, () => ({ base: 0, records: [] }));
      this.topics.set(topic, partitions);
    }
    return partitions;
  }
}

/** FNV-1a over the key's UTF-16 code units: stable, fast, well spread for ids. */
export function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
