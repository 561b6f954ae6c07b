/**
 * What the ingest integration tests share: the services' addresses, an engine process on Kafka with topics, group
 * and snapshot key of its own, and its Prometheus metrics read back as numbers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEngineProcess, type EngineProcess, waitUntilReady } from '../../support/engine-process.ts';

/** A service address the integration global setup exported. */
export function required(name: 'KAFKA_BROKERS' | 'REDIS_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration global setup starts the services`);
  return value;
}

/** A name no other test run uses: topics, groups and snapshot keys are made of it. */
export function uniqueRun(label: string): string {
  return `${label}${process.pid}x${Date.now()}`;
}

/** Registers cleanups and runs them in reverse order. */
export class Cleanups {
  private readonly steps: (() => void | Promise<void>)[] = [];
  add(step: () => void | Promise<void>): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step();
  }
}

/**
 * Starts `engine/main.ts` on the real broker without the simulator, with an in-memory PGlite and a temporary data
 * directory, and waits for /readyz (streams consuming). `environment` adds or overrides variables.
 */
export async function startKafkaEngine(
  cleanups: Cleanups,
  environment: Record<string, string>,
): Promise<EngineProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tot-ingest-'));
  cleanups.add(() => rmSync(dataDir, { recursive: true, force: true }));
  const engine = await startEngineProcess({
    KAFKA_BROKERS: required('KAFKA_BROKERS'),
    SIMULATOR: 'false',
    PGLITE_IN_MEMORY: 'true',
    DATA_DIR: dataDir,
    // Nobody goes offline while a test looks at positions.
    OFFLINE_AFTER_MS: '3600000',
    ...environment,
  });
  // Awaited, so that topics deleted by a later cleanup are not asked for (and auto-created) by the engine again.
  cleanups.add(async () => {
    engine.child.kill('SIGKILL');
    await engine.exited;
  });
  await waitUntilReady(engine, 60_000);
  return engine;
}

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The engine's metrics right now. */
export async function metricsOf(engine: EngineProcess): Promise<Sample[]> {
  const response = await fetch(engine.url('/metrics'));
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return parseMetrics(await response.text());
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter(
      (sample) =>
        sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** Next offset applied per partition of `topic`, from `tot_stream_partition_position`. */
export function positionsOf(samples: readonly Sample[], topic: string): Map<number, number> {
  const positions = new Map<number, number>();
  for (const sample of samples) {
    if (sample.name === 'tot_stream_partition_position' && sample.labels['topic'] === topic) {
      positions.set(Number(sample.labels['partition']), sample.value);
    }
  }
  return positions;
}
