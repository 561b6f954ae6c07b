/**
 * Section "latency" of `npm run bench -- dispatch`: how long from a patient's POST /v1/bookings to the offer arriving
 * on the chosen doctor's phone socket, through the real application — HTTP server, authentication, validation, the
 * dispatcher with its store writes, the offer channel, the WebSocket — with 100k doctors in the fleet and bookings
 * arriving at a steady rate (1k/s, and a lighter rate for comparison), on PostgreSQL and on PGlite.
 *
 * The application runs in a child process (bench/lib/dispatch-latency-server.ts, startApplication of engine/main.ts);
 * this process is the load generator and the phones, so that sending and receiving are timed on one clock. Every
 * booking is sent open-loop at its scheduled time (a slow answer does not slow the offered load). Most bookings fall
 * uniformly over the city (10 % emergencies) and are offered to doctors without a socket — they load the dispatcher
 * as any booking does; a sample of them (up to 100 a second, half emergencies of category 1, half routine of category
 * 4) is placed exactly where a doctor with an open phone socket stands, so that this doctor is the best candidate and
 * the offer is observed on their socket. Latency = offer frame received − request sent. A sample whose offer went to
 * another doctor (a background booking took the doctor first) is counted as missed, not timed.
 *
 * Routine bookings are matched in batch windows (DISPATCH_BATCH_WINDOW_MS, 1 s by default), so their latency includes
 * the wait for the window by design; the 10 ms target is for emergencies, which are matched before the POST returns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import type { DispatchBenchSection } from '../dispatch.bench.ts';
import type { BenchContext } from './bench.ts';
import { CITY_BOX, syntheticCity } from './city.ts';
import type { Reporter } from './harness.ts';
import { seededRandom } from './random.ts';
import { serviceUrls } from './services.ts';

const BENCH = 'dispatch';
const SERVER = fileURLToPath(new URL('./dispatch-latency-server.ts', import.meta.url));
/** Doctors in the fleet. */
const DOCTORS = 100_000;
/** Booking rates measured, per second, in this order on one server. */
const RATES = [200, 1_000];
/** Timed bookings per second at most (the rest of the rate is background load). */
const MAX_SAMPLES_PER_SECOND = 100;
/** Seconds of load before the timed part (JIT, connection pools, caches). */
const WARM_UP_SECONDS = 2;
/** Shortest timed part, s: with 100 samples a second, 10 s give 500 of each kind for the p99. */
const MIN_SECONDS = 10;
/** How long to wait for the last offers after the load stops, ms. */
const DRAIN_MS = 5_000;
/** Test values only. */
const JWT_SECRET = 'dispatch-latency-bench-secret-0123456789';
const PASSWORD = 'a bench password 123';

/** Id of the i-th doctor with a phone socket; the server registers the first `phones` doctors under these ids. */
export function phoneDoctorId(i: number): string {
  return `phone-doctor-${i}`;
}

/** Seed of the bench city, shared with the server (the sample bookings go where the phone doctors stand). */
export const LATENCY_CITY_SEED = 7;

function phoneToken(i: number): string {
  return `bench-phone-token-${String(i).padStart(8, '0')}`;
}

type Kind = 'emergency' | 'routine';

interface Server {
  port: number;
  stop(): Promise<void>;
}

async function startServer(environment: Record<string, string>): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL']) delete env[name];
  Object.assign(env, environment);
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`latency bench server exited with code ${code}`)));
  });
  return {
    port,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Sends a JSON request; resolves with the status and the parsed body. */
function send(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens the phone sockets, 50 at a time; `onOffer` hears every offer frame with its arrival time. */
async function openPhones(
  port: number,
  count: number,
  onOffer: (address: string, at: number) => void,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  for (let start = 0; start < count; start += 50) {
    const batch = Array.from({ length: Math.min(50, count - start) }, (_, j) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/doctor?token=${phoneToken(start + j)}`);
      socket.on('message', (data, isBinary) => {
        const at = performance.now();
        if (isBinary) return;
        const frame = JSON.parse(data.toString()) as { type?: string; address?: string };
        if (frame.type === 'offer' && typeof frame.address === 'string') onOffer(frame.address, at);
      });
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
    });
    await Promise.all(batch);
  }
  return sockets;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

interface RateResult {
  latencies: Record<Kind, number[]>;
  missed: Record<Kind, number>;
  postLatencies: number[];
  sent: number;
  failed: number;
  seconds: number;
}

/**
 * Sends bookings at `rate` per second for `seconds` (after a warm-up), the samples at the phone doctors from
 * `firstPhone` on; resolves when every sample's offer arrived or the drain time passed.
 */
async function runRate(
  port: number,
  token: string,
  rate: number,
  seconds: number,
  phones: { lat: Float64Array; lng: Float64Array; firstPhone: number },
  pending: Map<string, { kind: Kind; sentAt: number }>,
  offers: Map<string, number>,
): Promise<RateResult & { phonesUsed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const random = seededRandom(rate);
  const samplesPerSecond = Math.min(MAX_SAMPLES_PER_SECOND, rate / 4);
  const sampleEvery = Math.max(1, Math.round(rate / samplesPerSecond));
  const result: RateResult = {
    latencies: { emergency: [], routine: [] },
    missed: { emergency: 0, routine: 0 },
    postLatencies: [],
    sent: 0,
    failed: 0,
    seconds,
  };
  const inFlight = new Set<Promise<void>>();
  const warmUpEnd = WARM_UP_SECONDS * rate;
  const total = warmUpEnd + seconds * rate;
  let phone = phones.firstPhone;
  let samples = 0;
  const samplesSent: string[] = [];
  const start = performance.now();
  for (let n = 0; n < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; n < due; n++) {
      const timed = n >= warmUpEnd && n % sampleEvery === 0;
      let body: Record<string, unknown>;
      if (timed) {
        const kind: Kind = samples++ % 2 === 0 ? 'emergency' : 'routine';
        const address = `bench sample ${rate}/${n}`;
        body = {
          callType: kind === 'emergency' ? 'emergency' : 'home_visit',
          symptoms: kind === 'emergency' ? 'chest pain' : 'routine check-up',
          address,
          lat: phones.lat[phone] as number,
          lng: phones.lng[phone] as number,
          priority: kind === 'emergency' ? 1 : 4,
        };
        phone++;
        pending.set(address, { kind, sentAt: performance.now() });
        samplesSent.push(address);
      } else {
        const emergency = random() < 0.1;
        body = {
          callType: emergency ? 'urgent_visit' : 'home_visit',
          symptoms: 'fever',
          address: `bench background ${rate}/${n}`,
          lat: CITY_BOX.minLat + random() * (CITY_BOX.maxLat - CITY_BOX.minLat),
          lng: CITY_BOX.minLng + random() * (CITY_BOX.maxLng - CITY_BOX.minLng),
          priority: emergency ? (random() < 0.33 ? 1 : 2) : random() < 0.4 ? 3 : 4,
        };
      }
      const sentAt = performance.now();
      const measured = n >= warmUpEnd;
      result.sent++;
      const call = send(agent, port, 'POST', '/v1/bookings', body, token).then(
        (reply) => {
          if (reply.status !== 201) result.failed++;
          else if (measured) result.postLatencies.push(performance.now() - sentAt);
        },
        () => {
          result.failed++;
        },
      );
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  const deadline = performance.now() + DRAIN_MS;
  while (samplesSent.some((address) => !offers.has(address)) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const address of samplesSent) {
    const sample = pending.get(address)!;
    const at = offers.get(address);
    if (at === undefined) result.missed[sample.kind]++;
    else result.latencies[sample.kind].push(at - sample.sentAt);
  }
  agent.destroy();
  return { ...result, phonesUsed: phone - phones.firstPhone };
}

function report(reporter: Reporter, store: string, rate: number, result: RateResult): void {
  const parameters = { store, doctors: DOCTORS, rate };
  reporter.add(
    BENCH,
    'bookings-sent',
    'bookings_per_s',
    result.sent / (result.seconds + WARM_UP_SECONDS),
    '/s',
    {
      ...parameters,
      failed: result.failed,
    },
  );
  const post = [...result.postLatencies].sort((a, b) => a - b);
  reporter.add(BENCH, 'post-response', 'p50_ms', percentile(post, 0.5), 'ms', parameters);
  reporter.add(BENCH, 'post-response', 'p99_ms', percentile(post, 0.99), 'ms', parameters);
  for (const kind of ['emergency', 'routine'] as const) {
    const sorted = [...result.latencies[kind]].sort((a, b) => a - b);
    const subject = `booking-to-offer-${kind}`;
    const withCounts = { ...parameters, samples: sorted.length, missed: result.missed[kind] };
    reporter.add(BENCH, subject, 'p50_ms', percentile(sorted, 0.5), 'ms', withCounts);
    reporter.add(BENCH, subject, 'p99_ms', percentile(sorted, 0.99), 'ms', withCounts);
    reporter.add(BENCH, subject, 'max_ms', sorted.at(-1) ?? Number.NaN, 'ms', withCounts);
  }
}

/** Runs every rate against one server configured by `environment`; `cleanUp` receives the patient's id. */
async function measureStore(
  context: BenchContext,
  store: string,
  environment: Record<string, string>,
  cleanUp: (patientId: string) => Promise<void>,
): Promise<void> {
  const { reporter } = context;
  const seconds = Math.max(MIN_SECONDS, context.seconds);
  const phones = RATES.reduce(
    (sum, rate) => sum + Math.ceil(Math.min(MAX_SAMPLES_PER_SECOND, rate / 4) * seconds * 1.05) + 1,
    0,
  );
  const deviceTokens = Array.from(
    { length: phones },
    (_, i) => `phone-${i}:${phoneDoctorId(i)}:${phoneToken(i)}`,
  ).join(',');
  const dataDir = mkdtempSync(join(tmpdir(), 'tot-dispatch-latency-'));
  reporter.note(
    `dispatch latency: starting the application on ${store} with ${DOCTORS} doctors, ${phones} phones`,
  );
  const server = await startServer({
    ...environment,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    SIMULATOR: 'false',
    JWT_SECRET,
    DEVICE_TOKENS: deviceTokens,
    OFFLINE_AFTER_MS: '86400000',
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_AUTH_PER_MINUTE: '10000',
    BENCH_DOCTORS: String(DOCTORS),
    BENCH_PHONES: String(phones),
  });
  const agent = new Agent({ keepAlive: true });
  let sockets: WebSocket[] = [];
  let patientId: string | undefined;
  try {
    const email = `latency-bench-${process.pid}-${Date.now()}@example.test`;
    const registered = await send(agent, server.port, 'POST', '/v1/auth/register', {
      email,
      password: PASSWORD,
      displayName: 'latency bench patient',
    });
    if (registered.status !== 201)
      throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
    patientId = registered.body['id'] as string;
    const login = await send(agent, server.port, 'POST', '/v1/auth/login', { email, password: PASSWORD });
    if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
    const token = login.body['accessToken'] as string;
    const probe = await send(
      agent,
      server.port,
      'POST',
      '/v1/bookings',
      {
        callType: 'home_visit',
        symptoms: 'probe',
        address: 'bench probe',
        lat: 55.75,
        lng: 37.6,
        priority: 4,
      },
      token,
    );
    if (probe.status !== 201) {
      reporter.note(
        `dispatch latency: POST /v1/bookings answers ${probe.status} ${JSON.stringify(probe.body)}; skipped`,
      );
      return;
    }
    const offers = new Map<string, number>();
    const pending = new Map<string, { kind: Kind; sentAt: number }>();
    sockets = await openPhones(server.port, phones, (address, at) => {
      if (!offers.has(address)) offers.set(address, at);
    });
    const city = syntheticCity(DOCTORS, LATENCY_CITY_SEED);
    let firstPhone = 0;
    for (const rate of RATES) {
      reporter.note(
        `dispatch latency: ${store}, ${rate} bookings/s for ${seconds} s after ${WARM_UP_SECONDS} s warm-up`,
      );
      const result = await runRate(
        server.port,
        token,
        rate,
        seconds,
        { lat: city.lat, lng: city.lng, firstPhone },
        pending,
        offers,
      );
      firstPhone += result.phonesUsed;
      report(reporter, store, rate, result);
    }
  } finally {
    for (const socket of sockets) socket.terminate();
    agent.destroy();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (patientId !== undefined) await cleanUp(patientId);
  }
}

/** The latency section: PostgreSQL (the real service), then PGlite in memory. */
export const latencySection: DispatchBenchSection = {
  name: 'latency',
  async run(context: BenchContext): Promise<void> {
    const { databaseUrl } = serviceUrls(context.reporter);
    if (databaseUrl) {
      await measureStore(context, 'postgres', { DATABASE_URL: databaseUrl }, async (patientId) => {
        // The bench's bookings would otherwise stay in the shared database; their history and notifications cascade.
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        try {
          await client.query('DELETE FROM booking.bookings WHERE patient_id = $1', [patientId]);
        } finally {
          await client.end();
        }
      });
    } else {
      context.reporter.note('dispatch latency: no DATABASE_URL, PostgreSQL skipped');
    }
    await measureStore(context, 'pglite', { PGLITE_IN_MEMORY: 'true' }, async () => {});
  },
};
