import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { TotError } from '../geo/errors.ts';

/** Paths never limited: probes and scrapes must not be turned away under load. */
export const RATE_LIMIT_EXEMPT_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Options of {@link RequestLimiter}. */
export interface RequestLimiterOptions {
  /** Requests a client may make per window. */
  points: number;
  /** Window, seconds (default 60). */
  durationSeconds?: number;
  /** Prefix of the Redis keys (and the memory limiter's keys): one per limit. */
  keyPrefix: string;
  /**
   * Shared Redis: every instance counts against the same budget. Without it the budget is per process. When Redis
   * fails, a per-process memory limiter of the same size takes over (insurance), so an outage never refuses requests
   * on its own.
   */
  redis?: Redis;
}

/**
 * A budget of requests per key (client IP, or user id) per window, on rate-limiter-flexible: in memory, or in Redis
 * when given.
 */
export class RequestLimiter {
  private readonly limiter: RateLimiterAbstract;

  constructor(options: RequestLimiterOptions) {
    const common = {
      points: options.points,
      duration: options.durationSeconds ?? 60,
      keyPrefix: options.keyPrefix,
    };
    this.limiter = options.redis
      ? new RateLimiterRedis({
          ...common,
          storeClient: options.redis,
          insuranceLimiter: new RateLimiterMemory(common),
        })
      : new RateLimiterMemory(common);
  }

  /**
   * Takes one request from `key`'s budget.
   *
   * @throws TotError `API_RATE_LIMITED` when the budget is spent, with `retryAfterSeconds` in its details (the server
   * sends it as Retry-After).
   */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new TotError(
        'API_RATE_LIMITED',
        `more than ${this.limiter.points} requests in ${this.limiter.duration} s from ${key}; retry after ${retryAfterSeconds} s`,
        { retryAfterSeconds, limit: this.limiter.points },
      );
    }
  }
}

/** The default limit of a client. */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
/** The limit of POST /v1/auth/* per client IP: guessing passwords must stay slow. */
export const DEFAULT_AUTH_RATE_LIMIT_PER_MINUTE = 10;

/**
 * The limiter of sign-in and other POST /v1/auth/* routes: `perMinute` requests per client IP (default 10). Call
 * `consume(request.remoteAddress)` at the top of the handler.
 */
export function authRateLimiter(options: { perMinute?: number; redis?: Redis } = {}): RequestLimiter {
  return new RequestLimiter({
    points: options.perMinute ?? DEFAULT_AUTH_RATE_LIMIT_PER_MINUTE,
    keyPrefix: 'tot:rl:auth',
    ...(options.redis ? { redis: options.redis } : {}),
  });
}

/**
 * What the server limits. A request with a valid bearer token spends its user's budget (`user:<id>`), so users behind
 * one address (an office, a carrier's NAT) do not share one budget and one user's exhaustion limits only that user; a
 * request without one — no token, a bad or expired token, or a phone's device token — spends its client IP's budget
 * (`ip:<address>`).
 */
export interface RateLimitPolicy {
  /** Limiter of each client IP. */
  limiter: RequestLimiter;
  /** Limiter of each signed-in user; unset: signed-in users spend their IP's budget like everyone else. */
  userLimiter?: RequestLimiter;
}

/**
 * Takes one request from the signed-in user's budget when the request carries a verified `principal` (and the policy
 * has a user limiter), else from its client IP's. Exempt paths are never counted.
 *
 * @throws TotError `API_RATE_LIMITED` as {@link RequestLimiter.consume}.
 */
export async function consumeRequest(
  policy: RateLimitPolicy,
  request: { path: string; remoteAddress: string; principal?: { userId: string } | undefined },
): Promise<void> {
  if (RATE_LIMIT_EXEMPT_PATHS.has(request.path)) return;
  if (request.principal && policy.userLimiter) {
    await policy.userLimiter.consume(`user:${request.principal.userId}`);
    return;
  }
  await policy.limiter.consume(`ip:${request.remoteAddress}`);
}
