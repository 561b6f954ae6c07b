/**
 * Two routes over HTTP with keep-alive, measured with autocannon:
 *   position   GET /v1/doctors/:id/position for a fleet of 100k doctors with positions (random doctor per request)
 *   own-user   GET /v1/users/:id with a bearer token, each request a user reading their own record (1 000 users in
 *              memory): the JWT check, the guard's ownership check and the handler
 * on each of
 *   tot-uws          the engine's server on uWebSockets.js (api/server.ts) and its Router
 *   tot-uws+limits   the same with production's rate limits (own-user only: per user for a valid token)
 *   node-http        the same Router behind node:http (bench/lib/node-http-adapter.ts)
 * The servers run in a child process (bench/lib/http-servers.ts), the load generator in this one, so each has a core
 * of its own on a 2-core machine. Reports req/s and latency p50/p99 in ms (autocannon's figures).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { AccessTokens } from '../api/auth/tokens.ts';
import type { Bench } from './lib/bench.ts';
import { doctorId } from './lib/city.ts';
import { BENCH_USERS, benchUserId } from './lib/http-servers.ts';

const BENCH = 'http';
const CONNECTIONS = 50;
const SERVERS = fileURLToPath(new URL('./lib/http-servers.ts', import.meta.url));

interface Ports {
  uws: number;
  uwsLimited: number;
  nodeHttp: number;
}

async function startServers(
  size: number,
  secret: string,
): Promise<{ ports: Ports; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVERS, String(size)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_JWT_SECRET: secret },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const ports = await new Promise<Ports>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as Ports));
    child.once('exit', (code) => reject(new Error(`bench servers exited with code ${code}`)));
  });
  return {
    ports,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Seconds of load each case starts with, before any subject's own warm-up and measurement. */
const CASE_WARM_UP_SECONDS = 8;

/** Requests each connection cycles through: prebuilt requests cost the load generator less than one built per request. */
const PATHS = 1_000;

type Request = { method: 'GET'; path: string; headers?: Record<string, string> };

/** Doctors spread over the fleet (a golden-ratio walk), so no one record stays hot. */
function positionRequests(size: number): Request[] {
  return Array.from({ length: PATHS }, (_, i) => ({
    method: 'GET' as const,
    path: `/v1/doctors/${doctorId((i * 61_803) % size)}/position`,
  }));
}

/** Each of the bench's users reading their own record with their own access token. */
async function ownUserRequests(secret: string): Promise<Request[]> {
  const tokens = new AccessTokens({ secret, ttlSeconds: 3_600 });
  return Promise.all(
    Array.from({ length: BENCH_USERS }, async (_, i) => {
      const userId = benchUserId(i);
      const token = await tokens.sign({ userId, role: 'patient' });
      return {
        method: 'GET' as const,
        path: `/v1/users/${userId}`,
        headers: { authorization: `Bearer ${token}` },
      };
    }),
  );
}

async function load(port: number, requests: Request[], seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    requests,
  });
}

const bench: Bench = {
  description:
    'GET /v1/doctors/:id/position (100k) and an authenticated GET /v1/users/:id of oneself over HTTP: ' +
    'uWebSockets.js server vs node:http, same Router',
  async run({ reporter, sizes, seconds, verify }) {
    const secret = randomBytes(32).toString('base64url');
    const ownUser = await ownUserRequests(secret);
    for (const size of sizes ?? [100_000]) {
      reporter.note(
        `-- ${size} doctors, ${BENCH_USERS} users, ${CONNECTIONS} connections, ${seconds} s each`,
      );
      const { ports, stop } = await startServers(size, secret);
      try {
        if (verify) {
          const position = await fetch(`http://127.0.0.1:${ports.uws}/v1/doctors/${doctorId(0)}/position`);
          if (position.status !== 200) throw new Error(`position answered ${position.status}`);
          const own = ownUser[0]!;
          const user = await fetch(`http://127.0.0.1:${ports.nodeHttp}${own.path}`, {
            headers: own.headers ?? {},
          });
          if (user.status !== 200) throw new Error(`own user answered ${user.status}`);
        }
        const cases: [route: string, requests: Request[], subjects: [string, number][]][] = [
          [
            'position',
            positionRequests(size),
            [
              ['tot-uws', ports.uws],
              ['node-http', ports.nodeHttp],
            ],
          ],
          [
            'own-user',
            ownUser,
            [
              ['tot-uws', ports.uws],
              ['tot-uws+limits', ports.uwsLimited],
              ['node-http', ports.nodeHttp],
            ],
          ],
        ];
        for (const [route, requests, subjects] of cases) {
          // The first seconds of a new kind of request run at a fraction of the later rate (JIT of both processes
          // on the new path; measured: 13k then 32k req/s in consecutive 5 s runs of own-user), hence a longer
          // warm-up per case besides each subject's own.
          await load(subjects[0]![1], requests, CASE_WARM_UP_SECONDS);
          for (const [subject, port] of subjects) {
            await load(port, requests, 1); // warm-up: JIT and connections
            const result = await load(port, requests, seconds);
            const failed = result.errors + result.non2xx + result.timeouts;
            if (failed > 0) reporter.note(`   ${route} ${subject}: ${failed} failed requests`);
            const params = { route, size, connections: CONNECTIONS };
            reporter.add(BENCH, subject, 'req_per_s', result.requests.average, 'req/s', params);
            reporter.add(BENCH, subject, 'p50_ms', result.latency.p50, 'ms', params);
            reporter.add(BENCH, subject, 'p99_ms', result.latency.p99, 'ms', params);
          }
        }
      } finally {
        await stop();
      }
    }
  },
};

export default bench;
