import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ROLES, type Role } from '../../engine/users.ts';
import { TotError } from '../../geo/errors.ts';

/** Who makes a request, as an access token proves it. */
export interface Principal {
  userId: string;
  role: Role;
}

/** Shortest accepted `JWT_SECRET`: 32 characters (HS256 wants at least 256 bits of key). */
export const MIN_JWT_SECRET_LENGTH = 32;

const ISSUER = 'tot-dispatch';
const AUDIENCE = 'tot-api';

/** Options of {@link AccessTokens}. */
export interface AccessTokensOptions {
  secret: string;
  /** Lifetime of an access token in seconds. */
  ttlSeconds: number;
  /** Seconds since the epoch; defaults to the wall clock. */
  clock?: () => number;
}

/**
 * Access tokens: JWTs signed with HS256 under one shared secret, carrying the user id (`sub`) and role. Verification
 * accepts HS256 only (so `alg: none` and any other algorithm are refused), checks the signature, issuer, audience and
 * expiry, and the claims' shape.
 */
export class AccessTokens {
  private readonly key: Uint8Array;

  constructor(private readonly options: AccessTokensOptions) {
    if (options.secret.length < MIN_JWT_SECRET_LENGTH) {
      throw new Error(`JWT secret must be at least ${MIN_JWT_SECRET_LENGTH} characters`);
    }
    this.key = new TextEncoder().encode(options.secret);
  }

  /** Seconds an access token lives. */
  get ttlSeconds(): number {
    return this.options.ttlSeconds;
  }

  private nowSeconds(): number {
    return Math.floor(this.options.clock ? this.options.clock() : Date.now() / 1000);
  }

  /** Signs an access token for `principal`. */
  async sign(principal: Principal): Promise<string> {
    const now = this.nowSeconds();
    return new SignJWT({ role: principal.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(principal.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + this.options.ttlSeconds)
      .sign(this.key);
  }

  /**
   * The principal of a valid token.
   *
   * @throws TotError `API_TOKEN_EXPIRED` when it has expired; `API_TOKEN_INVALID` for anything else wrong (malformed,
   *   tampered, another key, another algorithm including `none`, wrong issuer or audience, bad claims).
   */
  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        currentDate: new Date(this.nowSeconds() * 1000),
        clockTolerance: 0,
      });
      const role = payload['role'];
      if (typeof payload.sub !== 'string' || !ROLES.includes(role as Role)) {
        throw new TotError('API_TOKEN_INVALID', 'access token claims are malformed', {
          field: 'authorization',
        });
      }
      return { userId: payload.sub, role: role as Role };
    } catch (error) {
      if (error instanceof TotError) throw error;
      if (error instanceof joseErrors.JWTExpired) {
        throw new TotError('API_TOKEN_EXPIRED', 'access token has expired: refresh it', {
          field: 'authorization',
        });
      }
      throw new TotError('API_TOKEN_INVALID', 'access token is not valid', { field: 'authorization' });
    }
  }
}

/** The token of an `Authorization: Bearer <token>` header, or undefined when there is none. */
export function bearerOf(headers: Record<string, string>): string | undefined {
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(headers['authorization'] ?? '');
  return match?.[1];
}
