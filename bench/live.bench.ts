/**
 * The dispatchers' live map, WebSocket /v1/live, under load: N dispatchers (1k and 10k real WebSockets) watch one
 * district while 50k fixes/s flow into the engine.
 *
 * Two processes, one core each (the machine has 2): the server — this file run as a script: an Engine over 100k
 * doctors uniform in the city box, the live hub and the uWebSockets.js server (api/server.ts), and a generator
 * applying 50k fixes/s to the engine (Engine.applyFix, 95 % of moves 5–30 m) — and the clients, in the runner's
 * process, on the `ws` package. The OS schedules them; nothing is pinned.
 *
 * Latency is fix-to-client: a fix's `speed` carries the time it was applied (ms mod 100 000, divided by 100), so a
 * client reads it from the frame and subtracts it from its own clock (same machine, same clock). Every delta carries
 * the latest fix of each doctor that moved, so this is the age of what the dispatcher sees. Every client checks that
 * `seq` grows by one per frame (a gap, an
 * error frame, a socket error or an unexpected close counts as an error) and counts messages and bytes. With many clients,
 * only 100 of them, spread evenly, parse frames and measure latency: a dispatcher's browser parses its own frames, and
 * one process parsing for 10 000 would measure its own backlog.
 *
 * Reported per (subscribers, tick): latency p50/p99/max (ms), messages/s and MB/s received by all clients, errors,
 * connections the server coalesced (over their buffer bound), the server's tick p50/p99 (ms) and frame size.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { AccessTokens } from '../api/auth/tokens.ts';
import { Registry } from 'prom-client';
import { LiveHub } from '../api/live/live-hub.ts';
import { LiveMetrics } from '../api/live/live-metrics.ts';
import { liveSocketRoute } from '../api/live/live-route.ts';
import { Router } from '../api/router.ts';
import { HttpServer } from '../api/server.ts';
import { Engine } from '../engine/engine.ts';
import { InProcessBus } from '../engine/in-process-bus.ts';
import { createLogger } from '../engine/logger.ts';
import { Metrics } from '../engine/metrics.ts';
import type { Bench } from './lib/bench.ts';
import { CITY_BOX, doctorId, syntheticCity } from './lib/city.ts';
import { seededRandom } from './lib/random.ts';
import { buildFleet } from './nearby.bench.ts';

const BENCH = 'live';
const DOCTORS = 100_000;
const FIXES_PER_SECOND = 50_000;
/** A district at zoom 15 on a 1280 × 800 window: ≈3.5 × 2.2 km, ≈600 doctors at this density. */
const BBOX: [number, number, number, number] = [37.59, 55.74, 37.645, 55.76];
const ZOOM = 15;
/** Clients that parse frames and measure latency, spread evenly over all of them. */
const LATENCY_CLIENTS = 100;
const CONNECT_BATCH = 100;
const SECRET = 'live-bench-secret-0123456789abcdefgh';
const SELF = fileURLToPath(import.meta.url);

/** What the server prints once listening. */
interface Ready {
  port: number;
  token: string;
  doctorsInView: number;
}

/** What the server prints when asked for its figures. */
interface ServerFigures {
  ticks: number;
  tickP50Ms: number;
  tickP99Ms: number;
  fixesPerSecond: number;
  coalesced: number;
  groups: number;
  subscribers: number;
}

/** The server process: engine, hub, uWS server and the fix generator. Commands on stdin: `reset`, `figures`. */
async function serve(tickMs: number): Promise<void> {
  const logger = createLogger('warn');
  const engine = new Engine({
    bus: new InProcessBus(),
    logger,
    metrics: new Metrics({ processMetrics: false }),
  });
  const city = syntheticCity(DOCTORS, 1);
  engine.fleet = buildFleet(city);
  const ids = Array.from({ length: DOCTORS }, (_, i) => doctorId(i));
  const tokens = new AccessTokens({ secret: SECRET, ttlSeconds: 3_600 });
  const metrics = new LiveMetrics(new Registry());
  const hub = new LiveHub({
    world: { fleet: () => engine.fleet, traffic: () => engine.traffic, now: Date.now },
    limits: { tickMs },
    metrics,
    logger,
  });
  const coalescedSoFar = async () => (await metrics.coalesced.get()).values[0]?.value ?? 0;
  let coalescedBefore = 0;
  const server = new HttpServer({
    host: '127.0.0.1',
    port: 0,
    router: new Router(),
    logger,
    sockets: [liveSocketRoute({ hub, tokens })],
  });
  const port = await server.listen();

  let tickTimes: number[] = [];
  setInterval(() => {
    const started = performance.now();
    hub.tick();
    tickTimes.push(performance.now() - started);
  }, tickMs);

  // Fixes at a steady rate, each doctor in turn (one every 2 s each), moving 5–30 m (5 %: 100–400 m).
  const random = seededRandom(7);
  const kmPerDegreeLng = 111.195 * Math.cos((55.72 * Math.PI) / 180);
  let next = 0;
  let applied = 0;
  let countedSince = performance.now();
  let countedFixes = 0;
  // Fixes start on `start`, once every client has subscribed: the figures are of the steady state, not of the ramp.
  let started = Number.NaN;
  setInterval(() => {
    if (Number.isNaN(started)) return;
    const due = Math.floor(((performance.now() - started) * FIXES_PER_SECOND) / 1_000) - applied;
    const now = Date.now();
    for (let i = 0; i < due; i++) {
      const d = next;
      next = (next + 1) % DOCTORS;
      const km = random() < 0.95 ? 0.005 + random() * 0.025 : 0.1 + random() * 0.3;
      const angle = random() * 2 * Math.PI;
      let lat = (city.lat[d] as number) + (km * Math.sin(angle)) / 111.195;
      let lng = (city.lng[d] as number) + (km * Math.cos(angle)) / kmPerDegreeLng;
      if (lat < CITY_BOX.minLat || lat > CITY_BOX.maxLat) lat = city.lat[d] as number;
      if (lng < CITY_BOX.minLng || lng > CITY_BOX.maxLng) lng = city.lng[d] as number;
      city.lat[d] = lat;
      city.lng[d] = lng;
      engine.applyFix({ doctorId: ids[d] as string, lat, lng, ts: now, speed: (now % 100_000) / 100 }, now);
    }
    applied += due;
    countedFixes += due;
  }, 5);

  const [west, south, east, north] = BBOX;
  const inView = engine.fleet.within({
    type: 'Polygon',
    coordinates: [
      [
        [west, south],
        [east, south],
        [east, north],
        [west, north],
        [west, south],
      ],
    ],
  }).length;
  const token = await tokens.sign({ userId: 'bench-dispatcher', role: 'dispatcher' });
  process.stdout.write(`${JSON.stringify({ port, token, doctorsInView: inView } satisfies Ready)}\n`);

  for await (const line of createInterface({ input: process.stdin })) {
    if (line === 'start') {
      started = performance.now();
      process.stdout.write('{}\n');
    } else if (line === 'reset') {
      coalescedBefore = await coalescedSoFar();
      tickTimes = [];
      countedSince = performance.now();
      countedFixes = 0;
      process.stdout.write('{}\n');
    } else if (line === 'figures') {
      const sorted = tickTimes.slice().sort((a, b) => a - b);
      const at = (q: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
      const stats = hub.stats();
      const figures: ServerFigures = {
        ticks: sorted.length,
        tickP50Ms: at(0.5),
        tickP99Ms: at(0.99),
        fixesPerSecond: (countedFixes * 1_000) / (performance.now() - countedSince),
        coalesced: (await coalescedSoFar()) - coalescedBefore,
        groups: stats.groups,
        subscribers: stats.subscribers,
      };
      process.stdout.write(`${JSON.stringify(figures)}\n`);
    }
  }
}

/** A running server process and a line-based conversation with it. */
async function startServer(tickMs: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, 'serve', String(tickMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const line = await lines.next();
    if (line.done) throw new Error('the live bench server exited');
    return JSON.parse(line.value) as unknown;
  };
  const ready = (await nextLine()) as Ready;
  const ask = async (command: 'start' | 'reset' | 'figures') => {
    child.stdin.write(`${command}\n`);
    return nextLine();
  };
  return {
    ready,
    ask,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Fix-to-client latencies in 1-ms buckets up to 100 s. */
class LatencyHistogram {
  private readonly buckets = new Float64Array(100_000);
  count = 0;
  max = 0;

  add(ms: number): void {
    const bucket = Math.min(this.buckets.length - 1, Math.max(0, Math.round(ms)));
    this.buckets[bucket] = (this.buckets[bucket] as number) + 1;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  quantile(q: number): number {
    const target = q * this.count;
    let seen = 0;
    for (let ms = 0; ms < this.buckets.length; ms++) {
      seen += this.buckets[ms] as number;
      if (seen >= target && seen > 0) return ms;
    }
    return Number.NaN;
  }
}

/** What all clients saw since the last reset. */
class ClientTotals {
  messages = 0;
  bytes = 0;
  errors = 0;
  snapshots = 0;
  latency = new LatencyHistogram();

  reset(): void {
    this.messages = 0;
    this.bytes = 0;
    this.errors = 0;
    this.latency = new LatencyHistogram();
  }
}

const SEQ = /"seq":(\d+)/;

/** Opens one dispatcher's socket, subscribes, and follows its frames. Resolves once the snapshot arrived. */
function openClient(url: string, totals: ClientTotals, measures: boolean): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    let lastSeq = -1;
    let subscribed = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', bbox: BBOX, zoom: ZOOM })));
    socket.on('message', (data: Buffer, isBinary) => {
      totals.messages++;
      totals.bytes += data.byteLength;
      const head = isBinary ? '' : data.toString('latin1', 0, Math.min(48, data.byteLength));
      const seq = Number(SEQ.exec(head)?.[1] ?? Number.NaN);
      if (Number.isNaN(seq) || (head.startsWith('{"type":"delta"') && seq !== lastSeq + 1)) totals.errors++;
      lastSeq = seq;
      if (!subscribed) {
        subscribed = true;
        totals.snapshots++;
        resolve(socket);
        return;
      }
      if (!measures) return;
      const receivedAt = Date.now();
      const frame = JSON.parse(data.toString('utf8')) as { doctors?: { speed?: number }[] };
      for (const doctor of frame.doctors ?? []) {
        if (doctor.speed === undefined) continue;
        const sentAt = Math.round(doctor.speed * 100);
        totals.latency.add((receivedAt - sentAt + 100_000) % 100_000);
      }
    });
    socket.on('error', (error) => {
      totals.errors++;
      if (!subscribed) reject(error);
    });
    socket.on('unexpected-response', (_, response) => {
      reject(new Error(`upgrade answered ${response.statusCode ?? 0}`));
      socket.terminate();
    });
    socket.on('close', () => {
      if (subscribed && !closing.has(socket)) totals.errors++;
    });
  });
}

/** Sockets the bench closes itself (not counted as errors). */
const closing = new WeakSet<WebSocket>();

async function measure(
  reporter: Parameters<Bench['run']>[0]['reporter'],
  subscribers: number,
  tickMs: number,
  seconds: number,
): Promise<void> {
  const server = await startServer(tickMs);
  const sockets: WebSocket[] = [];
  const totals = new ClientTotals();
  try {
    const { port, token, doctorsInView } = server.ready;
    const url = `ws://127.0.0.1:${port}/v1/live?access_token=${token}`;
    const connectStarted = performance.now();
    let refused = 0;
    for (let i = 0; i < subscribers; i += CONNECT_BATCH) {
      const batch = Math.min(CONNECT_BATCH, subscribers - i);
      const opened = await Promise.allSettled(
        Array.from({ length: batch }, (_, j) =>
          openClient(url, totals, (i + j) % Math.max(1, Math.floor(subscribers / LATENCY_CLIENTS)) === 0),
        ),
      );
      for (const outcome of opened) {
        if (outcome.status === 'fulfilled') sockets.push(outcome.value);
        else if (refused++ === 0) reporter.note(`   a connection failed: ${String(outcome.reason)}`);
      }
    }
    const connectSeconds = (performance.now() - connectStarted) / 1_000;
    reporter.note(
      `   ${sockets.length} of ${subscribers} subscribers (tick ${tickMs} ms) connected and subscribed in ${connectSeconds.toFixed(1)} s (${refused} failed); ${doctorsInView} doctors in view`,
    );
    await server.ask('start');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    totals.reset();
    await server.ask('reset');
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
    const elapsed = (performance.now() - started) / 1_000;
    const figures = (await server.ask('figures')) as ServerFigures;
    const params = { subscribers, tick_ms: tickMs, fixes_per_s: FIXES_PER_SECOND };
    reporter.add(BENCH, 'tot-live', 'p50_ms', totals.latency.quantile(0.5), 'ms', params);
    reporter.add(BENCH, 'tot-live', 'p99_ms', totals.latency.quantile(0.99), 'ms', params);
    reporter.add(BENCH, 'tot-live', 'max_ms', totals.latency.max, 'ms', params);
    reporter.add(BENCH, 'tot-live', 'msgs_per_s', totals.messages / elapsed, 'msg/s', params);
    reporter.add(BENCH, 'tot-live', 'mb_per_s', totals.bytes / elapsed / 1e6, 'MB/s', params);
    reporter.add(BENCH, 'tot-live', 'frame_bytes', totals.bytes / Math.max(1, totals.messages), 'B', params);
    reporter.add(BENCH, 'tot-live', 'errors', totals.errors + refused, '', params);
    reporter.add(BENCH, 'tot-live', 'connected', sockets.length, '', params);
    reporter.add(BENCH, 'tot-live', 'coalesced', figures.coalesced, '', params);
    reporter.add(BENCH, 'tot-live', 'server_tick_p50_ms', figures.tickP50Ms, 'ms', params);
    reporter.add(BENCH, 'tot-live', 'server_tick_p99_ms', figures.tickP99Ms, 'ms', params);
    reporter.add(BENCH, 'tot-live', 'server_fixes_per_s', figures.fixesPerSecond, 'fix/s', params);
    reporter.note(
      `   latency samples ${totals.latency.count}; server: ${figures.ticks} ticks, ${figures.groups} groups, ${figures.subscribers} subscribers`,
    );
  } finally {
    for (const socket of sockets) {
      closing.add(socket);
      socket.terminate();
    }
    await server.stop();
  }
}

const bench: Bench = {
  description: `WebSocket /v1/live: N dispatchers on one viewport while ${FIXES_PER_SECOND / 1_000}k fixes/s flow into the engine (1k, 10k)`,
  async run({ reporter, sizes, seconds }) {
    for (const subscribers of sizes ?? [1_000, 10_000]) {
      for (const tickMs of [100, 50]) await measure(reporter, subscribers, tickMs, seconds);
    }
  },
};

export default bench;

if (
  process.argv[1] &&
  import.meta.url === pathToFileURL(process.argv[1]).href &&
  process.argv[2] === 'serve'
) {
  await serve(Number(process.argv[3] ?? 100));
}
