import type { MessageToProduce, Producer } from '@platformatic/kafka';
import type { OutgoingMessage } from '../engine/bus.ts';
import { describeError, type KafkaHealth } from './kafka-health.ts';

/** A record as the producer takes it: key and value already bytes, so no serializer runs per message. */
type ProducerRecord = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** Bytes Kafka's record format adds around key and value (varint lengths, deltas, attributes), rounded up. */
const RECORD_OVERHEAD = 24;

interface Chunk {
  topic: string;
  records: ProducerRecord[];
  bytes: number;
  settle: (error?: Error) => void;
}

/** Options of {@link KafkaPublisher}. */
export interface KafkaPublisherOptions {
  producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  health: KafkaHealth;
  /** Upper bound of one produce request's payload, kept below the broker's message.max.bytes per partition batch. */
  maxRequestBytes: number;
}

/**
 * Turns {@link Bus.publish} calls into few, large produce requests of an idempotent producer. One request is in flight
 * at a time: a publish made while it is out waits and leaves with every other waiting publish in the next request
 * (batching by back-pressure, like Nagle, with no timer and no added latency when the broker keeps up). One request at
 * a time is also what the client's idempotent producer needs: it numbers each partition's batches when it builds a
 * request and counts them only when the answer arrives, so two requests built concurrently would share numbers.
 *
 * Each publish resolves when the broker acknowledged the request carrying its messages (acks = all, which idempotence
 * requires), and rejects with the reason when the producer gave up after its retries. After a failed request the
 * producer takes a new producer id before sending again: a request that failed on the client's side may still have
 * been written, and reusing its sequence numbers would make the broker drop the next batch as a duplicate.
 */
export class KafkaPublisher {
  private readonly queue: Chunk[] = [];
  private sending = false;
  private needsNewProducerId = false;
  private idle: (() => void)[] = [];

  constructor(private readonly options: KafkaPublisherOptions) {}

  /** Queues the messages for `topic`; resolves once they are acknowledged. */
  publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const { maxRequestBytes } = this.options;
    const pending: Promise<void>[] = [];
    let records: ProducerRecord[] = [];
    let bytes = 0;
    for (const message of messages) {
      const key = Buffer.from(message.key, 'utf8');
      const value = toBuffer(message.value);
      const size = key.length + value.length + RECORD_OVERHEAD;
      if (records.length > 0 && bytes + size > maxRequestBytes) {
        pending.push(this.enqueue(topic, records, bytes));
        records = [];
        bytes = 0;
      }
      records.push({ topic, key, value });
      bytes += size;
    }
    if (records.length > 0) pending.push(this.enqueue(topic, records, bytes));
    this.pump();
    if (pending.length === 1) return pending[0]!;
    return Promise.all(pending).then(() => undefined);
  }

  /** Resolves once every queued publish has been answered (acknowledged or rejected). */
  flush(): Promise<void> {
    if (this.queue.length === 0 && !this.sending) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private enqueue(topic: string, records: ProducerRecord[], bytes: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, records, bytes, settle: (error) => (error ? reject(error) : resolve()) });
    });
  }

  private pump(): void {
    const { maxRequestBytes } = this.options;
    if (!this.sending && this.queue.length > 0) {
      const batch = [this.queue.shift()!];
      let bytes = batch[0]!.bytes;
      while (this.queue.length > 0 && bytes + this.queue[0]!.bytes <= maxRequestBytes) {
        const next = this.queue.shift()!;
        batch.push(next);
        bytes += next.bytes;
      }
      this.sending = true;
      void this.send(batch);
    }
    if (this.queue.length === 0 && !this.sending) {
      const waiters = this.idle;
      this.idle = [];
      for (const resolve of waiters) resolve();
    }
  }

  private async send(batch: Chunk[]): Promise<void> {
    const { producer, health } = this.options;
    const records = batch.length === 1 ? batch[0]!.records : batch.flatMap((chunk) => chunk.records);
    try {
      if (this.needsNewProducerId) {
        await producer.initIdempotentProducer({});
        this.needsNewProducerId = false;
      }
      await producer.send({ messages: records });
      health.success();
      for (const chunk of batch) chunk.settle();
    } catch (error) {
      this.needsNewProducerId = true;
      health.failure(error, 'produce');
      for (const chunk of batch) {
        chunk.settle(
          new Error(
            `kafka: publishing ${chunk.records.length} messages to ${chunk.topic} failed: ${describeError(error)}`,
            {
              cause: error,
            },
          ),
        );
      }
    } finally {
      this.sending = false;
      this.pump();
    }
  }
}

/** The value as a Buffer over the same memory (no copy). */
function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
