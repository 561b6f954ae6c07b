/**
 * The benchmark harness shared by bench/*.bench.ts: timed loops with per-operation latency percentiles, heap
 * measurement, and a reporter that prints a table or, with --json, one JSON object per line:
 * {"bench","subject","metric","value","unit", ...parameters}.
 */

/** What a timed loop measured. Latencies in microseconds. */
export interface Measurement {
  ops: number;
  seconds: number;
  opsPerSecond: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

/** How long a timed loop runs. */
export interface MeasureOptions {
  /** Wall time to run, s (default 3). */
  seconds?: number;
  /** Stop after this many operations even if time remains. */
  maxOps?: number;
  /** Untimed operations first, to let the JIT settle (default 2 000 or 10 % of maxOps). */
  warmupOps?: number;
  /**
   * Operations timed together (default 1). Sub-microsecond operations are timed in batches so the clock's own cost
   * (≈50 ns a call) does not dominate; percentiles are then over batch means.
   */
  batch?: number;
}

const MAX_SAMPLES = 4_000_000;

function summarize(samples: Float64Array, count: number, ops: number, nanoseconds: number): Measurement {
  const sorted = samples.subarray(0, count).sort();
  const at = (q: number) =>
    count === 0 ? Number.NaN : (sorted[Math.min(count - 1, Math.floor(q * count))] as number);
  const seconds = nanoseconds / 1e9;
  return {
    ops,
    seconds,
    opsPerSecond: ops / seconds,
    meanUs: nanoseconds / 1e3 / Math.max(ops, 1),
    p50Us: at(0.5) / 1e3,
    p99Us: at(0.99) / 1e3,
    maxUs: count === 0 ? Number.NaN : (sorted[count - 1] as number) / 1e3,
  };
}

/** Runs `op(i)` (i = 0, 1, …) until the time or op budget is spent, timing each op (or batch) with hrtime. */
export function measureSync(op: (i: number) => void, options: MeasureOptions = {}): Measurement {
  const seconds = options.seconds ?? 3;
  const maxOps = options.maxOps ?? Number.POSITIVE_INFINITY;
  const batch = Math.max(1, options.batch ?? 1);
  const warmup =
    options.warmupOps ?? Math.min(2_000, Number.isFinite(maxOps) ? Math.floor(maxOps / 10) : 2_000);
  for (let i = 0; i < warmup; i++) op(i);
  const samples = new Float64Array(
    Math.min(MAX_SAMPLES, Number.isFinite(maxOps) ? Math.ceil(maxOps / batch) : MAX_SAMPLES),
  );
  const budget = BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let count = 0;
  let ops = 0;
  let previous = start;
  while (ops < maxOps) {
    const n = Math.min(batch, maxOps - ops);
    for (let j = 0; j < n; j++) op(warmup + ops + j);
    ops += n;
    const now = process.hrtime.bigint();
    if (count < samples.length) samples[count++] = Number(now - previous) / n;
    previous = now;
    if (now - start >= budget) break;
  }
  return summarize(samples, count, ops, Number(previous - start));
}

/**
 * Runs `op(i)` with `concurrency` operations in flight (each worker awaits its own op before the next), timing each
 * op from call to settlement.
 */
export async function measureAsync(
  op: (i: number) => Promise<unknown>,
  options: MeasureOptions & { concurrency?: number } = {},
): Promise<Measurement> {
  const seconds = options.seconds ?? 3;
  const maxOps = options.maxOps ?? Number.POSITIVE_INFINITY;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const warmup = options.warmupOps ?? 500;
  for (let i = 0; i < warmup; i++) await op(i);
  const samples = new Float64Array(MAX_SAMPLES);
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let count = 0;
  let next = warmup;
  let ops = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (ops < maxOps) {
      const t0 = process.hrtime.bigint();
      if (t0 >= deadline) return;
      ops++;
      await op(next++);
      if (count < samples.length) samples[count++] = Number(process.hrtime.bigint() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return summarize(samples, count, ops, Number(process.hrtime.bigint() - start));
}

/** Runs a full GC when the process has --expose-gc (bench/run.ts makes sure it has). */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
}

/** Live heap plus off-heap buffers (typed arrays), bytes, after a full GC. */
export function liveBytes(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

/** Whether heap figures are trustworthy (a GC could be forced). */
export function canMeasureMemory(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === 'function';
}

/** Parameters that identify a measurement besides bench/subject/metric (size, concurrency, radius …). */
export type Parameters = Record<string, string | number | boolean>;

/** One reported figure. */
export interface BenchResult extends Parameters {
  bench: string;
  subject: string;
  metric: string;
  value: number;
  unit: string;
}

/** Collects results; prints JSON lines as they come (--json) or one table at the end. */
export class Reporter {
  private readonly results: BenchResult[] = [];

  constructor(private readonly json: boolean) {}

  /** Records one figure. */
  add(
    bench: string,
    subject: string,
    metric: string,
    value: number,
    unit: string,
    parameters: Parameters = {},
  ): void {
    const result: BenchResult = { bench, subject, metric, value: round(value), unit, ...parameters };
    this.results.push(result);
    if (this.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  }

  /** Records ops/s, p50 and p99 of a measurement. */
  addMeasurement(
    bench: string,
    subject: string,
    measurement: Measurement,
    parameters: Parameters = {},
  ): void {
    this.add(bench, subject, 'ops_per_s', measurement.opsPerSecond, 'op/s', parameters);
    this.add(bench, subject, 'p50_us', measurement.p50Us, 'µs', parameters);
    this.add(bench, subject, 'p99_us', measurement.p99Us, 'µs', parameters);
  }

  /** A progress or context line: stderr, so --json output stays parseable. */
  note(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  /** Prints the results as a table, one row per bench/subject/parameters, one column per metric. */
  printTable(): void {
    if (this.json || this.results.length === 0) return;
    const rows = new Map<string, { head: string[]; metrics: Map<string, string> }>();
    const metricOrder: string[] = [];
    for (const result of this.results) {
      const { bench, subject, metric, value, unit, ...parameters } = result;
      const params = Object.entries(parameters)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
      const key = `${bench}\u0000${subject}\u0000${params}`;
      let row = rows.get(key);
      if (!row) {
        row = { head: [bench, subject, params], metrics: new Map() };
        rows.set(key, row);
      }
      const column = `${metric} (${unit})`;
      if (!metricOrder.includes(column)) metricOrder.push(column);
      row.metrics.set(column, formatNumber(value));
    }
    const header = ['bench', 'subject', 'parameters', ...metricOrder];
    const body = [...rows.values()].map((row) => [
      ...row.head,
      ...metricOrder.map((m) => row.metrics.get(m) ?? ''),
    ]);
    const widths = header.map((h, i) =>
      Math.max(h.length, ...body.map((cells) => (cells[i] as string).length)),
    );
    const line = (cells: string[]) =>
      cells
        .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
        .join('  ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const cells of body) console.log(line(cells));
  }
}

function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.abs(value);
  const digits = magnitude >= 1000 ? 0 : magnitude >= 10 ? 2 : 3;
  return Number(value.toFixed(digits));
}

function formatNumber(value: number): string {
  return Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : String(value);
}
