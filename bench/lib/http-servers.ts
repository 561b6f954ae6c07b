/**
 * The server side of bench/http.bench.ts, run as its own process so that the load generator does not share its event
 * loop. One {@link Router} holds the doctor routes over a fleet of SIZE doctors with positions and the user routes
 * over {@link BENCH_USERS} users kept in memory (so the authenticated case measures HTTP, the JWT check and the
 * guards, not a database), signed with the key in the `BENCH_JWT_SECRET` environment variable. It is served by:
 *   uws          the engine's uWebSockets.js {@link HttpServer}, verifying each bearer token once (as production does)
 *   uwsLimited   the same with production's rate limits (per IP, and per user for a valid token; in memory)
 *   nodeHttp     the node:http adapter (the guards verify the token)
 * Prints `{"uws":PORT,"uwsLimited":PORT,"nodeHttp":PORT}` on stdout once all listen; exits on SIGTERM.
 */
import { pathToFileURL } from 'node:url';
import { bearerPrincipal, createGuards } from '../../api/auth/guards.ts';
import { AccessTokens } from '../../api/auth/tokens.ts';
import { VerifiedTokens } from '../../api/auth/verified-tokens.ts';
import { RequestLimiter } from '../../api/rate-limit.ts';
import { addAuthRoutes, type UserSource } from '../../api/routes/auth.ts';
import { addDoctorRoutes } from '../../api/routes/doctors.ts';
import { Router } from '../../api/router.ts';
import { HttpServer } from '../../api/server.ts';
import { createLogger } from '../../engine/logger.ts';
import type { User } from '../../engine/users.ts';
import { buildFleet } from '../nearby.bench.ts';
import { syntheticCity } from './city.ts';
import { startNodeHttpServer } from './node-http-adapter.ts';

/** Users the authenticated case spreads its requests over. */
export const BENCH_USERS = 1_000;

/** The id of the bench's user `i` (a UUID, as the user routes expect). */
export function benchUserId(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 100_000);
  const secret = process.env['BENCH_JWT_SECRET'];
  if (!secret) throw new Error('BENCH_JWT_SECRET is not set');
  const fleet = buildFleet(syntheticCity(size, 1));
  const tokens = new AccessTokens({ secret, ttlSeconds: 3_600 });
  const users = new Map<string, User>();
  for (let i = 0; i < BENCH_USERS; i++) {
    const id = benchUserId(i);
    users.set(id, {
      id,
      email: `user${i}@bench.test`,
      role: 'patient',
      displayName: `User ${i}`,
      createdAt: 0,
      disabled: false,
    });
  }
  const unused = () => Promise.reject(new Error('not served by the bench'));
  const userSource: UserSource = {
    get: (id) => Promise.resolve(users.get(id)),
    register: unused,
    authenticate: unused,
    setRole: unused,
    issueRefreshToken: unused,
    rotateRefreshToken: unused,
    logout: unused,
  };
  const router = new Router();
  addDoctorRoutes(router, () => fleet);
  // As in production: verified tokens are remembered, for the guards and for the server's one check per request.
  const verifiedTokens = new VerifiedTokens(tokens);
  addAuthRoutes(router, { users: userSource, tokens, guards: createGuards(verifiedTokens) });

  const logger = createLogger('warn');
  const authenticate = bearerPrincipal(verifiedTokens);
  const uws = new HttpServer({ host: '127.0.0.1', port: 0, router, logger, authenticate });
  const uwsLimited = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    router,
    logger,
    authenticate,
    // Budgets no run exhausts: the cost of counting is measured, not the refusals.
    rateLimit: {
      limiter: new RequestLimiter({ points: 1_000_000_000, keyPrefix: 'bench:ip' }),
      userLimiter: new RequestLimiter({ points: 1_000_000_000, keyPrefix: 'bench:user' }),
    },
  });
  const ports = { uws: await uws.listen(), uwsLimited: await uwsLimited.listen() };
  const nodeHttp = await startNodeHttpServer(router);
  process.stdout.write(`${JSON.stringify({ ...ports, nodeHttp: nodeHttp.port })}\n`);
  process.once('SIGTERM', () => {
    void Promise.all([uws.close(1_000), uwsLimited.close(1_000)]).then(() => {
      nodeHttp.server.close();
      process.exit(0);
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
