import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineProcess } from '../../support/engine-process.ts';
import { startApiEngine } from '../../support/api-engine.ts';

describe('rate limits on a real socket', () => {
  let engine: EngineProcess;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const started = await startApiEngine(
      'rate',
      {
        JWT_SECRET: 'rate-limit-suite-secret-0123456789abcdef',
        RATE_LIMIT_AUTH_PER_MINUTE: '3',
        RATE_LIMIT_PER_MINUTE: '30',
      },
      { admin: false },
    );
    cleanups.push(started.stop);
    engine = started.engine;
  }, 90_000);

  afterAll(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  const post = (pathname: string, body: unknown) =>
    fetch(engine.url(pathname), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('spends the sign-in budget, then answers 429 API_RATE_LIMITED with Retry-After before doing any work', async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await post('/v1/auth/login', {
        email: 'nobody@example.test',
        password: 'wrong password 1',
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { code: string }).code).toBe('API_INVALID_CREDENTIALS');
    }
    const limited = await post('/v1/auth/register', {
      email: 'late@example.test',
      password: 'a good password 1',
      displayName: 'Late',
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { code: string }).code).toBe('API_RATE_LIMITED');
  });

  it('spends the general budget per client address but never limits the health probes', async () => {
    let status = 0;
    for (let request = 0; request < 40 && status !== 429; request++) {
      status = (await fetch(engine.url('/v1/doctors/nearby?lat=55.75&lng=37.6'))).status;
    }
    expect(status).toBe(429);
    expect((await fetch(engine.url('/healthz'))).status).toBe(200);
    expect((await fetch(engine.url('/readyz'))).status).toBe(200);
  });
});
