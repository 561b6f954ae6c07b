import { Admin, compatibilityPartitioner, Producer } from '@platformatic/kafka';
import type {
  BatchHandler,
  Bus,
  OutgoingMessage,
  PartState,
  SubscribeOptions,
  Subscription,
} from '../engine/bus.ts';
import { createLogger, type Logger } from '../engine/logger.ts';
import { TotError } from '../geo/errors.ts';
import { describeError, KafkaHealth } from './kafka-health.ts';
import { KafkaPublisher } from './kafka-publisher.ts';
import { KafkaSubscription } from './kafka-subscription.ts';

/** Options of {@link KafkaBus}. */
export interface KafkaBusOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  /** Client id the broker sees in its logs and quotas; consumers and producer share it. */
  clientId: string;
  /** Partitions of topics {@link KafkaBus.ensureTopics} creates. Default 6. */
  partitions?: number;
  /** Replication factor of topics it creates. Default 1. */
  replicationFactor?: number;
  /** `retention.ms` of topics it creates; the broker's default when absent. */
  retentionMs?: number;
  /** Most payload bytes of one produce request; must stay below the broker's message.max.bytes. Default 512 KiB. */
  maxRequestBytes?: number;
  /** Most records of one partition delivered to a handler at once. Default 1024 (as the in-process bus). */
  maxBatch?: number;
  /** Group session timeout: how long a silent member keeps its partitions. Default 10 s (broker minimum 6 s). */
  sessionTimeoutMs?: number;
  /** Heartbeat period; also how soon a member learns of a rebalance. Default 1 s. */
  heartbeatIntervalMs?: number;
  /**
   * Bytes a fetch waits for before the broker answers (or until {@link maxWaitTimeMs}). Larger values make fewer,
   * bigger fetches when the consumer keeps up with a busy topic, at the cost of up to maxWaitTimeMs of latency when it
   * is quiet. Default 1 (answer as soon as anything is there).
   */
  fetchMinBytes?: number;
  /** Longest time the broker holds a fetch that has less than fetchMinBytes. Default 1 s. */
  maxWaitTimeMs?: number;
  /** How often an otherwise idle bus asks the broker for metadata to keep {@link KafkaBus.state} true. Default 5 s. */
  probeIntervalMs?: number;
  /** How often a subscription with {@link SubscribeOptions.onLag} measures and reports its lag. Default 5 s. */
  lagIntervalMs?: number;
  logger?: Logger;
}

/** How long {@link KafkaBus.ensureTopics} waits for new topics to have a leader on every partition. */
const TOPIC_READY_TIMEOUT_MS = 15_000;

/**
 * The {@link Bus} on Apache Kafka (@platformatic/kafka).
 *
 * Keys choose partitions with Kafka's own partitioner (murmur2 of the UTF-8 key made positive, modulo the partition
 * count — what the Java client and librdkafka's murmur2_random do), so one doctor's fixes share a partition and stay
 * in order whichever client produced them. Publishes become few large requests of an idempotent producer with
 * acks = all ({@link KafkaPublisher}): a publish resolves once the broker has written it, and a retried request
 * neither duplicates nor reorders anything, because the broker recognises a batch it already has. Each subscription
 * is one member of a consumer group with manual commits ({@link KafkaSubscription}).
 *
 * A broker outage never throws out of the event loop: publishes reject after the client's retries (about two seconds
 * when nothing answers), consumers rejoin by themselves, and {@link state} reads `degraded` until the broker answers
 * again.
 */
export class KafkaBus implements Bus {
  readonly kind = 'kafka';
  private readonly brokers: string[];
  private readonly clientId: string;
  private readonly partitions: number;
  private readonly replicationFactor: number;
  private readonly retentionMs: number | undefined;
  private readonly maxBatch: number;
  private readonly sessionTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly maxWaitTimeMs: number;
  private readonly fetchMinBytes: number;
  private readonly lagIntervalMs: number;
  private readonly logger: Logger;
  private readonly health: KafkaHealth;
  private readonly admin: Admin;
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  private readonly publisher: KafkaPublisher;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly probeTimer: NodeJS.Timeout;
  private probing = false;
  private closing: Promise<void> | undefined;

  /**
   * Validates the options and creates the clients; connections open on first use and by the health probe.
   *
   * @throws TotError `CONFIG_INVALID` naming the option and its value when one is out of range.
   */
  constructor(options: KafkaBusOptions) {
    if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
      throw invalid('brokers', options.brokers, 'must list at least one host:port');
    }
    if (typeof options.clientId !== 'string' || options.clientId.trim() === '') {
      throw invalid('clientId', options.clientId, 'must be a non-empty string');
    }
    this.brokers = [...options.brokers];
    this.clientId = options.clientId;
    this.partitions = positiveInteger('partitions', options.partitions ?? 6);
    this.replicationFactor = positiveInteger('replicationFactor', options.replicationFactor ?? 1);
    this.retentionMs =
      options.retentionMs === undefined ? undefined : positiveInteger('retentionMs', options.retentionMs);
    this.maxBatch = positiveInteger('maxBatch', options.maxBatch ?? 1024);
    this.sessionTimeoutMs = positiveInteger('sessionTimeoutMs', options.sessionTimeoutMs ?? 10_000);
    this.heartbeatIntervalMs = positiveInteger('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 1_000);
    this.maxWaitTimeMs = positiveInteger('maxWaitTimeMs', options.maxWaitTimeMs ?? 1_000);
    this.fetchMinBytes = positiveInteger('fetchMinBytes', options.fetchMinBytes ?? 1);
    this.lagIntervalMs = positiveInteger('lagIntervalMs', options.lagIntervalMs ?? 5_000);
    const probeIntervalMs = positiveInteger('probeIntervalMs', options.probeIntervalMs ?? 5_000);
    this.logger = (options.logger ?? createLogger('silent')).child({ component: 'kafka-bus' });
    this.health = new KafkaHealth(this.logger);

    const common = { clientId: this.clientId, bootstrapBrokers: this.brokers, retryDelay: 500 };
    this.admin = new Admin(common);
    this.producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
      ...common,
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
      // Idempotence (hence acks = all): the broker drops a retried batch it already has, so a retry never
      // duplicates or reorders a doctor's fixes. Retries are bounded so that a publish rejects during an outage
      // (the client would otherwise retry an idempotent send forever).
      idempotent: true,
      retries: 3,
    });
    this.health.watch(this.admin, 'admin');
    this.health.watch(this.producer, 'producer');
    this.publisher = new KafkaPublisher({
      producer: this.producer,
      health: this.health,
      maxRequestBytes: positiveInteger('maxRequestBytes', options.maxRequestBytes ?? 512 * 1024),
    });
    this.probeTimer = setInterval(() => this.probe(), probeIntervalMs);
    this.probeTimer.unref();
    this.probe();
  }

  /**
   * Creates the topics that do not exist yet with the configured partitions, replication and retention (a topic
   * another instance creates meanwhile is fine), then waits until every partition of `topics` has a leader.
   * Rejects when the broker cannot be reached or refuses.
   */
  async ensureTopics(topics: readonly string[]): Promise<void> {
    this.assertOpen('ensure topics');
    if (topics.length === 0) return;
    try {
      const existing = new Set(await this.admin.listTopics());
      const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        try {
          await this.admin.createTopics({
            topics: missing,
            partitions: this.partitions,
            replicas: this.replicationFactor,
            configs:
              this.retentionMs === undefined
                ? []
                : [{ name: 'retention.ms', value: String(this.retentionMs) }],
          });
          this.logger.info({ topics: missing, partitions: this.partitions }, 'kafka: created topics');
        } catch (error) {
          if (!onlyAlreadyExists(error)) throw error;
        }
      }
      await this.waitForLeaders(topics);
      this.health.success();
    } catch (error) {
      this.health.failure(error, 'ensure topics');
      throw new Error(`kafka: ensuring topics ${topics.join(', ')} failed: ${describeError(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Produces the messages (key → partition); resolves once the broker acknowledged them (acks = all). Rejects, naming
   * the topic and the client's reason, when the bus is closed or the broker did not accept them after the retries.
   */
  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen(`publish to ${topic}`);
    if (messages.length === 0) return;
    await this.publisher.publish(topic, messages);
  }

  /**
   * Joins `options.group` for `topics` and resolves once this member has its first assignment; see
   * {@link KafkaSubscription} for start positions, delivery, commits and failures. Rejects when the bus is closed,
   * `from` holds an offset that is not a non-negative integer, or the group cannot be joined.
   */
  async subscribe(
    topics: readonly string[],
    handler: BatchHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    this.assertOpen(`subscribe to ${topics.join(', ')}`);
    if (topics.length === 0) throw invalid('topics', topics, 'must name at least one topic');
    let subscription: KafkaSubscription | undefined;
    try {
      subscription = await KafkaSubscription.open({
        brokers: this.brokers,
        clientId: this.clientId,
        topics: [...new Set(topics)],
        handler,
        group: options.group,
        from: options.from,
        health: this.health,
        logger: this.logger,
        maxBatch: this.maxBatch,
        sessionTimeoutMs: this.sessionTimeoutMs,
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        maxWaitTimeMs: this.maxWaitTimeMs,
        fetchMinBytes: this.fetchMinBytes,
        onLag: options.onLag,
        lagIntervalMs: this.lagIntervalMs,
        onClosed: () => {
          if (subscription) this.subscriptions.delete(subscription);
        },
      });
    } catch (error) {
      // A RangeError is a bad `from`, not a broker failure.
      if (!(error instanceof RangeError)) this.health.failure(error, 'subscribe');
      throw new Error(
        `kafka: subscribing group ${options.group} to ${topics.join(', ')} failed: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
    if (this.closing) {
      // The bus closed while this member was joining: it would outlive the bus otherwise.
      await subscription.close();
      throw new Error(`kafka bus is closed; cannot subscribe to ${topics.join(', ')}`);
    }
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** `starting` until the broker first answered, `ready`, `degraded` while it does not answer, `down` once closed. */
  state(): PartState {
    return this.health.state();
  }

  /** Waits for pending publishes, closes every subscription (after its running handler), then the clients. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    clearInterval(this.probeTimer);
    await this.publisher.flush();
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()));
    this.health.close();
    const results = await Promise.allSettled([this.producer.close(), this.admin.close()]);
    for (const result of results) {
      if (result.status === 'rejected') {
        this.logger.warn({ err: describeError(result.reason) }, 'kafka: closing a client failed');
      }
    }
  }

  private assertOpen(action: string): void {
    if (this.closing) throw new Error(`kafka bus is closed; cannot ${action}`);
  }

  /** Asks for cluster metadata so that an idle bus notices a broker going away or coming back. */
  private probe(): void {
    if (this.probing || this.closing) return;
    this.probing = true;
    this.admin
      .metadata({ topics: [], forceUpdate: true })
      .then(
        () => this.health.success(),
        (error: unknown) => {
          if (!this.closing) this.health.failure(error, 'metadata probe');
        },
      )
      .finally(() => {
        this.probing = false;
      });
  }

  private async waitForLeaders(topics: readonly string[]): Promise<void> {
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    for (;;) {
      let reason: string;
      try {
        // The client sorts the array it is given; hand it a copy.
        const metadata = await this.admin.metadata({ topics: [...topics], forceUpdate: true });
        const pending = topics.filter((topic) => {
          const partitions = metadata.topics.get(topic)?.partitions ?? [];
          return partitions.length === 0 || partitions.some((partition) => partition.leader < 0);
        });
        if (pending.length === 0) return;
        reason = `no leader yet for ${pending.join(', ')}`;
      } catch (error) {
        reason = describeError(error);
      }
      if (Date.now() > deadline)
        throw new Error(`topics not ready after ${TOPIC_READY_TIMEOUT_MS} ms: ${reason}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** True when every error the client aggregated is TOPIC_ALREADY_EXISTS (a concurrent creation, not a failure). */
function onlyAlreadyExists(error: unknown): boolean {
  const leaves = (item: unknown): unknown[] => {
    const nested = (item as { errors?: unknown }).errors;
    return Array.isArray(nested) && nested.length > 0 ? nested.flatMap(leaves) : [item];
  };
  return leaves(error).every((leaf) => (leaf as { apiId?: unknown }).apiId === 'TOPIC_ALREADY_EXISTS');
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw invalid(field, value, 'must be a positive integer');
  return value;
}

function invalid(field: string, value: unknown, rule: string): TotError<'CONFIG_INVALID'> {
  return new TotError('CONFIG_INVALID', `KafkaBus options.${field} ${rule}, got ${JSON.stringify(value)}`, {
    field,
    value,
  });
}
