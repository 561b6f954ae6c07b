/**
 * The real Redis started by scripts/services.sh round-trips values and answers GEO queries; the global setup exposes
 * the service addresses to test files.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

describe('Redis (real server)', () => {
  const prefix = `tot:test:${randomUUID()}`;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(inject('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
  });

  afterAll(async () => {
    if (!redis) return;
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('global setup exposes the service addresses through process.env and inject alike', () => {
    for (const name of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL'] as const) {
      expect(process.env[name], name).toBe(inject(name));
    }
    expect(inject('REDIS_URL')).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers PING and round-trips SET/GET', async () => {
    expect(await redis.ping()).toBe('PONG');
    const key = `${prefix}:greeting`;
    expect(await redis.set(key, 'привет, ТОТ', 'EX', 60)).toBe('OK');
    expect(await redis.get(key)).toBe('привет, ТОТ');
  });

  it('GEOSEARCH by radius returns the members GEOADD put inside it, nearest first', async () => {
    const key = `${prefix}:doctors`;
    // [lng, lat] around Red Square, Moscow: ~300 m, ~2 km and ~630 km (St Petersburg) away.
    expect(
      await redis.geoadd(
        key,
        37.6208,
        55.7566,
        'near',
        37.6528,
        55.7539,
        'across-town',
        30.3141,
        59.9386,
        'spb',
      ),
    ).toBe(3);

    expect(await redis.geosearch(key, 'FROMLONLAT', 37.6208, 55.7539, 'BYRADIUS', 1, 'km', 'ASC')).toEqual([
      'near',
    ]);
    expect(await redis.geosearch(key, 'FROMLONLAT', 37.6208, 55.7539, 'BYRADIUS', 5, 'km', 'ASC')).toEqual([
      'near',
      'across-town',
    ]);
    expect(await redis.geosearch(key, 'FROMMEMBER', 'spb', 'BYRADIUS', 10, 'km', 'ASC')).toEqual(['spb']);
  });
});
