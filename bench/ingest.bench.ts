/**
 * The stream path: GPS fixes applied to the fleet's index per second, and fix-to-index latency at a fixed offered
 * load, for:
 *   tot-bus        publish on the in-process bus → StreamConsumer (msgpack decode, validate, apply) → Engine.applyFix
 *                  (apply=fleet); apply=count-only is the same with a sink that only counts (the cost without the fleet)
 *   tot-kafka      KafkaBus publish (a producer process, as the phone gateway is) → broker → KafkaBus subscribe →
 *                  StreamConsumer → Engine.applyFix; one fix per message (as the simulator and phones send them),
 *                  and 16 fixes per message (a producer that batches per partition); producer=backlog: the fixes are in
 *                  the topic before the consumer starts (a takeover's replay), the consumer alone is timed
 *   redis-geoadd   GEOADD key lng lat member per fix on the same fixes, pipelined (1 000 commands a pipeline, 4
 *                  pipelines in flight)
 * fixes_per_s: a burst of pre-encoded fixes as fast as it goes (from the first publish to the last fix applied).
 * p50_ms / p99_ms: fixes offered at a steady OFFERED_PER_S for --seconds; latency = time applied (Redis: reply) − time
 * sent, per fix. Doctors move by ~16 m per fix, as phones do, so most fixes stay in their H3 cell.
 * Kafka is the project's native broker (KAFKA_BROKERS, else `scripts/services.sh up kafka`); topics are created
 * under a prefix of their own and deleted afterwards.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import { Redis } from 'ioredis';
import { topicNames, type Bus, type OutgoingMessage, type TopicNames } from '../engine/bus.ts';
import { Engine } from '../engine/engine.ts';
import type { Fix } from '../engine/fleet.ts';
import { InProcessBus } from '../engine/in-process-bus.ts';
import { createLogger } from '../engine/logger.ts';
import { Metrics } from '../engine/metrics.ts';
import { encodeRecords } from '../ingest/codec.ts';
import { KafkaBus } from '../ingest/kafka-bus.ts';
import { StreamConsumer, type StreamSink } from '../ingest/stream-consumer.ts';
import type { Bench } from './lib/bench.ts';
import { doctorId, syntheticCity, type SyntheticCity } from './lib/city.ts';
import type { Reporter } from './lib/harness.ts';
import { seededRandom } from './lib/random.ts';
import { serviceUrls } from './lib/services.ts';

const BENCH = 'ingest';
const OFFERED_PER_S = 50_000;
const BUS_BURST = 400_000;
const KAFKA_BURST = 400_000;
const REDIS_BURST = 400_000;
const BATCHED = 16;
const PRODUCER_ROLE = 'tot-bench-ingest-producer';
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The fixes of a run, a pure function of the fix number `i` so that the producer process makes the same ones: doctor
 * `i mod doctors`, at its `⌊i / doctors⌋`-th step of ~16 m along its own heading.
 */
class FixStream {
  private readonly city: SyntheticCity;
  private readonly stepLat: Float64Array;
  private readonly stepLng: Float64Array;

  constructor(readonly doctors: number) {
    this.city = syntheticCity(doctors, 1);
    const random = seededRandom(7);
    this.stepLat = new Float64Array(doctors);
    this.stepLng = new Float64Array(doctors);
    for (let d = 0; d < doctors; d++) {
      const heading = random() * 2 * Math.PI;
      this.stepLat[d] = (16 * Math.cos(heading)) / 111_320;
      this.stepLng[d] =
        (16 * Math.sin(heading)) / (111_320 * Math.cos(((this.city.lat[d] as number) * Math.PI) / 180));
    }
  }

  fix(i: number, ts: number): Fix {
    const d = i % this.doctors;
    const step = Math.floor(i / this.doctors);
    return {
      doctorId: doctorId(d),
      lat: (this.city.lat[d] as number) + step * (this.stepLat[d] as number),
      lng: (this.city.lng[d] as number) + step * (this.stepLng[d] as number),
      ts,
      accuracy: 6,
      speed: 8,
      heading: 90,
      battery: 80,
      seq: i,
    };
  }

  /**
   * Messages of fixes [from, from + count), `perMessage` fixes each, keyed by the first fix's doctor. With
   * doctors a multiple of `perMessage`, a doctor is always in the message of the same key, so its fixes keep their
   * order. `ts(i)` stamps each fix.
   */
  messages(from: number, count: number, perMessage: number, ts: (i: number) => number): OutgoingMessage[] {
    const messages: OutgoingMessage[] = [];
    for (let i = from; i < from + count; i += perMessage) {
      const key = doctorId(i % this.doctors);
      if (perMessage === 1) messages.push({ key, value: encodeRecords(this.fix(i, ts(i))) });
      else {
        const group: Fix[] = [];
        for (let j = i; j < Math.min(i + perMessage, from + count); j++) group.push(this.fix(j, ts(j)));
        messages.push({ key, value: encodeRecords(group) });
      }
    }
    return messages;
  }
}

/** Time on a clock every process of the run shares: ms since the epoch, µs resolution. */
function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Burst timestamps: increasing per doctor, well inside the consumer's 24 h window. */
function burstTs(base: number): (i: number) => number {
  return (i) => base + i;
}

/** Sorted-sample percentile. */
function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);
}

/** Latencies of fixes [from, from + count): `done[i] - sent[i]`, sorted; throws if a fix never arrived. */
function latencies(sent: Float64Array, done: Float64Array, from: number, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const i = from + k;
    if (!(done[i]! > 0)) throw new Error(`fix ${i} was never applied`);
    out[k] = done[i]! - sent[i]!;
  }
  return out.sort();
}

function addLatency(
  reporter: Reporter,
  subject: string,
  sorted: Float64Array,
  parameters: Record<string, number | string>,
) {
  reporter.add(BENCH, subject, 'p50_ms', percentile(sorted, 0.5), 'ms', parameters);
  reporter.add(BENCH, subject, 'p99_ms', percentile(sorted, 0.99), 'ms', parameters);
}

/** Waits (yielding to the event loop) until `done()`; throws after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * Calls `send(from, count)` so that `rate` fixes a second go out for `seconds`, in slices every few ms (a late
 * timer is caught up at the next slice, so the average rate holds). Returns the number sent.
 */
async function paced(
  rate: number,
  seconds: number,
  send: (from: number, count: number) => void,
  quantum = 1,
): Promise<number> {
  const total = Math.round((rate * seconds) / quantum) * quantum;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    // Whole quanta only, so that batched messages always group the same doctors (see FixStream.messages).
    const elapsed = (performance.now() - start) / 1000;
    const due = Math.min(total, Math.floor((elapsed * rate) / quantum) * quantum);
    if (due > sent) {
      send(sent, due - sent);
      sent = due;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return sent;
}

/** The engine behind a StreamConsumer, stamping the time each fix (by its seq) was applied when `applied` is set. */
class TimedSink implements StreamSink {
  applied: Float64Array | undefined;
  constructor(readonly engine: Engine) {}
  applyFix(fix: Fix, now: number): string {
    const outcome = this.engine.applyFix(fix, now);
    if (this.applied && fix.seq !== undefined) this.applied[fix.seq] = clockMs();
    return outcome;
  }
  applyReading(): string {
    throw new Error('no readings in this benchmark');
  }
  markApplied(topic: string, partition: number, nextOffset: number): void {
    this.engine.markApplied(topic, partition, nextOffset);
  }
}

interface Pipeline {
  bus: Bus;
  engine: Engine;
  sink: TimedSink;
  consumer: StreamConsumer;
  metrics: Metrics;
  /** Fixes the fleet has applied (or found stale) so far. */
  seen(): number;
}

async function startPipeline(bus: Bus, topics: TopicNames, group: string): Promise<Pipeline> {
  const logger = createLogger('warn');
  const metrics = new Metrics({ processMetrics: false });
  const engine = new Engine({ bus, logger, metrics, topics });
  const sink = new TimedSink(engine);
  const consumer = new StreamConsumer({ bus, sink, logger, metrics, group, topics });
  await consumer.start();
  const seen = () => {
    const stats = engine.fleet.stats();
    return stats.fixesApplied + stats.fixesStale;
  };
  return { bus, engine, sink, consumer, metrics, seen };
}

/** Every fix applied, none stale or dead-lettered, and the last doctor at its last fix. */
async function check(
  pipeline: Pipeline,
  stream: FixStream,
  expected: number,
  lastFix: number,
): Promise<void> {
  const stats = pipeline.engine.fleet.stats();
  const dead = (await pipeline.metrics.deadLetters.get()).values.reduce((sum, value) => sum + value.value, 0);
  if (stats.fixesApplied !== expected || stats.fixesStale !== 0 || dead !== 0) {
    throw new Error(
      `expected ${expected} fixes applied, got ${stats.fixesApplied} (stale ${stats.fixesStale}, dead letters ${dead})`,
    );
  }
  const fix = stream.fix(lastFix, 0);
  const doctor = pipeline.engine.fleet.get(fix.doctorId);
  if (doctor?.lat !== fix.lat || doctor.lng !== fix.lng)
    throw new Error(`${fix.doctorId} is not at its last fix`);
}

/**
 * The same burst through a StreamConsumer whose sink only counts: what the bus, msgpack decoding, validation and the
 * consumer cost without the fleet.
 */
async function countingRate(topics: TopicNames, messages: OutgoingMessage[]): Promise<number> {
  const bus = new InProcessBus({ partitions: 6, retention: 0 });
  let counted = 0;
  const sink: StreamSink = {
    applyFix: () => {
      counted++;
      return 'applied';
    },
    applyReading: () => 'applied',
    markApplied: () => {},
  };
  const logger = createLogger('warn');
  const metrics = new Metrics({ processMetrics: false });
  const consumer = new StreamConsumer({ bus, sink, logger, metrics, group: 'bench', topics });
  await consumer.start();
  try {
    const t0 = performance.now();
    await bus.publish(topics.fixes, messages);
    await until(() => counted >= messages.length, 'the counted burst');
    return messages.length / ((performance.now() - t0) / 1000);
  } finally {
    await consumer.stop();
    await bus.close();
  }
}

async function benchBus(reporter: Reporter, stream: FixStream, seconds: number): Promise<void> {
  // One fix per doctor first: the timed fixes move doctors the fleet knows, as in steady state.
  const warmup = stream.doctors;
  const topics = topicNames('bench');
  const bus = new InProcessBus({ partitions: 6, retention: 0 });
  const pipeline = await startPipeline(bus, topics, 'bench');
  const base = Date.now() - BUS_BURST - warmup - 60_000;
  try {
    await bus.publish(topics.fixes, stream.messages(0, warmup, 1, burstTs(base)));
    await until(() => pipeline.seen() >= warmup, 'warm-up');
    const burst = stream.messages(warmup, BUS_BURST, 1, burstTs(base));
    const t0 = performance.now();
    await bus.publish(topics.fixes, burst);
    await until(() => pipeline.seen() >= warmup + BUS_BURST, 'the burst');
    const elapsed = (performance.now() - t0) / 1000;
    await check(pipeline, stream, warmup + BUS_BURST, warmup + BUS_BURST - 1);
    reporter.add(BENCH, 'tot-bus', 'fixes_per_s', BUS_BURST / elapsed, 'fix/s', {
      doctors: stream.doctors,
      fixes: BUS_BURST,
      fixes_per_message: 1,
      apply: 'fleet',
    });
    reporter.add(BENCH, 'tot-bus', 'fixes_per_s', await countingRate(topics, burst), 'fix/s', {
      doctors: stream.doctors,
      fixes: BUS_BURST,
      fixes_per_message: 1,
      apply: 'count-only',
    });

    const first = warmup + BUS_BURST;
    const total = Math.round(OFFERED_PER_S * seconds);
    const sent = new Float64Array(first + total);
    pipeline.sink.applied = new Float64Array(first + total);
    await paced(OFFERED_PER_S, seconds, (from, count) => {
      const now = Date.now();
      const messages = stream.messages(first + from, count, 1, () => now);
      const at = clockMs();
      for (let i = first + from; i < first + from + count; i++) sent[i] = at;
      void bus.publish(topics.fixes, messages);
    });
    await until(() => pipeline.seen() >= first + total, 'the paced fixes');
    addLatency(reporter, 'tot-bus', latencies(sent, pipeline.sink.applied, first, total), {
      doctors: stream.doctors,
      offered_per_s: OFFERED_PER_S,
    });
  } finally {
    await pipeline.consumer.stop();
    await bus.close();
  }
}

/** Commands to the producer process, and what it answers. */
type ProducerCommand =
  | {
      kind: 'burst';
      from: number;
      count: number;
      perMessage: number;
      base: number;
      /** Another topic than the one the producer was started for. */
      topic?: string;
      /** Answer once the broker acknowledged everything, not when publishing starts. */
      acked?: boolean;
    }
  | { kind: 'paced'; from: number; rate: number; seconds: number; perMessage: number };
type ProducerAnswer =
  | { kind: 'burst'; startedAt: number }
  | { kind: 'paced'; sent: number[] }
  | { kind: 'error'; message: string };

/** The producer process: a KafkaBus that publishes what the parent asks, as the phone gateway would. */
async function runProducer(): Promise<void> {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');
  const topic = process.env['TOT_BENCH_TOPIC'] ?? '';
  const stream = new FixStream(Number(process.env['TOT_BENCH_DOCTORS']));
  const bus = new KafkaBus({ brokers, clientId: 'tot-bench-producer' });
  const answer = (message: ProducerAnswer) => process.send?.(message);
  process.on('message', (command: ProducerCommand | 'exit') => {
    if (command === 'exit') {
      void bus.close().finally(() => process.exit(0));
      return;
    }
    void (async () => {
      if (command.kind === 'burst') {
        const messages = stream.messages(
          command.from,
          command.count,
          command.perMessage,
          burstTs(command.base),
        );
        const startedAt = clockMs();
        const chunk = 4096;
        const pending: Promise<void>[] = [];
        for (let i = 0; i < messages.length; i += chunk)
          pending.push(bus.publish(command.topic ?? topic, messages.slice(i, i + chunk)));
        if (command.acked) await Promise.all(pending);
        answer({ kind: 'burst', startedAt });
        await Promise.all(pending);
      } else {
        const sent: number[] = [];
        const pending: Promise<void>[] = [];
        await paced(
          command.rate,
          command.seconds,
          (from, count) => {
            const now = Date.now();
            const messages = stream.messages(command.from + from, count, command.perMessage, () => now);
            const at = clockMs();
            for (let k = 0; k < count; k++) sent.push(at);
            pending.push(bus.publish(topic, messages));
          },
          command.perMessage,
        );
        await Promise.all(pending);
        answer({ kind: 'paced', sent });
      }
    })().catch((error: unknown) => answer({ kind: 'error', message: String(error) }));
  });
  process.send?.({ kind: 'ready' });
}

/** Starts the producer process and returns a function sending it one command and awaiting the answer. */
async function startProducer(brokers: string, topic: string, doctors: number) {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [], {
    execArgv: process.execArgv.filter((arg) => arg !== '--expose-gc'),
    env: {
      ...process.env,
      TOT_BENCH_ROLE: PRODUCER_ROLE,
      KAFKA_BROKERS: brokers,
      TOT_BENCH_TOPIC: topic,
      TOT_BENCH_DOCTORS: String(doctors),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // One answer per command, in order; the process dying fails whatever is waiting.
  const waiting: {
    resolve: (answer: ProducerAnswer | { kind: 'ready' }) => void;
    reject: (error: Error) => void;
  }[] = [];
  child.on('message', (message) => waiting.shift()?.resolve(message as ProducerAnswer));
  child.on('exit', (code) => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`producer exited with code ${code}`));
  });
  const next = () =>
    new Promise<ProducerAnswer | { kind: 'ready' }>((resolve, reject) => waiting.push({ resolve, reject }));
  await next();
  const ask = async (command: ProducerCommand) => {
    const answered = next();
    child.send(command);
    const answer = await answered;
    if (answer.kind === 'error') throw new Error(`producer: ${answer.message}`);
    return answer;
  };
  const stop = () => {
    child.send('exit');
    return new Promise<void>((resolve) => child.once('exit', () => resolve()));
  };
  return { ask, stop };
}

async function benchKafka(
  reporter: Reporter,
  stream: FixStream,
  seconds: number,
  brokers: string,
): Promise<void> {
  // One fix per doctor first: the timed fixes move doctors the fleet knows, as in steady state.
  const warmup = stream.doctors;
  const prefix = `bench.ingest.${process.pid}.${Date.now()}`;
  const topics = topicNames(prefix);
  const backlogTopics = topicNames(`${prefix}.backlog`);
  const bus = new KafkaBus({ brokers: brokers.split(','), clientId: 'tot-bench-engine' });
  const pipeline = await startPipeline(bus, topics, `${prefix}.engine`);
  let backlog: Pipeline | undefined;
  const producer = await startProducer(brokers, topics.fixes, stream.doctors);
  const base = Date.now() - 2 * (KAFKA_BURST + warmup) - 60_000;
  let next = 0;
  try {
    const burst = async (count: number, perMessage: number) => {
      const from = next;
      next += count;
      const answer = await producer.ask({ kind: 'burst', from, count, perMessage, base });
      await until(() => pipeline.seen() >= next, 'the burst');
      if (answer.kind !== 'burst') throw new Error('unexpected producer answer');
      return count / ((clockMs() - answer.startedAt) / 1000);
    };
    await burst(warmup, 1);
    for (const perMessage of [1, BATCHED]) {
      const rate = await burst(KAFKA_BURST, perMessage);
      await check(pipeline, stream, next, next - 1);
      reporter.add(BENCH, 'tot-kafka', 'fixes_per_s', rate, 'fix/s', {
        doctors: stream.doctors,
        fixes: KAFKA_BURST,
        fixes_per_message: perMessage,
        producer: 'concurrent',
      });
    }

    for (const perMessage of [1, BATCHED]) {
      const first = next;
      // A multiple of BATCHED either way, so that the batched run starts at the first doctor of a group.
      const total = Math.round((OFFERED_PER_S * seconds) / BATCHED) * BATCHED;
      next += total;
      pipeline.sink.applied = new Float64Array(next);
      const answer = await producer.ask({
        kind: 'paced',
        from: first,
        rate: OFFERED_PER_S,
        seconds: total / OFFERED_PER_S,
        perMessage,
      });
      if (answer.kind !== 'paced' || answer.sent.length !== total)
        throw new Error('unexpected producer answer');
      await until(() => pipeline.seen() >= next, 'the paced fixes');
      const sent = new Float64Array(next);
      sent.set(answer.sent, first);
      addLatency(reporter, 'tot-kafka', latencies(sent, pipeline.sink.applied, first, total), {
        doctors: stream.doctors,
        offered_per_s: OFFERED_PER_S,
        fixes_per_message: perMessage,
      });
    }
    await check(pipeline, stream, next, next - 1);

    // A backlog (what a new owner replays after a takeover): the fixes are in the topic before a consumer starts,
    // so the consumer alone is timed, from the end of the placements to the last fix.
    await bus.ensureTopics([backlogTopics.fixes]);
    const count = warmup + KAFKA_BURST;
    await producer.ask({
      kind: 'burst',
      from: 0,
      count,
      perMessage: 1,
      base,
      topic: backlogTopics.fixes,
      acked: true,
    });
    backlog = await startPipeline(bus, backlogTopics, `${prefix}.backlog`);
    const drained = backlog;
    await until(() => drained.seen() >= warmup, 'the backlog placements');
    const t0 = performance.now();
    await until(() => drained.seen() >= count, 'the backlog');
    reporter.add(
      BENCH,
      'tot-kafka',
      'fixes_per_s',
      KAFKA_BURST / ((performance.now() - t0) / 1000),
      'fix/s',
      {
        doctors: stream.doctors,
        fixes: KAFKA_BURST,
        fixes_per_message: 1,
        producer: 'backlog',
      },
    );
  } finally {
    await producer.stop();
    await backlog?.consumer.stop();
    await pipeline.consumer.stop();
    await bus.close();
    const admin = new Admin({ clientId: 'tot-bench-admin', bootstrapBrokers: brokers.split(',') });
    const names = [topics, backlogTopics].flatMap((t) => [t.fixes, t.readings, t.events, t.dlq]);
    await admin.deleteTopics({ topics: names }).catch(() => undefined);
    await admin.close();
  }
}

async function benchRedis(
  reporter: Reporter,
  stream: FixStream,
  seconds: number,
  url: string,
): Promise<void> {
  // One fix per doctor first: the timed fixes move doctors the fleet knows, as in steady state.
  const warmup = stream.doctors;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const key = `tot:bench:ingest:${process.pid}`;
  await redis.connect();
  const geoadd = (from: number, count: number) => {
    const pipeline = redis.pipeline();
    for (let i = from; i < from + count; i++) {
      const fix = stream.fix(i, 0);
      pipeline.geoadd(key, fix.lng, fix.lat, fix.doctorId);
    }
    return pipeline.exec();
  };
  try {
    await redis.del(key);
    const window = async (from: number, count: number) => {
      const inFlight = new Set<Promise<unknown>>();
      for (let i = from; i < from + count; i += 1_000) {
        const sent = geoadd(i, Math.min(1_000, from + count - i));
        inFlight.add(sent);
        void sent.finally(() => inFlight.delete(sent));
        if (inFlight.size >= 4) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    };
    await window(0, warmup);
    const t0 = performance.now();
    await window(warmup, REDIS_BURST);
    const elapsed = (performance.now() - t0) / 1000;
    reporter.add(BENCH, 'redis-geoadd', 'fixes_per_s', REDIS_BURST / elapsed, 'fix/s', {
      doctors: stream.doctors,
      fixes: REDIS_BURST,
      commands_per_pipeline: 1_000,
    });

    const first = warmup + REDIS_BURST;
    const total = Math.round(OFFERED_PER_S * seconds);
    const sent = new Float64Array(first + total);
    const done = new Float64Array(first + total);
    const pending: Promise<unknown>[] = [];
    await paced(OFFERED_PER_S, seconds, (from, count) => {
      const at = clockMs();
      const start = first + from;
      for (let i = start; i < start + count; i++) sent[i] = at;
      pending.push(geoadd(start, count).then(() => done.fill(clockMs(), start, start + count)));
    });
    await Promise.all(pending);
    addLatency(reporter, 'redis-geoadd', latencies(sent, done, first, total), {
      doctors: stream.doctors,
      offered_per_s: OFFERED_PER_S,
    });
  } finally {
    await redis.del(key);
    await redis.quit();
  }
}

/** KAFKA_BROKERS, else the native broker through `scripts/services.sh up kafka` and the env file it writes. */
function kafkaBrokers(reporter: Reporter): string | undefined {
  if (process.env['KAFKA_BROKERS']) return process.env['KAFKA_BROKERS'];
  reporter.note('KAFKA_BROKERS not set: starting the native broker (scripts/services.sh up kafka)');
  const result = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'services.sh'), 'up', 'kafka'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 2, 2],
  });
  const envFile = join(process.env['TOT_DATA_DIR'] ?? join(REPO_ROOT, '.data'), 'services.env');
  if (result.status !== 0 || !existsSync(envFile)) return undefined;
  return /^KAFKA_BROKERS=(.+)$/m.exec(readFileSync(envFile, 'utf8'))?.[1]?.trim();
}

const bench: Bench = {
  description: `fixes applied per second and fix-to-index latency at ${OFFERED_PER_S / 1000}k fixes/s: in-process bus, Kafka, Redis GEOADD`,
  async run({ reporter, sizes, seconds }) {
    const brokers = kafkaBrokers(reporter);
    const { redisUrl } = serviceUrls(reporter);
    for (const doctors of sizes ?? [100_000]) {
      // Whole messages of BATCHED fixes per doctor group keep each doctor's order (see FixStream.messages).
      const stream = new FixStream(Math.ceil(doctors / BATCHED) * BATCHED);
      reporter.note(`-- ${stream.doctors} doctors`);
      await benchBus(reporter, stream, seconds);
      if (brokers) await benchKafka(reporter, stream, seconds, brokers);
      else reporter.note('kafka skipped: no broker');
      if (redisUrl) await benchRedis(reporter, stream, seconds, redisUrl);
      else reporter.note('redis peer skipped: no REDIS_URL');
    }
  },
};

export default bench;

if (process.env['TOT_BENCH_ROLE'] === PRODUCER_ROLE) await runProducer();
