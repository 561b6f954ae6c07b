import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineProcess } from '../../support/engine-process.ts';
import { startApiEngine, TEST_ADMIN } from '../../support/api-engine.ts';

/** Test values only. */
const JWT_SECRET = 'security-suite-secret-0123456789abcdef';
const PASSWORD = 'patient password 123';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

describe('API security on a real socket (embedded engine)', () => {
  let engine: EngineProcess;
  const cleanups: (() => void)[] = [];

  async function send(
    method: string,
    pathname: string,
    options: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.raw !== undefined || options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = options.raw ?? JSON.stringify(options.body);
    }
    const response = await fetch(engine.url(pathname), {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  async function register(name: string): Promise<{ id: string; email: string }> {
    const email = `${name}@example.test`;
    const reply = await send('POST', '/v1/auth/register', {
      body: { email, password: PASSWORD, displayName: name },
    });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    return { id: reply.body['id'] as string, email };
  }

  async function login(email: string, password = PASSWORD): Promise<{ access: string; refresh: string }> {
    const reply = await send('POST', '/v1/auth/login', { body: { email, password } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return { access: reply.body['accessToken'] as string, refresh: reply.body['refreshToken'] as string };
  }

  function fieldsOf(body: Record<string, unknown>): string[] {
    return ((body['errors'] as { field: string }[] | undefined) ?? []).map((error) => error.field);
  }

  beforeAll(async () => {
    const started = await startApiEngine('security', {
      JWT_SECRET,
      // This suite logs in many times from one address; the sign-in limit is not what it tests.
      RATE_LIMIT_AUTH_PER_MINUTE: '10000',
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    cleanups.push(started.stop);
    engine = started.engine;
  }, 90_000);

  afterAll(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it("hides another user's object (404 API_USER_NOT_FOUND) but shows it to an admin", async () => {
    const alice = await register('alice');
    const bob = await register('bob');
    const aliceTokens = await login(alice.email);
    const admin = await login(TEST_ADMIN.email, TEST_ADMIN.password);

    const own = await send('GET', `/v1/users/${alice.id}`, { token: aliceTokens.access });
    expect(own).toMatchObject({ status: 200, body: { id: alice.id, role: 'patient' } });
    const other = await send('GET', `/v1/users/${bob.id}`, { token: aliceTokens.access });
    expect(other).toMatchObject({ status: 404, body: { code: 'API_USER_NOT_FOUND' } });
    // Exactly like an id that does not exist.
    const missing = await send('GET', '/v1/users/00000000-0000-4000-8000-000000000000', {
      token: aliceTokens.access,
    });
    expect(missing).toMatchObject({ status: 404, body: { code: 'API_USER_NOT_FOUND' } });
    expect(await send('GET', `/v1/users/${bob.id}`, { token: admin.access })).toMatchObject({
      status: 200,
      body: { id: bob.id, email: bob.email },
    });
    expect(await send('GET', '/v1/users/me', { token: aliceTokens.access })).toMatchObject({
      status: 200,
      body: { id: alice.id },
    });
  });

  it('refuses a patient on admin routes with 403 API_FORBIDDEN and changes nothing', async () => {
    const carol = await register('carol');
    const tokens = await login(carol.email);
    const promote = await send('PATCH', `/v1/users/${carol.id}/role`, {
      token: tokens.access,
      body: { role: 'admin' },
    });
    expect(promote).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    expect(await send('GET', '/v1/users/me', { token: tokens.access })).toMatchObject({
      body: { role: 'patient' },
    });

    const sensor = { kind: 'detector', lat: 55.75, lng: 37.62 };
    expect(
      await send('PUT', '/v1/traffic/sensors/sec-1', { token: tokens.access, body: sensor }),
    ).toMatchObject({
      status: 403,
      body: { code: 'API_FORBIDDEN' },
    });
    expect(await send('PUT', '/v1/traffic/sensors/sec-1', { body: sensor })).toMatchObject({
      status: 401,
      body: { code: 'API_UNAUTHENTICATED' },
    });
    expect(await send('GET', '/v1/traffic/sensors/sec-1')).toMatchObject({ status: 404 });
    expect(await send('GET', '/v1/audit', { token: tokens.access })).toMatchObject({
      status: 403,
      body: { code: 'API_FORBIDDEN' },
    });

    // An admin may do both.
    const admin = await login(TEST_ADMIN.email, TEST_ADMIN.password);
    expect(
      await send('PUT', '/v1/traffic/sensors/sec-1', { token: admin.access, body: sensor }),
    ).toMatchObject({
      status: 201,
    });
    expect(
      await send('PATCH', `/v1/users/${carol.id}/role`, {
        token: admin.access,
        body: { role: 'dispatcher' },
      }),
    ).toMatchObject({ status: 200, body: { role: 'dispatcher' } });
  });

  it('answers expired, tampered, alg none and wrong-key tokens with 401 and the exact code', async () => {
    const dave = await register('dave');
    const { access } = await login(dave.email);
    const key = new TextEncoder().encode(JWT_SECRET);
    const claims = (jwt: SignJWT) => jwt.setSubject(dave.id).setIssuer('tot-dispatch').setAudience('tot-api');
    const now = Math.floor(Date.now() / 1000);

    const expired = await claims(new SignJWT({ role: 'patient' }).setProtectedHeader({ alg: 'HS256' }))
      .setIssuedAt(now - 3600)
      .setExpirationTime(now - 60)
      .sign(key);
    const [header, payload, signature] = access.split('.') as [string, string, string];
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...decoded, role: 'admin' })).toString('base64url')}.${signature}`;
    const none = new UnsecuredJWT({ role: 'admin' })
      .setSubject(dave.id)
      .setIssuer('tot-dispatch')
      .setAudience('tot-api')
      .setExpirationTime(now + 600)
      .encode();
    const wrongKey = await claims(new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }))
      .setExpirationTime(now + 600)
      .sign(new TextEncoder().encode('a-different-secret-0123456789abcdef!'));

    const cases: [string, string][] = [
      [expired, 'API_TOKEN_EXPIRED'],
      [tampered, 'API_TOKEN_INVALID'],
      [none, 'API_TOKEN_INVALID'],
      [wrongKey, 'API_TOKEN_INVALID'],
    ];
    for (const [token, code] of cases) {
      expect(await send('GET', '/v1/users/me', { token }), code).toMatchObject({
        status: 401,
        body: { code },
      });
      expect(await send('GET', '/v1/audit', { token }), code).toMatchObject({ status: 401, body: { code } });
    }
    expect(await send('GET', '/v1/users/me')).toMatchObject({
      status: 401,
      body: { code: 'API_UNAUTHENTICATED' },
    });
    expect(await send('GET', '/v1/users/me', { token: access })).toMatchObject({ status: 200 });
  });

  it('rejects a reused refresh token and revokes its family, the newest token included', async () => {
    const erin = await register('erin');
    const first = await login(erin.email);
    const rotated = await send('POST', '/v1/auth/refresh', { body: { refreshToken: first.refresh } });
    expect(rotated.status).toBe(200);
    const newest = rotated.body['refreshToken'] as string;
    expect(newest).not.toBe(first.refresh);

    expect(await send('POST', '/v1/auth/refresh', { body: { refreshToken: first.refresh } })).toMatchObject({
      status: 401,
      body: { code: 'API_TOKEN_REUSED' },
    });
    expect(await send('POST', '/v1/auth/refresh', { body: { refreshToken: newest } })).toMatchObject({
      status: 401,
      body: { code: 'API_TOKEN_INVALID' },
    });

    // Logout revokes too.
    const second = await login(erin.email);
    expect(await send('POST', '/v1/auth/logout', { body: { refreshToken: second.refresh } })).toMatchObject({
      status: 204,
    });
    expect(await send('POST', '/v1/auth/refresh', { body: { refreshToken: second.refresh } })).toMatchObject({
      status: 401,
      body: { code: 'API_TOKEN_INVALID' },
    });
  });

  it('refuses mass assignment (role on register) with 400 naming body.role, writing nothing', async () => {
    const email = 'mallory@example.test';
    const reply = await send('POST', '/v1/auth/register', {
      body: { email, password: PASSWORD, displayName: 'Mallory', role: 'admin' },
    });
    expect(reply).toMatchObject({ status: 400, body: { code: 'API_VALIDATION_FAILED' } });
    expect(fieldsOf(reply.body)).toEqual(['body.role']);
    expect(await send('POST', '/v1/auth/login', { body: { email, password: PASSWORD } })).toMatchObject({
      status: 401,
      body: { code: 'API_INVALID_CREDENTIALS' },
    });
  });

  it('refuses an oversized body (413) and malformed JSON (400), writing nothing', async () => {
    const email = 'oscar@example.test';
    const big = JSON.stringify({ email, password: PASSWORD, displayName: 'x'.repeat(2 * 1024 * 1024) });
    const oversized = await send('POST', '/v1/auth/register', { raw: big });
    expect(oversized).toMatchObject({ status: 413, body: { code: 'API_BODY_TOO_LARGE' } });

    const malformed = await send('POST', '/v1/auth/register', {
      raw: `{"email": "${email}", "password": "${PASSWORD}", "displayName": "Oscar"`,
    });
    expect(malformed).toMatchObject({ status: 400, body: { code: 'API_MALFORMED_JSON' } });

    expect(await send('POST', '/v1/auth/login', { body: { email, password: PASSWORD } })).toMatchObject({
      status: 401,
      body: { code: 'API_INVALID_CREDENTIALS' },
    });
  });

  it('records state-changing requests in the audit log, readable by an admin', async () => {
    const frank = await register('frank');
    const tokens = await login(frank.email);
    await send('PATCH', `/v1/users/${frank.id}/role`, { token: tokens.access, body: { role: 'admin' } });
    const admin = await login(TEST_ADMIN.email, TEST_ADMIN.password);
    const reply = await send('GET', `/v1/audit?userId=${frank.id}&limit=10`, { token: admin.access });
    expect(reply.status).toBe(200);
    const entries = reply.body['entries'] as Record<string, unknown>[];
    expect(entries[0]).toMatchObject({
      userId: frank.id,
      role: 'patient',
      method: 'PATCH',
      path: `/v1/users/${frank.id}/role`,
      target: frank.id,
      status: 403,
      detail: { code: 'API_FORBIDDEN' },
    });
    expect(entries.every((entry) => entry['method'] !== 'GET')).toBe(true);
    // Registration is recorded too, naming the user it created.
    const all = await send('GET', '/v1/audit?limit=1000', { token: admin.access });
    const registrations = (all.body['entries'] as Record<string, unknown>[]).filter(
      (entry) => entry['path'] === '/v1/auth/register' && entry['target'] === frank.id,
    );
    expect(registrations).toMatchObject([{ status: 201, userId: null }]);
  });
});
