import type { Bus, OutgoingMessage } from '../../engine/bus.ts';
import type { FixMessage } from '../../engine/stream-schemas.ts';
import { MAX_FIXES_PER_BATCH } from './fix-intake.ts';

/** Options of {@link FixPublisher}. */
export interface FixPublisherOptions {
  bus: Bus;
  /** The fixes topic (topicNames(prefix).fixes). */
  topic: string;
  /**
   * The stream codec: one value (here always an array of fixes) to message bytes. The composition root passes
   * ingest's encodeRecords, so the gateway writes exactly what the consumer reads without api/ importing ingest/.
   */
  encode: (value: unknown) => Uint8Array;
  /** How long fixes wait for company before they are published, ms. 0: at the next turn of the event loop. Default 5. */
  lingerMs?: number;
  /** Fixes waiting that trigger a publish before the linger ends. Default 5000. */
  maxPendingFixes?: number;
  /** Most fixes in one message; a doctor with more waiting gets several messages, in order. Default {@link MAX_FIXES_PER_BATCH}. */
  maxFixesPerMessage?: number;
}

/** Counts of what the publisher did, for metrics and tests. */
export interface FixPublisherStats {
  /** Bus publish calls made. */
  flushes: number;
  /** Messages (one per doctor per flush, or more for a long backlog). */
  messages: number;
  /** Fixes published (acknowledged or not). */
  fixes: number;
  /** Flushes the bus refused. */
  failedFlushes: number;
}

interface PendingFlush {
  byDoctor: Map<string, FixMessage[]>;
  count: number;
  done: Promise<void>;
  settle: (error?: unknown) => void;
}

/**
 * Publishes the gateway's fixes to tot.fixes in few, large bus requests. Fixes that arrive within `lingerMs` of each
 * other (from any phone and transport) leave together in one `bus.publish`, grouped per doctor into one msgpack array
 * keyed by the doctor's id: one message per doctor per flush keeps each doctor's fixes in order (one key, one
 * partition) and spares the broker a record per fix.
 *
 * {@link publish} resolves only once the bus has accepted the flush that carried the fixes (Kafka: acks = all; the
 * in-process bus: appended), and rejects with the bus's error if it refused, so that the caller acknowledges a phone's
 * batch only when it is safe. The bus may be slower than the linger: flushes then overlap, and KafkaBus queues them in
 * order behind its one request in flight (merging them), which keeps per-doctor order across flushes too.
 */
export class FixPublisher {
  private readonly lingerMs: number;
  private readonly maxPendingFixes: number;
  private readonly maxFixesPerMessage: number;
  private pending: PendingFlush | undefined;
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;
  private readonly counters: FixPublisherStats = { flushes: 0, messages: 0, fixes: 0, failedFlushes: 0 };

  /** @throws RangeError when a numeric option is out of range, naming it. */
  constructor(private readonly options: FixPublisherOptions) {
    this.lingerMs = checked('lingerMs', options.lingerMs ?? 5, 0);
    this.maxPendingFixes = checked('maxPendingFixes', options.maxPendingFixes ?? 5000, 1);
    this.maxFixesPerMessage = checked(
      'maxFixesPerMessage',
      options.maxFixesPerMessage ?? MAX_FIXES_PER_BATCH,
      1,
    );
  }

  /**
   * Queues validated fixes (their order within a doctor is kept); resolves once the bus accepted them.
   * Rejects with the bus's error when the flush failed, or at once when the publisher is closed.
   */
  publish(fixes: readonly FixMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the fix publisher is closed'));
    if (fixes.length === 0) return Promise.resolve();
    const pending = (this.pending ??= newPendingFlush());
    for (const fix of fixes) {
      const list = pending.byDoctor.get(fix.doctorId);
      if (list) list.push(fix);
      else pending.byDoctor.set(fix.doctorId, [fix]);
    }
    pending.count += fixes.length;
    if (pending.count >= this.maxPendingFixes) this.flushPending();
    else
      this.timer ??=
        this.lingerMs === 0
          ? setImmediate(() => this.flushPending())
          : setTimeout(() => this.flushPending(), this.lingerMs);
    return pending.done;
  }

  /** Publishes what waits now and resolves once every flush so far has been answered (accepted or refused). */
  async flush(): Promise<void> {
    this.flushPending();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Refuses new fixes, then {@link flush}es. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** What the publisher did so far (a copy). */
  stats(): FixPublisherStats {
    return { ...this.counters };
  }

  private flushPending(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    const messages: OutgoingMessage[] = [];
    for (const [doctorId, fixes] of pending.byDoctor) {
      for (let start = 0; start < fixes.length; start += this.maxFixesPerMessage) {
        messages.push({
          key: doctorId,
          value: this.options.encode(fixes.slice(start, start + this.maxFixesPerMessage)),
        });
      }
    }
    this.counters.flushes++;
    this.counters.messages += messages.length;
    this.counters.fixes += pending.count;
    let sent: Promise<void>;
    try {
      sent = this.options.bus.publish(this.options.topic, messages);
    } catch (error) {
      // A bus that throws synchronously (closed) is a refusal like any other.
      sent = Promise.reject(error);
    }
    const tracked = sent.then(
      () => pending.settle(),
      (error: unknown) => {
        this.counters.failedFlushes++;
        pending.settle(error);
      },
    );
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }
}

function newPendingFlush(): PendingFlush {
  let settle!: (error?: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) =>
      error === undefined ? resolve() : reject(error instanceof Error ? error : new Error(String(error)));
  });
  // Callers await `done`; this keeps a refused flush nobody awaits any more from being an unhandled rejection.
  done.catch(() => {});
  return { byDoctor: new Map(), count: 0, done, settle };
}

function checked(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `FixPublisher options.${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
