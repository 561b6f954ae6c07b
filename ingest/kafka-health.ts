import type { PartState } from '../engine/bus.ts';
import type { Logger } from '../engine/logger.ts';

/**
 * The health of the Kafka bus, told from what its clients report: a broker connection opened or an operation that
 * reached the broker counts as success, a failed connection or operation as failure. The latest of the two decides:
 * `starting` before the first success, `ready` after it, `degraded` while the latest report is a failure, `down` once
 * closed. One tracker serves the admin client, the producer and every consumer of a {@link KafkaBus}.
 */
export class KafkaHealth {
  private lastSuccess = 0;
  private lastFailure = 0;
  private everConnected = false;
  private closed = false;
  private lastError: string | undefined;

  constructor(private readonly logger: Logger) {}

  /** Records that the broker answered. */
  success(): void {
    if (this.lastFailure > this.lastSuccess && this.everConnected) {
      this.logger.info({ after: this.lastError }, 'kafka: broker reachable again');
    }
    this.everConnected = true;
    this.lastSuccess = tick();
    this.lastError = undefined;
  }

  /** Records a failure to reach the broker or an operation it refused. */
  failure(error: unknown, context: string): void {
    const message = describeError(error);
    if (this.lastFailure <= this.lastSuccess) {
      this.logger.warn({ err: message, context }, 'kafka: broker unreachable or operation failed');
    }
    this.lastFailure = tick();
    this.lastError = `${context}: ${message}`;
  }

  /** Marks the bus closed: the state is `down` from now on. */
  close(): void {
    this.closed = true;
  }

  /** `down` once closed, `degraded` while the latest report is a failure, else `ready` (`starting` before any). */
  state(): PartState {
    if (this.closed) return 'down';
    if (this.lastFailure > this.lastSuccess) return 'degraded';
    return this.everConnected ? 'ready' : 'starting';
  }

  /** Follows the connection events of a client (its own pool and those of its streams). */
  watch(client: ConnectionEvents, name: string): void {
    client.on('client:broker:connect', () => this.success());
    client.on('client:broker:failed', (payload) => {
      this.failure(
        new Error(`cannot connect to ${payload.broker.host}:${payload.broker.port}`),
        `${name} connect`,
      );
    });
  }
}

/** The connection events every client of the library emits (its pool's, and those of its streams' pools). */
export interface ConnectionEvents {
  on(event: 'client:broker:connect', listener: () => void): unknown;
  on(
    event: 'client:broker:failed',
    listener: (payload: { broker: { host: string; port: number } }) => void,
  ): unknown;
}

let counter = 0;
/** A strictly increasing sequence number: two reports in the same millisecond still have an order. */
function tick(): number {
  counter += 1;
  return counter;
}

/** A one-line description of an error from the Kafka client, including the causes it aggregates. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested)) {
    const inner = nested.map((item) => describeError(item)).filter((text) => text !== error.message);
    if (inner.length > 0) parts.push(`(${[...new Set(inner)].join('; ')})`);
  } else if (error.cause !== undefined) {
    parts.push(`(${describeError(error.cause)})`);
  }
  return parts.join(' ');
}
