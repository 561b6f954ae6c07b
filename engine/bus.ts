/**
 * The message bus the engine reads its streams from and writes its events to. Kafka implements it in production
 * (ingest/kafka-bus.ts); {@link InProcessBus} (engine/in-process-bus.ts) implements it for the embedded default with
 * the same semantics: keyed messages, partitions, per-partition offsets, at-least-once delivery to a handler that
 * must finish before the next batch of that partition is delivered.
 */

/** The names of the engine's topics (docs/STREAMS.md). */
export interface TopicNames {
  fixes: string;
  readings: string;
  events: string;
  dlq: string;
}

/**
 * The topic names under a prefix: `tot` gives tot.fixes, tot.readings, tot.events, tot.dlq. Another prefix lets
 * several deployments (or test runs) share one broker.
 */
export function topicNames(prefix = 'tot'): TopicNames {
  return {
    fixes: `${prefix}.fixes`,
    readings: `${prefix}.readings`,
    events: `${prefix}.events`,
    dlq: `${prefix}.dlq`,
  };
}

/** The production topic names. */
export const TOPICS: TopicNames = topicNames();

/** A message to publish: the key chooses the partition. */
export interface OutgoingMessage {
  key: string;
  value: Uint8Array;
}

/** A message as delivered to a subscriber. */
export interface BusRecord {
  topic: string;
  partition: number;
  /** Position of the record in its partition; the next record has offset + 1. */
  offset: number;
  key: string;
  value: Uint8Array;
  /** Broker (or bus) append time, ms since the epoch. */
  timestamp: number;
}

/** Positions per topic and partition: the offset of the next record to read. */
export type StreamPositions = Record<string, Record<number, number>>;

/** Handler for a batch of records of one partition; the bus awaits it before delivering more of that partition. */
export type BatchHandler = (records: readonly BusRecord[]) => void | Promise<void>;

/** Options of {@link Bus.subscribe}. */
export interface SubscribeOptions {
  /** Consumer group: instances of one group share partitions. */
  group: string;
  /** Where to resume, e.g. the positions a restored snapshot reflects; missing partitions start from the group's last commit. */
  from?: StreamPositions;
  /**
   * Called periodically (Kafka: every `lagIntervalMs` of the bus, default 5 s) with the lag of every partition this
   * subscriber currently owns; a partition missing from a report is no longer owned (or its position not yet known).
   * Not called once {@link Subscription.close} resolved. An exception it throws is caught (Kafka: logged) and delivery goes on.
   */
  onLag?: (lags: readonly PartitionLag[]) => void;
}

/** How far a subscriber is behind in one partition. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Records between the subscriber's position (next offset to deliver) and the end of the partition; never negative. */
  lag: number;
}

/** A live subscription. */
export interface Subscription {
  /** Marks positions as safe to resume from (Kafka: committed offsets). */
  commit(positions: StreamPositions): Promise<void>;
  /** Stops delivery; resolves once no handler is running. */
  close(): Promise<void>;
}

/** Health of a part, as /readyz reports it. */
export type PartState = 'starting' | 'ready' | 'degraded' | 'down';

/** The bus interface every implementation honours. */
export interface Bus {
  /** Human-readable kind for /readyz and logs, e.g. `in-process` or `kafka`. */
  readonly kind: string;
  /** Creates the topics if missing (no-op where not needed). */
  ensureTopics(topics: readonly string[]): Promise<void>;
  /** Appends messages; resolves when the bus has accepted them (Kafka: acknowledged by the broker). */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /** Delivers records of the topics to `handler`, batch by batch, until the subscription is closed. */
  subscribe(
    topics: readonly string[],
    handler: BatchHandler,
    options: SubscribeOptions,
  ): Promise<Subscription>;
  /** Current health. */
  state(): PartState;
  /** Stops everything; pending publishes are flushed first. */
  close(): Promise<void>;
}
