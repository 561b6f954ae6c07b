import { describe, expect, it } from 'vitest';
import { AccessTokens, type Principal } from '../../../api/auth/tokens.ts';
import { VerifiedTokens } from '../../../api/auth/verified-tokens.ts';

const SECRET = 'verified-tokens-secret-0123456789abcdef';
const ALICE: Principal = { userId: 'user-alice', role: 'patient' };

/** Access tokens on a settable clock (seconds), counting the verifications that reach them. */
function setUp(options: { maxEntries?: number } = {}) {
  let seconds = 1_800_000_000;
  let verifications = 0;
  const tokens = new AccessTokens({ secret: SECRET, ttlSeconds: 60, clock: () => seconds });
  const counting = {
    verify: (token: string) => {
      verifications++;
      return tokens.verify(token);
    },
  };
  const verified = new VerifiedTokens(counting, { ...options, clock: () => seconds * 1000 });
  return {
    tokens,
    verified,
    verifications: () => verifications,
    advance: (by: number) => {
      seconds += by;
    },
  };
}

describe('VerifiedTokens', () => {
  it('checks a token once and answers its repeats from memory, with a copy of the principal', async () => {
    const { tokens, verified, verifications } = setUp();
    const token = await tokens.sign(ALICE);
    const first = await verified.verify(token);
    first.role = 'admin';
    expect(await verified.verify(token)).toEqual(ALICE);
    expect(await verified.verify(token)).toEqual(ALICE);
    expect(verifications()).toBe(1);
  });

  it('verifies a tampered token in full and refuses it; failures are not remembered', async () => {
    const { tokens, verified, verifications } = setUp();
    const token = await tokens.sign(ALICE);
    await verified.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${signature}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(verified.verify(forged)).rejects.toMatchObject({ code: 'API_TOKEN_INVALID' });
    }
    expect(verifications()).toBe(3);
    expect(verified.size).toBe(1);
  });

  it('answers a remembered token past its expiry with API_TOKEN_EXPIRED and forgets it', async () => {
    const { tokens, verified, advance } = setUp();
    const token = await tokens.sign(ALICE);
    await verified.verify(token);
    advance(59);
    expect(await verified.verify(token)).toEqual(ALICE);
    advance(1);
    await expect(verified.verify(token)).rejects.toMatchObject({ code: 'API_TOKEN_EXPIRED' });
    expect(verified.size).toBe(0);
  });

  it('keeps at most maxEntries tokens, the oldest making room', async () => {
    const { tokens, verified, verifications } = setUp({ maxEntries: 2 });
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map((userId) => tokens.sign({ userId, role: 'doctor' })),
    );
    for (const token of [a!, b!, c!]) await verified.verify(token);
    expect(verified.size).toBe(2);
    await verified.verify(c!);
    expect(verifications()).toBe(3);
    await verified.verify(a!);
    expect(verifications()).toBe(4);
  });
});
