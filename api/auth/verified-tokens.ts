import { decodeJwt } from 'jose';
import type { AccessTokens, Principal } from './tokens.ts';

/** What verifies an access token: {@link AccessTokens}, or {@link VerifiedTokens} in front of it. */
export type TokenVerifier = Pick<AccessTokens, 'verify'>;

/** Default number of verified tokens remembered. */
export const DEFAULT_VERIFIED_TOKENS = 10_000;

/**
 * Remembers the access tokens that verified, until each expires, so that a client presenting the same token on every
 * request (as clients do for its whole lifetime) pays the HS256 check once instead of per request; the check costs
 * tens of microseconds through WebCrypto, more than the rest of a small authenticated request. Only a token string
 * that verified is remembered, with its principal and expiry: a tampered token is another string and is verified (and
 * refused) in full; a remembered token past its expiry is verified again, which gives its exact `API_TOKEN_EXPIRED`.
 * Failures are never remembered. At most `maxEntries` tokens are kept; the oldest make room.
 */
export class VerifiedTokens implements TokenVerifier {
  private readonly verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  private readonly maxEntries: number;
  private readonly clock: () => number;

  constructor(
    private readonly tokens: TokenVerifier,
    options: { maxEntries?: number; clock?: () => number } = {},
  ) {
    this.maxEntries = options.maxEntries ?? DEFAULT_VERIFIED_TOKENS;
    this.clock = options.clock ?? Date.now;
  }

  /** Tokens remembered now. */
  get size(): number {
    return this.verified.size;
  }

  /**
   * The principal of a valid token (a copy: callers cannot change what is remembered).
   *
   * @throws TotError as {@link AccessTokens.verify}.
   */
  async verify(token: string): Promise<Principal> {
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (this.clock() < known.expiresAtMs) return { ...known.principal };
      this.verified.delete(token);
    }
    const principal = await this.tokens.verify(token);
    const expiry = decodeJwt(token).exp;
    if (typeof expiry === 'number') {
      if (this.verified.size >= this.maxEntries) {
        const oldest = this.verified.keys().next();
        if (!oldest.done) this.verified.delete(oldest.value);
      }
      this.verified.set(token, { principal: { ...principal }, expiresAtMs: expiry * 1000 });
    }
    return principal;
  }
}
