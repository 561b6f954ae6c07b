/**
 * GET /v1/doctors/:id/position over HTTP with keep-alive, for a fleet of 100k doctors with positions (random doctor per
 * request), measured with autocannon:
 *   tot-uws     the engine's server on uWebSockets.js (api/server.ts) and its Router
 *   node-http   the same Router behind node:http (bench/lib/node-http-adapter.ts)
 * The servers run in a child process (bench/lib/http-servers.ts), the load generator in this one, so each has a core
 * of its own on a 2-core machine. Reports req/s and latency p50/p99 in ms (autocannon's figures).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Bench } from './lib/bench.ts';
import { doctorId } from './lib/city.ts';

const BENCH = 'http';
const CONNECTIONS = 50;
const SERVERS = fileURLToPath(new URL('./lib/http-servers.ts', import.meta.url));

interface Ports {
  uws: number;
  nodeHttp: number;
}

async function startServers(size: number): Promise<{ ports: Ports; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SERVERS, String(size)], {
    stdio: ['ignore', 'pipe', 'inherit'],
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

/** Paths each connection cycles through: prebuilt requests cost the load generator less than one built per request. */
const PATHS = 1_000;

async function load(port: number, size: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: seconds,
    // Doctors spread over the fleet (a golden-ratio walk), so no one record stays hot.
    requests: Array.from({ length: PATHS }, (_, i) => ({
      method: 'GET' as const,
      path: `/v1/doctors/${doctorId((i * 61_803) % size)}/position`,
    })),
  });
}

const bench: Bench = {
  description:
    'GET /v1/doctors/:id/position over HTTP: uWebSockets.js server vs node:http, same Router (100k)',
  async run({ reporter, sizes, seconds, verify }) {
    for (const size of sizes ?? [100_000]) {
      reporter.note(`-- ${size} doctors, ${CONNECTIONS} connections, ${seconds} s each`);
      const { ports, stop } = await startServers(size);
      try {
        if (verify) {
          const response = await fetch(`http://127.0.0.1:${ports.uws}/v1/doctors/${doctorId(0)}/position`);
          if (response.status !== 200) throw new Error(`position answered ${response.status}`);
        }
        for (const [subject, port] of [
          ['tot-uws', ports.uws],
          ['node-http', ports.nodeHttp],
        ] as const) {
          await load(port, size, 1); // warm-up: JIT and connections
          const result = await load(port, size, seconds);
          const failed = result.errors + result.non2xx + result.timeouts;
          if (failed > 0) reporter.note(`   ${subject}: ${failed} failed requests`);
          const params = { size, connections: CONNECTIONS };
          reporter.add(BENCH, subject, 'req_per_s', result.requests.average, 'req/s', params);
          reporter.add(BENCH, subject, 'p50_ms', result.latency.p50, 'ms', params);
          reporter.add(BENCH, subject, 'p99_ms', result.latency.p99, 'ms', params);
        }
      } finally {
        await stop();
      }
    }
  },
};

export default bench;
