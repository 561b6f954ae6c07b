import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RequestLimiter } from '../../../api/rate-limit.ts';

const clients: Redis[] = [];
afterAll(() => {
  for (const client of clients) client.disconnect();
});

function client(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  clients.push(redis);
  return redis;
}

async function connected(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
}

describe('RequestLimiter on Redis', () => {
  it('two instances sharing Redis share one budget per key', async () => {
    const url = process.env.REDIS_URL;
    if (!url) throw new Error('REDIS_URL is not set by the integration global setup');
    const first = client(url);
    const second = client(url);
    await Promise.all([connected(first), connected(second)]);
    const keyPrefix = `tot:test:rl:${randomUUID()}`;
    const a = new RequestLimiter({ points: 4, keyPrefix, redis: first });
    const b = new RequestLimiter({ points: 4, keyPrefix, redis: second });
    await a.consume('ip:10.1.1.1');
    await b.consume('ip:10.1.1.1');
    await a.consume('ip:10.1.1.1');
    await b.consume('ip:10.1.1.1');
    await expect(a.consume('ip:10.1.1.1')).rejects.toMatchObject({ code: 'API_RATE_LIMITED' });
    await expect(b.consume('ip:10.1.1.1')).rejects.toMatchObject({ code: 'API_RATE_LIMITED' });
    // Another client has its own budget.
    await expect(b.consume('ip:10.1.1.2')).resolves.toBeUndefined();
    await first.del(`${keyPrefix}:ip:10.1.1.1`, `${keyPrefix}:ip:10.1.1.2`);
  });

  it('keeps limiting in memory when Redis is unreachable (insurance), instead of refusing everything', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    down.on('error', () => {});
    clients.push(down);
    const limiter = new RequestLimiter({ points: 2, keyPrefix: 'tot:test:rl:down', redis: down });
    await limiter.consume('ip:10.2.2.2');
    await limiter.consume('ip:10.2.2.2');
    await expect(limiter.consume('ip:10.2.2.2')).rejects.toMatchObject({ code: 'API_RATE_LIMITED' });
  });
});
