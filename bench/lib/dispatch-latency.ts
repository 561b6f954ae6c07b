/**
 * Section "latency" of `npm run bench -- dispatch`: how long from a patient's POST /v1/bookings to the offer arriving
 * on the chosen doctor's phone socket, through the real application — HTTP server, authentication, validation, the
 * dispatcher with its store writes, the offer channel, the WebSocket — with 100k doctors in the fleet and bookings
 * arriving at a steady rate (100, 200 and 1 000 a second), on PostgreSQL and on PGlite.
 *
 * The application runs in a child process (bench/lib/dispatch-latency-server.ts, startApplication of engine/main.ts);
 * this process is the load generator and the phones, so that sending and receiving are timed on one clock. Every
 * booking is sent open-loop at its scheduled time (a slow answer does not slow the offered load). Most bookings fall
 * uniformly over the city (10 % emergencies) and are offered to doctors without a socket — they load the dispatcher
 * as any booking does; a sample of them (half the rate, at most 100 a second; half emergencies of category 1, half
 * routine of category 4) is placed exactly where a doctor with an open phone socket stands, so that this doctor is the
 * best candidate and the offer is observed on their socket. Latency = offer frame received − request sent. A sample
 * whose offer went to another doctor (a background booking took the doctor first; for an emergency, the POST's answer
 * names the doctor) is counted as missed, not timed.
 * After the load stops the bench waits 5 s; what is still unanswered then is abandoned and its latency counted as its
 * age at that moment (a lower bound, reported as `censored`), and the higher rates are skipped: past saturation the
 * figures would only measure the queue.
 *
 * Offers do not lapse during a run (the offer timeouts are set to 10 min): the background doctors have no phone, so every
 * offer to one would lapse and be made again, and the load would grow past the rate as the run goes on.
 *
 * Routine bookings are matched in batch windows (DISPATCH_BATCH_WINDOW_MS, 1 s by default), so their latency includes
 * the wait for the window by design; the 10 ms target is for emergencies, which are matched before the POST returns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
/**
 * Booking rates measured, per second, in this order on one server; DISPATCH_LATENCY_RATES (comma-separated) measures
 * others, e.g. only 1000 while profiling.
 */
const RATES = listFromEnvironment('DISPATCH_LATENCY_RATES', ['100', '200', '1000']).map((rate) => {
  const value = Number(rate);
  if (!Number.isInteger(value) || value < 1) throw new Error(`DISPATCH_LATENCY_RATES: ${rate} is not a rate`);
  return value;
});
/** Stores measured: postgres and pglite, or those DISPATCH_LATENCY_STORES names. */
const STORES = listFromEnvironment('DISPATCH_LATENCY_STORES', ['postgres', 'pglite']);

function listFromEnvironment(name: string, fallback: string[]): string[] {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? fallback : value.split(',').map((item) => item.trim());
}
/** Timed bookings per second at most (the rest of the rate is background load). */
const MAX_SAMPLES_PER_SECOND = 100;
/**
 * Seconds of load before the timed part (JIT, connection pools, caches). With 2 s the first tenth of a second of every
 * run had emergencies at 17–36 ms while code was still being optimized. The warm-up sends its share of sample-like
 * bookings too (untimed), so that every path a sample takes is warm.
 */
const WARM_UP_SECONDS = 5;
/** Shortest timed part, s: with 50–100 samples a second, 10 s give 250–500 of each kind for the p99. */
const MIN_SECONDS = 10;
/** How long to wait for the last offers after the load stops, ms. */
const DRAIN_MS = 5_000;
/** Test values only. */
const JWT_SECRET = 'dispatch-latency-bench-secret-0123456789';
const PASSWORD = 'a bench password 123';

/** Id of the i-th doctor with a phone socket; the server registers the first `phones` doctors under these ids. */
export function phoneDoctorId(i: number): string {
  return `pd-${i}`;
}

/** Seed of the bench city, shared with the server (the sample bookings go where the phone doctors stand). */
export const LATENCY_CITY_SEED = 7;

/** Device tokens are short because DEVICE_TOKENS of a few thousand phones must fit one environment variable. */
function phoneToken(i: number): string {
  return `bench-phone-${String(i).padStart(8, '0')}`;
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
  // DISPATCH_LATENCY_PROFILE_DIR: the server writes a CPU profile there when it stops (open it in Chrome DevTools).
  const profileDir = process.env['DISPATCH_LATENCY_PROFILE_DIR'];
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child: ChildProcess = spawn(
    process.execPath,
    [...profile, ...engineNodeFlags(), '--import', 'tsx', SERVER],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
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

/**
 * The Node flags the engine runs with in service (package.json's "start": the garbage collector's sizes, see
 * docs/ARCHITECTURE.md "Boot and shutdown"), for the bench's server to run as the engine does.
 */
export function engineNodeFlags(): string[] {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    scripts: { start: string };
  };
  return manifest.scripts.start.split(/\s+/).filter((word) => /^--(?!import)/.test(word));
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
  /** Booking → offer per kind, ms; a sample still unanswered when the bench stopped waiting counts with its age then. */
  latencies: Record<Kind, number[]>;
  /** Samples whose offer went to another doctor (their POST was answered, no offer reached their phone). */
  missed: Record<Kind, number>;
  /** Samples still waiting for their answer or offer when the bench stopped waiting (their latency is a lower bound). */
  censored: Record<Kind, number>;
  /** POST response times of the timed part, ms; unanswered ones with their age when the bench stopped waiting. */
  postLatencies: number[];
  sent: number;
  answered: number;
  failed: number;
  /** Answers received during the timed part, per second: what the application sustained. */
  answeredPerSecond: number;
  seconds: number;
}

interface Sample {
  kind: Kind;
  sentAt: number;
  answered: boolean;
  /** The phone doctor standing at the booking. */
  doctorId: string;
  /**
   * The POST's answer named another doctor (an emergency is offered before the answer): the first offer went
   * elsewhere, and an offer reaching the phone later (after that one lapsed) would time the lapse, not the dispatch.
   */
  offeredElsewhere: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends bookings at `rate` per second for `seconds` (after a warm-up), the samples at the phone doctors from
 * `firstPhone` on; then waits up to {@link DRAIN_MS} for the last answers and offers. Requests still unanswered then
 * are abandoned: waiting for a backlog would only measure the queue.
 */
async function runRate(
  port: number,
  token: string,
  rate: number,
  seconds: number,
  phones: { lat: Float64Array; lng: Float64Array; firstPhone: number },
  offers: Map<string, number>,
): Promise<RateResult & { phonesUsed: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const random = seededRandom(rate);
  const sampleEvery = Math.max(1, Math.round(rate / samplesPerSecondAt(rate)));
  const result: RateResult = {
    latencies: { emergency: [], routine: [] },
    missed: { emergency: 0, routine: 0 },
    censored: { emergency: 0, routine: 0 },
    postLatencies: [],
    sent: 0,
    answered: 0,
    failed: 0,
    answeredPerSecond: 0,
    seconds,
  };
  const samples = new Map<string, Sample>();
  let sampledSoFar = 0;
  const unanswered = new Set<number>();
  const sentAt: number[] = [];
  const warmUpEnd = WARM_UP_SECONDS * rate;
  const total = warmUpEnd + seconds * rate;
  let phone = phones.firstPhone;
  const start = performance.now();
  const timedStart = start + WARM_UP_SECONDS * 1000;
  const timedEnd = timedStart + seconds * 1000;
  let answeredInWindow = 0;
  for (let n = 0; n < total;) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
    for (; n < due; n++) {
      const sampled = n % sampleEvery === 0;
      let body: Record<string, unknown>;
      let sample: Sample | undefined;
      if (sampled) {
        const kind: Kind = sampledSoFar++ % 2 === 0 ? 'emergency' : 'routine';
        const address = `bench sample ${rate}/${n}`;
        body = {
          callType: kind === 'emergency' ? 'emergency' : 'home_visit',
          symptoms: kind === 'emergency' ? 'chest pain' : 'routine check-up',
          address,
          lat: phones.lat[phone] as number,
          lng: phones.lng[phone] as number,
          priority: kind === 'emergency' ? 1 : 4,
        };
        if (n >= warmUpEnd) {
          sample = {
            kind,
            sentAt: performance.now(),
            answered: false,
            doctorId: phoneDoctorId(phone),
            offeredElsewhere: false,
          };
          samples.set(address, sample);
        }
        phone++;
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
      const index = n;
      sentAt[index] = performance.now();
      unanswered.add(index);
      result.sent++;
      send(agent, port, 'POST', '/v1/bookings', body, token).then(
        (reply) => {
          const at = performance.now();
          unanswered.delete(index);
          result.answered++;
          if (at >= timedStart && at < timedEnd) answeredInWindow++;
          if (reply.status !== 201) result.failed++;
          else if (index >= warmUpEnd) result.postLatencies.push(at - (sentAt[index] as number));
          if (sample) {
            sample.answered = true;
            const doctorId = reply.body['doctorId'];
            if (typeof doctorId === 'string' && doctorId !== sample.doctorId) sample.offeredElsewhere = true;
          }
        },
        () => {
          unanswered.delete(index);
          result.failed++;
        },
      );
    }
    await sleep(1);
  }
  const deadline = performance.now() + DRAIN_MS;
  const waiting = () => unanswered.size > 0 || [...samples.keys()].some((address) => !offers.has(address));
  while (waiting() && performance.now() < deadline) await sleep(20);
  const stoppedAt = performance.now();
  for (const index of unanswered) {
    if (index >= warmUpEnd) result.postLatencies.push(stoppedAt - (sentAt[index] as number));
  }
  for (const [address, sample] of samples) {
    const at = sample.offeredElsewhere ? undefined : offers.get(address);
    if (at !== undefined) result.latencies[sample.kind].push(at - sample.sentAt);
    else if (sample.answered) result.missed[sample.kind]++;
    else {
      result.censored[sample.kind]++;
      result.latencies[sample.kind].push(stoppedAt - sample.sentAt);
    }
  }
  result.answeredPerSecond = answeredInWindow / seconds;
  agent.destroy();
  return { ...result, phonesUsed: phone - phones.firstPhone };
}

function samplesPerSecondAt(rate: number): number {
  return Math.min(MAX_SAMPLES_PER_SECOND, rate / 2);
}

function report(reporter: Reporter, store: string, rate: number, result: RateResult): void {
  const parameters = { store, doctors: DOCTORS, rate };
  reporter.add(BENCH, 'bookings', 'answered_per_s', result.answeredPerSecond, '/s', {
    ...parameters,
    sent: result.sent,
    failed: result.failed,
    unanswered: result.sent - result.answered - result.failed,
  });
  const post = [...result.postLatencies].sort((a, b) => a - b);
  reporter.add(BENCH, 'post-response', 'p50_ms', percentile(post, 0.5), 'ms', parameters);
  reporter.add(BENCH, 'post-response', 'p99_ms', percentile(post, 0.99), 'ms', parameters);
  for (const kind of ['emergency', 'routine'] as const) {
    const sorted = [...result.latencies[kind]].sort((a, b) => a - b);
    const subject = `booking-to-offer-${kind}`;
    const withCounts = {
      ...parameters,
      samples: sorted.length,
      missed: result.missed[kind],
      censored: result.censored[kind],
    };
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
    (sum, rate) => sum + Math.ceil(samplesPerSecondAt(rate) * (WARM_UP_SECONDS + seconds)) + 1,
    0,
  );
  const deviceTokens = Array.from(
    { length: phones },
    (_, i) => `p${i}:${phoneDoctorId(i)}:${phoneToken(i)}`,
  ).join(',');
  const dataDir = mkdtempSync(join(tmpdir(), 'tot-dispatch-latency-'));
  reporter.note(
    `dispatch latency: starting the application on ${store} with ${DOCTORS} doctors, ${phones} phones` +
      ` (node ${engineNodeFlags().join(' ')})`,
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
    // The background doctors have no phone: their offers would lapse and be made again, on top of the rate.
    DISPATCH_OFFER_TIMEOUT_MS: '600000',
    DISPATCH_EMERGENCY_OFFER_TIMEOUT_MS: '600000',
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
        offers,
      );
      firstPhone += result.phonesUsed;
      report(reporter, store, rate, result);
      if (result.sent > result.answered + result.failed) {
        reporter.note(
          `dispatch latency: ${store} did not keep up with ${rate} bookings/s; higher rates skipped`,
        );
        break;
      }
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
    const { databaseUrl } = STORES.includes('postgres')
      ? serviceUrls(context.reporter)
      : { databaseUrl: undefined };
    if (databaseUrl) {
      await measureStore(context, 'postgres', { DATABASE_URL: databaseUrl }, async (patientId) => {
        // The bench's bookings would otherwise stay in the shared database; their history and notifications cascade.
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        try {
          await client.query('DELETE FROM booking.bookings WHERE patient_id = $1', [patientId]);
          // Vacuumed now rather than by autovacuum in the middle of the next bench run.
          await client.query(
            'VACUUM (ANALYZE) booking.bookings, booking.status_updates, notification.notifications',
          );
        } finally {
          await client.end();
        }
      });
    } else if (STORES.includes('postgres')) {
      context.reporter.note('dispatch latency: no DATABASE_URL, PostgreSQL skipped');
    }
    if (STORES.includes('pglite'))
      await measureStore(context, 'pglite', { PGLITE_IN_MEMORY: 'true' }, async () => {});
  },
};
