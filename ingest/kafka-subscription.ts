import {
  Consumer,
  type ConsumerGroupJoinPayload,
  type GroupAssignment,
  type Message,
  type MessagesStream,
} from '@platformatic/kafka';
import type { BatchHandler, BusRecord, PartitionLag, StreamPositions, Subscription } from '../engine/bus.ts';
import type { Logger } from '../engine/logger.ts';
import { describeError, type KafkaHealth } from './kafka-health.ts';
import { checkOffset, PartitionPositions, positionKey } from './kafka-positions.ts';

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;
type KafkaConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;
type KafkaStream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

const EMPTY = new Uint8Array(0);
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/** Options of {@link KafkaSubscription.open}. */
export interface KafkaSubscriptionOptions {
  brokers: string[];
  clientId: string;
  topics: readonly string[];
  handler: BatchHandler;
  group: string;
  from: StreamPositions | undefined;
  health: KafkaHealth;
  logger: Logger;
  /** Most records of one partition handed to the handler at once. */
  maxBatch: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** How long the broker may hold a fetch when there is nothing new (bounds idle round trips, not latency). */
  maxWaitTimeMs: number;
  /** Bytes a fetch waits for (up to maxWaitTimeMs) before the broker answers. */
  fetchMinBytes: number;
  /** Called once the subscription has closed. */
  onClosed: () => void;
  /** Receives the lag of the assigned partitions every {@link lagIntervalMs}; no lag is measured without it. */
  onLag?: ((lags: readonly PartitionLag[]) => void) | undefined;
  /** Period of the lag reports. */
  lagIntervalMs: number;
}

/** One consumer group member and its message stream; a subscription replaces it after a failure. */
interface Session {
  consumer: KafkaConsumer;
  stream: KafkaStream | undefined;
  /** `topic:partition` keys this member is assigned in the current generation. */
  assigned: Set<string>;
  /** Why the session must end; set once. */
  failure: Error | undefined;
  ending: boolean;
  /** Bumped on every offsets refresh so that a slower, older resolution never overrides a newer one. */
  refreshes: number;
  delivered: boolean;
  handlerFailed: boolean;
  waiter: (() => void) | undefined;
  woken: boolean;
}

/**
 * A {@link Subscription} on Kafka: one member of the consumer group `group`, with no auto-commit.
 *
 * Where a partition starts, each time this member is assigned it: at this subscription's position for it — where
 * its handler last stopped, or where it last started — so a partition kept or regained across rebalances continues
 * exactly where this process's state is; before any, at `from` (a restored snapshot); else at the group's committed
 * offset; else at the earliest retained record. A position outside the retained log (deleted by retention, or beyond
 * the end of a recreated topic) moves to the earliest record, with a warning. The library's stream is paused while
 * these positions are resolved and written into its fetch positions, so nothing is fetched from a stale position.
 *
 * Delivery: the stream is read in order and consecutive records of one partition form a batch; the handler's promise
 * is awaited before anything else is delivered, so one partition's batches never overlap. Records of partitions no
 * longer assigned are dropped (their new owner reads them), and records below the partition's position (re-fetched
 * around a rebalance) are skipped, so offsets delivered per partition only grow.
 *
 * Failures (a fetch that failed after the client's retries, a lost group membership, a handler that threw) end the
 * member: it is closed and a new one joins after a backoff (0.5 s doubling to 30 s; back to 0.5 s once a member has
 * delivered, unless its handler threw), resuming at the positions above, so a handler that throws sees its batch again.
 * Broker failures show as `degraded` in the bus health meanwhile. Kafka's classic group protocol does not wait for a
 * running handler before moving its partition to another member: around a rebalance two members may briefly process
 * the same partition (at-least-once).
 */
export class KafkaSubscription implements Subscription {
  private readonly positions: PartitionPositions;
  private session: Session | undefined;
  private supervisor: Promise<void> = Promise.resolve();
  private closing = false;
  private closed: Promise<void> | undefined;
  private interruptBackoff: () => void = () => {};
  private dropped = 0;
  private readonly logger: Logger;
  private lagTimer: NodeJS.Timeout | undefined;
  private measuringLag = false;

  private constructor(private readonly options: KafkaSubscriptionOptions) {
    this.logger = options.logger.child({ group: options.group });
    this.positions = new PartitionPositions(options.from, options.topics, this.logger);
  }

  /** Joins the group; resolves once this member has its first assignment, rejects if it could not join. */
  static async open(options: KafkaSubscriptionOptions): Promise<KafkaSubscription> {
    const subscription = new KafkaSubscription(options);
    const session = await subscription.startSession();
    subscription.supervisor = subscription.supervise(session);
    if (options.onLag) {
      subscription.lagTimer = setInterval(() => subscription.reportLag(), options.lagIntervalMs);
      subscription.lagTimer.unref();
    }
    return subscription;
  }

  /** Commits `positions` (the next offset to read, which is what Kafka commits) for the group. */
  async commit(positions: StreamPositions): Promise<void> {
    const offsets = [];
    for (const [topic, byPartition] of Object.entries(positions)) {
      for (const [partition, offset] of Object.entries(byPartition)) {
        const value = checkOffset(offset, `positions.${topic}.${partition}`);
        offsets.push({ topic, partition: Number(partition), offset: BigInt(value), leaderEpoch: -1 });
      }
    }
    if (offsets.length === 0) return;
    const session = this.session;
    if (this.closing || !session || session.ending) {
      throw new Error(
        `kafka: cannot commit for group ${this.options.group}: the consumer is closed or reconnecting`,
      );
    }
    try {
      await session.consumer.commit({ offsets });
    } catch (error) {
      this.options.health.failure(error, 'commit');
      throw new Error(
        `kafka: committing offsets for group ${this.options.group} failed: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Stops delivery, waits for the running handler, leaves the group and closes the clients. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      clearInterval(this.lagTimer);
      this.interruptBackoff();
      this.wake(this.session);
      this.closed = this.supervisor.finally(() => this.options.onClosed());
    }
    return this.closed;
  }

  /**
   * Reports, for every partition assigned to the current member whose position is known, the records between that
   * position (the next offset to deliver, where the handler is) and the partition's end (ListOffsets LATEST). The
   * library's own lag monitoring measures from the offsets its stream committed, which a subscription with manual
   * commits never moves, so it is measured here. A failed lookup is skipped: the next period tries again.
   */
  private reportLag(): void {
    const session = this.session;
    const onLag = this.options.onLag;
    if (!onLag || this.measuringLag || this.closing || !session || session.ending) return;
    this.measuringLag = true;
    this.positions
      .lag(session.consumer, [...session.assigned])
      .then(
        (lags) => {
          if (!this.closing && !session.ending) this.emitLag(onLag, lags);
        },
        (error: unknown) => {
          this.logger.debug({ err: describeError(error) }, 'kafka: measuring the consumer lag failed');
        },
      )
      .finally(() => {
        this.measuringLag = false;
      });
  }

  private emitLag(onLag: (lags: readonly PartitionLag[]) => void, lags: readonly PartitionLag[]): void {
    try {
      onLag(lags);
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'kafka: the lag observer threw');
    }
  }

  /** Runs members one after another until the subscription closes. */
  private async supervise(first: Session): Promise<void> {
    let session: Session | undefined = first;
    let backoff = FIRST_BACKOFF_MS;
    while (!this.closing) {
      if (!session) {
        try {
          session = await this.startSession();
        } catch (error) {
          this.options.health.failure(error, 'consumer join');
          await this.backoff(backoff);
          backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
          continue;
        }
      }
      const failure = await this.pump(session);
      await this.endSession(session);
      if (session.delivered && !session.handlerFailed) backoff = FIRST_BACKOFF_MS;
      // The log moved under a position we had read (topic recreated): check every position against it again.
      if (isOffsetOutOfRange(failure)) this.positions.distrust();
      session = undefined;
      if (this.closing) break;
      this.logger.warn(
        { err: describeError(failure), retryInMs: backoff },
        'kafka: consumer failed; rejoining',
      );
      await this.backoff(backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }

  private async startSession(): Promise<Session> {
    const { options } = this;
    const consumer: KafkaConsumer = new Consumer({
      clientId: options.clientId,
      bootstrapBrokers: options.brokers,
      groupId: options.group,
      autocommit: false,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: Math.max(options.sessionTimeoutMs, 30_000),
      heartbeatInterval: options.heartbeatIntervalMs,
      maxWaitTime: options.maxWaitTimeMs,
      minBytes: options.fetchMinBytes,
      retryDelay: 500,
    });
    const session: Session = {
      consumer,
      stream: undefined,
      assigned: new Set(),
      failure: undefined,
      ending: false,
      refreshes: 0,
      delivered: false,
      handlerFailed: false,
      waiter: undefined,
      woken: false,
    };
    this.session = session;
    options.health.watch(consumer, 'consumer');
    // The client emits 'error' when it could not rejoin the group; without a listener that would crash the process.
    consumer.on('error', (error: Error) => this.fail(session, error));
    consumer.on('consumer:heartbeat:error', ({ error }) => options.health.failure(error, 'heartbeat'));
    consumer.on('consumer:heartbeat:end', () => options.health.success());
    consumer.on('consumer:group:join', (payload: ConsumerGroupJoinPayload) => this.onJoin(session, payload));
    try {
      const stream = await consumer.consume({
        topics: [...options.topics],
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
      });
      session.stream = stream;
      stream.on('offsets', () => this.onOffsets(session));
      stream.on('readable', () => this.wake(session));
      stream.on('error', (error: Error) => this.fail(session, error));
      stream.on('close', () => this.fail(session, new Error('the message stream closed')));
      options.health.success();
      return session;
    } catch (error) {
      session.ending = true;
      await closeConsumer(consumer).catch(() => undefined);
      throw error;
    }
  }

  private async endSession(session: Session): Promise<void> {
    session.ending = true;
    if (this.session === session) this.session = undefined;
    try {
      await session.stream?.close();
    } catch (error) {
      this.logger.debug({ err: describeError(error) }, 'kafka: closing the message stream failed');
    }
    try {
      await closeConsumer(session.consumer);
    } catch (error) {
      this.logger.debug({ err: describeError(error) }, 'kafka: leaving the group failed');
    }
  }

  private fail(session: Session, error: Error): void {
    if (session.ending || session.failure) return;
    session.failure = error;
    this.wake(session);
  }

  private wake(session: Session | undefined): void {
    if (!session) return;
    const waiter = session.waiter;
    if (waiter) {
      session.waiter = undefined;
      waiter();
    } else {
      session.woken = true;
    }
  }

  private onJoin(session: Session, payload: ConsumerGroupJoinPayload): void {
    const assignments: readonly GroupAssignment[] = payload.assignments ?? session.consumer.assignments ?? [];
    session.assigned = new Set(
      assignments.flatMap(({ topic, partitions }) =>
        partitions.map((partition) => positionKey(topic, partition)),
      ),
    );
    this.options.health.success();
    this.logger.info(
      { generation: payload.generationId, assigned: [...session.assigned] },
      'kafka: joined the consumer group',
    );
  }

  /** After the library refreshed its fetch positions (start, rejoin): replace them with ours, stream paused meanwhile. */
  private onOffsets(session: Session): void {
    const stream = session.stream;
    const keys = [...session.assigned];
    const refresh = ++session.refreshes;
    if (!stream || session.ending) return;
    if (keys.length === 0) {
      // Nothing assigned (more members than partitions): nothing to position; undo a pause of an older refresh.
      stream.resume();
      return;
    }
    stream.pause();
    this.positions.bounds(session.consumer, keys).then(
      (bounds) => {
        if (refresh !== session.refreshes || session.ending) return;
        for (const key of keys) stream.offsetsToFetch.set(key, BigInt(this.positions.start(key, bounds)));
        stream.resume();
      },
      (error: unknown) => this.fail(session, toError(error)),
    );
  }

  /** Delivers batches until the session fails or the subscription closes; returns the failure. */
  private async pump(session: Session): Promise<Error | undefined> {
    const { maxBatch } = this.options;
    let carry: KafkaMessage | null = null;
    while (!this.closing && !session.failure) {
      const stream = session.stream!;
      const first: KafkaMessage | null = carry ?? (stream.read() as KafkaMessage | null);
      carry = null;
      if (first === null) {
        await this.waitForData(session);
        continue;
      }
      const batch = [first];
      while (batch.length < maxBatch) {
        const next = stream.read() as KafkaMessage | null;
        if (next === null) break;
        if (next.partition !== first.partition || next.topic !== first.topic) {
          carry = next;
          break;
        }
        batch.push(next);
      }
      try {
        await this.deliver(session, batch);
      } catch (error) {
        session.handlerFailed = true;
        this.logger.error(
          { err: describeError(error) },
          'kafka: the batch handler threw; the batch will be redelivered',
        );
        return toError(error);
      }
    }
    return session.failure;
  }

  private waitForData(session: Session): Promise<void> {
    if (session.woken || session.failure || this.closing) {
      session.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      session.waiter = resolve;
    });
  }

  private async deliver(session: Session, batch: readonly KafkaMessage[]): Promise<void> {
    const { topic, partition } = batch[0]!;
    const key = positionKey(topic, partition);
    if (!session.assigned.has(key)) {
      this.dropped += batch.length;
      this.logger.debug(
        { topic, partition, count: batch.length, dropped: this.dropped },
        'kafka: dropped records of a revoked partition',
      );
      return;
    }
    const next = this.positions.get(key);
    const records: BusRecord[] = [];
    for (const message of batch) {
      const offset = Number(message.offset);
      if (next !== undefined && offset < next) continue;
      records.push({
        topic,
        partition,
        offset,
        key: message.key ? message.key.toString('utf8') : '',
        value: message.value ?? EMPTY,
        timestamp: Number(message.timestamp),
      });
    }
    const last = records.at(-1);
    if (!last) return;
    await this.options.handler(records);
    this.positions.delivered(key, last.offset + 1);
    session.delivered = true;
  }

  private backoff(ms: number): Promise<void> {
    if (this.closing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.interruptBackoff = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** Leaves the group (closing the member's streams first) and closes the connections. */
function closeConsumer(consumer: KafkaConsumer): Promise<void> {
  return new Promise((resolve, reject) => {
    consumer.close(true, (error) => (error ? reject(error) : resolve()));
  });
}

function isOffsetOutOfRange(error: unknown): boolean {
  const found = (error as { findBy?: (property: string, value: unknown) => unknown } | undefined)?.findBy?.(
    'apiId',
    'OFFSET_OUT_OF_RANGE',
  );
  return Boolean(found);
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
