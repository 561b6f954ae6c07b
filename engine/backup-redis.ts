import { Redis } from 'ioredis';
import type { PartState } from './bus.ts';
import { decodeEnvelope, encodeEnvelope, type Backup, type SnapshotEnvelope } from './backup.ts';

/**
 * The production backup: the snapshot envelope as one binary value in Redis. While Redis is unreachable, save() fails
 * fast (no offline queue), state() says `degraded` and the engine keeps serving from memory; ioredis reconnects by
 * itself and the next periodic save catches up.
 */
export class RedisBackup implements Backup {
  readonly kind = 'redis';
  private readonly redis: Redis;

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

  async save(envelope: SnapshotEnvelope): Promise<void> {
    await this.redis.set(this.key, Buffer.from(encodeEnvelope(envelope)));
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
