import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type apiClient } from '../../support/api-client.ts';
import { startApiEngine } from '../../support/api-engine.ts';

const USER_BUDGET = 6;
const IP_BUDGET = 8;

describe('per-user rate limits on a real socket', () => {
  let client: ReturnType<typeof apiClient>;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const started = await startApiEngine(
      'rate-user',
      {
        JWT_SECRET: 'per-user-rate-limit-secret-0123456789abc',
        RATE_LIMIT_AUTH_PER_MINUTE: '100',
        RATE_LIMIT_PER_MINUTE: String(IP_BUDGET),
        RATE_LIMIT_USER_PER_MINUTE: String(USER_BUDGET),
      },
      { admin: false },
    );
    cleanups.push(started.stop);
    client = started.api;
  }, 90_000);

  afterAll(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it('gives two users behind one address budgets of their own, and limits only the one who spent it', async () => {
    // Four unauthenticated requests from this address (register and log in both users): 4 of its 8.
    const ann = await client.register('ann');
    const ben = await client.register('ben');
    const annToken = await client.login(ann.email);
    const benToken = await client.login(ben.email);

    for (let request = 0; request < USER_BUDGET; request++) {
      expect((await client.send('GET', '/v1/users/me', { token: annToken })).status).toBe(200);
    }
    const limited = await client.send('GET', '/v1/users/me', { token: annToken });
    expect(limited).toMatchObject({ status: 429, body: { code: 'API_RATE_LIMITED' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.body['detail']).toContain(`user:${ann.id}`);

    // Ben, same address, still has his whole budget.
    for (let request = 0; request < USER_BUDGET; request++) {
      expect((await client.send('GET', '/v1/users/me', { token: benToken })).status).toBe(200);
    }
    expect((await client.send('GET', '/v1/users/me', { token: benToken })).status).toBe(429);

    // Neither spent the address's budget: requests without a token still have the 4 left, then the address is limited.
    const anonymous = [];
    for (let request = 0; request < 5; request++) {
      anonymous.push((await client.send('GET', '/v1/doctors/nearby?lat=55.75&lng=37.6')).status);
    }
    expect(anonymous).toEqual([200, 200, 200, 200, 429]);
    // A bad token counts as no token: the address's budget, spent now.
    expect(await client.send('GET', '/v1/users/me', { token: 'not-a-jwt' })).toMatchObject({
      status: 429,
      body: { code: 'API_RATE_LIMITED' },
    });
  });
});
