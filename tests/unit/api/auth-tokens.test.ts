import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createGuards } from '../../../api/auth/guards.ts';
import { AccessTokens, bearerOf } from '../../../api/auth/tokens.ts';
import { problemOf } from '../../../api/errors.ts';
import { Router } from '../../../api/router.ts';
import { hashPassword, verifyPassword } from '../../../engine/passwords.ts';
import { TotError } from '../../../geo/errors.ts';

const SECRET = 'unit-test-secret-of-at-least-32-characters';
const now = 1_795_338_000; // seconds
const tokens = new AccessTokens({ secret: SECRET, ttlSeconds: 900, clock: () => now });
const principal = { userId: '6f1c2a38-6a8e-4d55-9a0e-8f0a3f1b2c3d', role: 'patient' as const };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TotError) return error.code;
    throw error;
  }
  return 'no error';
}

describe('access tokens', () => {
  it('verify what they sign, giving back the principal', async () => {
    expect(await tokens.verify(await tokens.sign(principal))).toEqual(principal);
  });

  it('refuse an expired token with API_TOKEN_EXPIRED', async () => {
    const old = new AccessTokens({ secret: SECRET, ttlSeconds: 900, clock: () => now - 901 });
    expect(await codeOf(tokens.verify(await old.sign(principal)))).toBe('API_TOKEN_EXPIRED');
  });

  it('refuse a tampered payload, a token of another key and alg none with API_TOKEN_INVALID', async () => {
    const good = await tokens.sign(principal);
    const [header, , signature] = good.split('.');
    const forged = Buffer.from(
      JSON.stringify({
        sub: principal.userId,
        role: 'admin',
        iss: 'tot-dispatch',
        aud: 'tot-api',
        exp: now + 900,
      }),
    ).toString('base64url');
    expect(await codeOf(tokens.verify(`${header}.${forged}.${signature}`))).toBe('API_TOKEN_INVALID');

    const other = new AccessTokens({
      secret: 'another-secret-of-at-least-32-characters!',
      ttlSeconds: 900,
      clock: () => now,
    });
    expect(await codeOf(tokens.verify(await other.sign(principal)))).toBe('API_TOKEN_INVALID');

    const none = new UnsecuredJWT({ role: 'admin' })
      .setSubject(principal.userId)
      .setIssuer('tot-dispatch')
      .setAudience('tot-api')
      .setExpirationTime(now + 900)
      .encode();
    expect(await codeOf(tokens.verify(none))).toBe('API_TOKEN_INVALID');

    // Right key, but HS512 instead of HS256: only HS256 is accepted.
    const hs512 = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject(principal.userId)
      .setIssuer('tot-dispatch')
      .setAudience('tot-api')
      .setExpirationTime(now + 900)
      .sign(new TextEncoder().encode(SECRET.repeat(2)));
    expect(await codeOf(tokens.verify(hs512))).toBe('API_TOKEN_INVALID');

    expect(await codeOf(tokens.verify('not.a.jwt'))).toBe('API_TOKEN_INVALID');
  });

  it('refuse a validly signed token whose role is unknown', async () => {
    const weird = await new SignJWT({ role: 'superuser' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(principal.userId)
      .setIssuer('tot-dispatch')
      .setAudience('tot-api')
      .setExpirationTime(now + 900)
      .sign(new TextEncoder().encode(SECRET));
    expect(await codeOf(tokens.verify(weird))).toBe('API_TOKEN_INVALID');
  });

  it('refuse a secret shorter than 32 characters', () => {
    expect(() => new AccessTokens({ secret: 'short', ttlSeconds: 60 })).toThrow(/32 characters/);
  });

  it('read the bearer header', () => {
    expect(bearerOf({ authorization: 'Bearer abc.def.ghi' })).toBe('abc.def.ghi');
    expect(bearerOf({ authorization: 'bearer   x' })).toBe('x');
    expect(bearerOf({ authorization: 'Basic dXNlcg==' })).toBeUndefined();
    expect(bearerOf({})).toBeUndefined();
  });
});

describe('guards', () => {
  const guards = createGuards(tokens);
  const router = new Router()
    .get(
      '/me',
      guards.authenticated((request) => ({ status: 200, body: request.principal })),
    )
    .get(
      '/admin',
      guards.requireRole(['admin'], () => ({ status: 200, body: 'ok' })),
    );
  const call = async (path: string, authorization?: string) => {
    try {
      return await router.handle({
        method: 'GET',
        path,
        query: new URLSearchParams(),
        headers: authorization ? { authorization } : {},
        remoteAddress: '',
      });
    } catch (error) {
      const problem = problemOf(error);
      return { status: problem.status, body: problem };
    }
  };

  it('give the handler the principal of a valid token', async () => {
    const token = await tokens.sign(principal);
    expect(await call('/me', `Bearer ${token}`)).toEqual({ status: 200, body: principal });
  });

  it('answer 401 API_UNAUTHENTICATED without a token and 403 API_FORBIDDEN for another role', async () => {
    expect(await call('/me')).toMatchObject({ status: 401, body: { code: 'API_UNAUTHENTICATED' } });
    const patient = await tokens.sign(principal);
    expect(await call('/admin', `Bearer ${patient}`)).toMatchObject({
      status: 403,
      body: { code: 'API_FORBIDDEN' },
    });
    const admin = await tokens.sign({ ...principal, role: 'admin' });
    expect(await call('/admin', `Bearer ${admin}`)).toEqual({ status: 200, body: 'ok' });
    expect(await call('/admin', 'Bearer garbage')).toMatchObject({
      status: 401,
      body: { code: 'API_TOKEN_INVALID' },
    });
  });
});

describe('password hashing', () => {
  it('verifies the right password only, with a fresh salt per hash', async () => {
    const first = await hashPassword('correct horse battery');
    const second = await hashPassword('correct horse battery');
    expect(first).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(first).not.toBe(second);
    expect(await verifyPassword('correct horse battery', first)).toBe(true);
    expect(await verifyPassword('correct horse batterz', first)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'scrypt$1$2$x')).toBe(false);
    expect(await verifyPassword('correct horse battery', 'plain')).toBe(false);
  });
});
