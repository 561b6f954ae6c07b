import { afterEach, describe, expect, it } from 'vitest';
import { corsHeadersOf, isOriginAllowed, preflightHeadersOf } from '../../../api/cors.ts';
import { bearerPrincipal, createGuards } from '../../../api/auth/guards.ts';
import { AccessTokens } from '../../../api/auth/tokens.ts';
import { RequestLimiter, authRateLimiter, consumeRequest } from '../../../api/rate-limit.ts';
import { Router } from '../../../api/router.ts';
import { HttpServer, type HttpServerOptions } from '../../../api/server.ts';
import { loadConfig } from '../../../engine/config.ts';
import { createLogger } from '../../../engine/logger.ts';
import { TotError } from '../../../geo/errors.ts';

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close(1_000);
});

function router(): Router {
  return new Router()
    .get('/healthz', () => ({ status: 200, body: { status: 'ok' } }))
    .get('/v1/ping', () => ({ status: 200, body: { pong: true } }));
}

async function serve(options: Partial<HttpServerOptions>, lines: object[] = []): Promise<string> {
  const logger = createLogger('debug', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as object);
    },
  });
  const server = new HttpServer({ host: '127.0.0.1', port: 0, router: router(), logger, ...options });
  servers.push(server);
  return `http://127.0.0.1:${await server.listen()}`;
}

describe('CORS', () => {
  it('allows listed origins only, and any origin with *', () => {
    expect(isOriginAllowed(['https://a.example'], 'https://a.example')).toBe(true);
    expect(isOriginAllowed(['https://a.example'], 'https://b.example')).toBe(false);
    expect(isOriginAllowed('*', 'https://b.example')).toBe(true);
    expect(isOriginAllowed('*', undefined)).toBe(false);
    expect(corsHeadersOf(['https://a.example'], 'https://a.example')).toEqual({
      'access-control-allow-origin': 'https://a.example',
      vary: 'Origin',
    });
    expect(preflightHeadersOf(['https://a.example'], 'https://b.example')).toEqual({});
  });

  it('reads CORS_ORIGINS as * or a list of origins, naming a bad entry', () => {
    expect(loadConfig({}).CORS_ORIGINS).toBeUndefined();
    expect(loadConfig({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toBe('*');
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://b.example:8080' }).CORS_ORIGINS).toEqual([
      'https://a.example',
      'http://b.example:8080',
    ]);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(
      /CORS_ORIGINS=.*"https:\/\/a.example\/path" must be an origin/,
    );
    expect(loadConfig({}).RATE_LIMIT_PER_MINUTE).toBe(600);
  });

  it('answers a preflight with 204 and the allow headers, and marks responses to allowed origins', async () => {
    const base = await serve({ cors: ['https://dispatch.example'] });
    const preflight = await fetch(`${base}/v1/ping`, {
      method: 'OPTIONS',
      headers: { origin: 'https://dispatch.example', 'access-control-request-method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://dispatch.example');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('authorization');

    const allowed = await fetch(`${base}/v1/ping`, { headers: { origin: 'https://dispatch.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://dispatch.example');
    const other = await fetch(`${base}/v1/ping`, { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends no CORS headers and refuses OPTIONS when no origins are configured', async () => {
    const base = await serve({});
    const response = await fetch(`${base}/v1/ping`, { headers: { origin: 'https://dispatch.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(`${base}/v1/ping`, { method: 'OPTIONS' })).status).toBe(405);
  });
});

describe('rate limits', () => {
  it('refuses the request over the budget with 429 API_RATE_LIMITED and Retry-After', async () => {
    const base = await serve({
      rateLimit: { limiter: new RequestLimiter({ points: 3, keyPrefix: 'test' }) },
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${base}/v1/ping`)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const refused = await fetch(`${base}/v1/ping`);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(((await refused.json()) as { code: string }).code).toBe('API_RATE_LIMITED');
    // Probes are never limited.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('counts a signed-in user on the user budget only, whatever the address, and others on their IP', async () => {
    const policy = {
      limiter: new RequestLimiter({ points: 2, keyPrefix: 'ips' }),
      userLimiter: new RequestLimiter({ points: 2, keyPrefix: 'users' }),
    };
    const signedIn = (ip: string, userId: string) => ({
      path: '/v1/x',
      remoteAddress: ip,
      principal: { userId },
    });
    await consumeRequest(policy, signedIn('10.0.0.1', 'user-1'));
    await consumeRequest(policy, signedIn('10.0.0.2', 'user-1'));
    // A third address, but the same user: the user's budget of 2 is spent.
    await expect(consumeRequest(policy, signedIn('10.0.0.3', 'user-1'))).rejects.toMatchObject({
      code: 'API_RATE_LIMITED',
    });
    // Another user behind the first address has a budget of their own, and the address's budget is untouched.
    await consumeRequest(policy, signedIn('10.0.0.1', 'user-2'));
    await consumeRequest(policy, { path: '/v1/x', remoteAddress: '10.0.0.1' });
    await consumeRequest(policy, { path: '/v1/x', remoteAddress: '10.0.0.1' });
    await expect(consumeRequest(policy, { path: '/v1/x', remoteAddress: '10.0.0.1' })).rejects.toMatchObject({
      code: 'API_RATE_LIMITED',
    });
  });

  it('verifies a bearer token once per request and limits each user on their own budget', async () => {
    let verifications = 0;
    const tokens = new AccessTokens({ secret: 'server-unit-secret-0123456789abcdefghij', ttlSeconds: 60 });
    const counting = {
      verify: (token: string) => {
        verifications++;
        return tokens.verify(token);
      },
    } as AccessTokens;
    const guarded = new Router().get(
      '/v1/whoami',
      createGuards(counting).authenticated((request) => ({
        status: 200,
        body: { userId: request.principal.userId },
      })),
    );
    const base = await serve({
      router: guarded,
      authenticate: bearerPrincipal(counting),
      rateLimit: {
        limiter: new RequestLimiter({ points: 100, keyPrefix: 'server-ips' }),
        userLimiter: new RequestLimiter({ points: 2, keyPrefix: 'server-users' }),
      },
    });
    const as = async (userId: string) =>
      fetch(`${base}/v1/whoami`, {
        headers: { authorization: `Bearer ${await tokens.sign({ userId, role: 'patient' })}` },
      });
    expect((await as('u-1')).status).toBe(200);
    expect(await (await as('u-1')).json()).toEqual({ userId: 'u-1' });
    expect(verifications).toBe(2);
    expect((await as('u-1')).status).toBe(429);
    expect((await as('u-2')).status).toBe(200);
  });

  it('gives POST /v1/auth/* a stricter per-IP budget (10 a minute by default)', async () => {
    const limiter = authRateLimiter();
    for (let i = 0; i < 10; i++) await limiter.consume('10.0.0.9');
    const error = await limiter.consume('10.0.0.9').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TotError);
    expect((error as TotError).details['retryAfterSeconds']).toBeGreaterThan(0);
    await expect(limiter.consume('10.0.0.10')).resolves.toBeUndefined();
  });
});

describe('request logs', () => {
  it('logs one line per request: info from 400 on, debug below, with method, path, status, µs and ip', async () => {
    const lines: object[] = [];
    const base = await serve({}, lines);
    await fetch(`${base}/v1/ping`);
    await fetch(`${base}/v1/missing`);
    const requests = lines.filter((line) => (line as { msg?: string }).msg === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ level: 20, method: 'GET', path: '/v1/ping', status: 200 });
    expect(requests[1]).toMatchObject({ level: 30, method: 'GET', path: '/v1/missing', status: 404 });
    expect(requests[1]).toHaveProperty('ip');
    expect(typeof (requests[1] as { micros: unknown }).micros).toBe('number');
  });
});
