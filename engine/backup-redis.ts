import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { PartState } from './bus.ts';
import { decodeEnvelope, encodeEnvelope, type Backup, type SnapshotEnvelope } from './backup.ts';

/**
 * Bytes per command when a snapshot is written in parts: ioredis copies each command's arguments into one new buffer
 * on the event loop, so one SET of a 110 MB snapshot (a million doctors) would hold it for tens of milliseconds. With
 * 256 KB parts the longest turn of an 11 MB save stays under ≈1 ms (1 MB parts: 3–5 ms), for the same total time.
 */
export const REDIS_CHUNK_BYTES = 1 << 18;

/** How long a partly written snapshot may linger under its temporary key after a crash, ms. */
const PARTIAL_TTL_MS = 600_000;

/**
 * The production backup: the snapshot envelope as one binary value in Redis. While Redis is unreachable, save() fails
 * fast (no offline queue), state() says `degraded` and the engine keeps serving from memory; ioredis reconnects by
 * itself and the next periodic save catches up.
 *
 * A snapshot larger than {@link REDIS_CHUNK_BYTES} is written in parts under a temporary key of this backup's own
 * (SET, then APPENDs, each checked against the length written so far), then renamed over the snapshot's key in one
 * transaction: readers see the old snapshot or the new one, never a part.
 */
export class RedisBackup implements Backup {
  readonly kind = 'redis';
  /** ioredis copies each command's arguments when it writes the command, and every command is awaited. */
  readonly releasesBytes = true;
  private readonly redis: Redis;
  private readonly partialKey: string;

  /** Connects lazily to `url`; `key` names the snapshot (one per region once regions are split). */
  constructor(
    url: string,
    private readonly key = 'tot:snapshot:all',
  ) {
    this.redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // Retry forever with a capped delay: Redis coming back must be noticed without a restart.
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.partialKey = `${key}:partial:${randomUUID()}`;
    // Connection errors are reported through state(); without a listener ioredis would log them as unhandled.
    this.redis.on('error', () => {});
  }

  /** Resolves once connected, or rejects after `timeoutMs`. */
  async ready(timeoutMs = 5_000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${this.redis.status})`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  /**
   * Stores `encoded` (or the envelope encoded here) under the key, replacing the previous snapshot atomically.
   * @throws Error when Redis is unreachable or a part went missing (the partial key expired); the old snapshot stays.
   */
  async save(envelope: SnapshotEnvelope, encoded: Uint8Array = encodeEnvelope(envelope)): Promise<void> {
    // A view, not a copy (Buffer.from of a Uint8Array would copy it all on the event loop).
    const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    if (bytes.byteLength <= REDIS_CHUNK_BYTES) {
      await this.redis.set(this.key, bytes);
      return;
    }
    const partial = this.partialKey;
    await this.redis.set(partial, bytes.subarray(0, REDIS_CHUNK_BYTES), 'PX', PARTIAL_TTL_MS);
    for (let at = REDIS_CHUNK_BYTES; at < bytes.byteLength; at += REDIS_CHUNK_BYTES) {
      const part = bytes.subarray(at, at + REDIS_CHUNK_BYTES);
      const length = await this.redis.append(partial, part);
      if (length !== at + part.byteLength) {
        await this.redis.del(partial);
        throw new Error(
          `snapshot part lost in Redis: ${length} bytes under ${partial}, expected ${at + part.byteLength}`,
        );
      }
    }
    const results = await this.redis.multi().rename(partial, this.key).persist(this.key).exec();
    const failure = results?.find(([error]) => error !== null)?.[0];
    if (!results || failure)
      throw failure ?? new Error(`snapshot not renamed from ${partial} to ${this.key}`);
  }

  async load(): Promise<SnapshotEnvelope | undefined> {
    const bytes = await this.redis.getBuffer(this.key);
    return bytes ? decodeEnvelope(bytes) : undefined;
  }

  state(): PartState {
    if (this.redis.status === 'ready') return 'ready';
    return this.redis.status === 'connecting' || this.redis.status === 'wait' ? 'starting' : 'degraded';
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
