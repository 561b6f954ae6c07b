/**
 * The periodic snapshot as the event loop sees it: how long one `Engine.saveSnapshot` holds the loop, at 100k and 1M
 * doctors.
 *
 * The engine holds `size` doctors placed by applyFix (uniform in the city box, two specializations each, 200
 * clinics, a rating) and a traffic field fed by 2 000 detectors. Each round first moves a tenth of the doctors (so
 * that every snapshot has changes to copy), then saves one snapshot to the backup while a probe measures the loop:
 * the event-loop delay histogram (a 1 ms timer), whose largest sample is the longest a due timer — a request, a
 * dispatch tick — waited in that time (the capture, the backup's own writes, garbage collection).
 *
 * Reported per (size, backup): stall_max_ms (the longest over the rounds), stall_p50_ms (median over the rounds of each
 * round's longest), saved_ms (median from the call to the saved snapshot), bytes. Backups: `file` (the embedded
 * default, a temporary directory) and `redis` (REDIS_URL, or the project's native Redis; skipped when none).
 *
 * The probe also sees the loop wait for a core it shares with other processes (and with the snapshot's own worker),
 * and the garbage collector's pauses: after each round it runs as long again with no snapshot, and idle_stall_p50_ms /
 * idle_stall_max_ms report what it sees then — the machine's share of the figures above. The snapshot's own work on
 * the event loop is timed by the encoder itself (SnapshotEncoder.lastTimings): capture_p50_ms / capture_max_ms, the
 * one synchronous step (copying the fleet, the positions and the traffic field, posting them to the worker), and
 * ids_ahead_max_ms, the longest turn spent sending new ids ahead; encode_p50_ms is the worker's time. The first
 * snapshot of the process (untimed above: it starts the worker, sends every id and makes the capture buffers ready) is
 * reported on its own row.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FileBackup } from '../engine/backup-file.ts';
import { RedisBackup } from '../engine/backup-redis.ts';
import type { Backup } from '../engine/backup.ts';
import { TOPICS } from '../engine/bus.ts';
import { Engine } from '../engine/engine.ts';
import { InProcessBus } from '../engine/in-process-bus.ts';
import { createLogger } from '../engine/logger.ts';
import { Metrics } from '../engine/metrics.ts';
import { SnapshotEncoder } from '../engine/snapshot-encoder.ts';
import type { Bench } from './lib/bench.ts';
import { doctorId, syntheticCity } from './lib/city.ts';
import { collectGarbage } from './lib/harness.ts';
import { seededRandom } from './lib/random.ts';
import { serviceUrls } from './lib/services.ts';

const BENCH = 'snapshot';
const ROUNDS = 7;
const DETECTORS = 2_000;
const SPECIALIZATIONS = ['therapist', 'pediatrician', 'surgeon', 'cardiologist', 'neurologist'];

/** Runs the probe for `ms` with nothing else to do; returns its longest gap. */
async function idleStall(ms: number): Promise<number> {
  const probe = await stallProbe();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return probe.stop();
}

/**
 * The longest delay of the event loop from start() to stop(), ms: Node's event-loop delay histogram with a 1 ms timer
 * (perf_hooks.monitorEventLoopDelay), whose largest sample is the longest time a due timer waited, plus the 1 ms
 * period itself, which is taken off.
 */
async function stallProbe(): Promise<{ stop: () => number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // Its timer measures from its first tick: work started in this same turn would go unseen.
  await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    stop: () => {
      histogram.disable();
      return Math.max(0, histogram.max / 1e6 - 1);
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** An engine with `size` placed doctors and a traffic field. */
function buildEngine(size: number, encoder: SnapshotEncoder): Engine {
  const engine = new Engine({
    bus: new InProcessBus(),
    logger: createLogger('warn'),
    metrics: new Metrics({ processMetrics: false }),
    clock: () => 10_000,
    fleet: { offlineAfterMs: 3_600_000 },
    snapshotEncoder: encoder,
  });
  const city = syntheticCity(size, 1);
  for (let i = 0; i < size; i++) {
    const id = doctorId(i);
    engine.fleet.register(
      {
        id,
        specializations: [
          SPECIALIZATIONS[i % SPECIALIZATIONS.length] as string,
          SPECIALIZATIONS[(i >> 3) % SPECIALIZATIONS.length] as string,
        ],
        clinicId: `clinic-${i % 200}`,
        rating: 3 + (i % 21) / 10,
        status: city.available[i] ? 'available' : 'assigned',
      },
      0,
    );
    engine.applyFix(
      {
        doctorId: id,
        lat: city.lat[i] as number,
        lng: city.lng[i] as number,
        ts: 1,
        speed: 5,
        heading: i % 360,
      },
      1,
    );
  }
  for (let i = 0; i < DETECTORS; i++) {
    engine.applyReading(
      {
        detectorId: `detector-${i}`,
        ts: 1,
        speedKmh: 20 + (i % 40),
        volume: 10,
        lat: city.lat[i % size] as number,
        lng: city.lng[i % size] as number,
      },
      1,
    );
  }
  engine.fleet.drainEvents();
  engine.fleet.drainChanged();
  return engine;
}

const bench: Bench = {
  description:
    'event-loop stall of one periodic snapshot (capture, encoding, backup write) at 100k and 1M doctors',
  async run({ reporter, sizes }) {
    const urls = serviceUrls(reporter);
    const directory = mkdtempSync(join(tmpdir(), 'tot-snapshot-bench-'));
    try {
      for (const size of sizes ?? [100_000, 1_000_000]) {
        reporter.note(`-- ${size} doctors`);
        const encoder = new SnapshotEncoder();
        const engine = buildEngine(size, encoder);
        const random = seededRandom(7);
        const backups: Backup[] = [new FileBackup(join(directory, 'snapshot.msgpack'))];
        const redisKey = `tot:bench:snapshot:${process.pid}`;
        if (urls.redisUrl) {
          const redis = new RedisBackup(urls.redisUrl, redisKey);
          await redis.ready();
          backups.push(redis);
        } else reporter.note('no Redis: the redis backup is skipped');
        let ts = 2;
        let offset = 0;
        for (const backup of backups) {
          const stalls: number[] = [];
          const idle: number[] = [];
          const saved: number[] = [];
          const captures: number[] = [];
          const idsAhead: number[] = [];
          const encodes: number[] = [];
          let bytes = 0;
          // One untimed round first: the first snapshot of a process also pays for loading and warming up code.
          for (let round = 0; round <= ROUNDS; round++) {
            ts++;
            for (let moved = 0; moved < size / 10; moved++) {
              const i = Math.floor(random() * size);
              const doctor = engine.fleet.get(doctorId(i));
              if (doctor?.lat === undefined || doctor.lng === undefined) continue;
              engine.applyFix(
                {
                  doctorId: doctor.id,
                  lat: doctor.lat + (random() - 0.5) * 0.0004,
                  lng: doctor.lng + (random() - 0.5) * 0.0006,
                  ts,
                },
                ts,
              );
              engine.markApplied(TOPICS.fixes, 0, ++offset);
            }
            collectGarbage();
            const probe = await stallProbe();
            const started = performance.now();
            await engine.saveSnapshot(backup);
            const elapsed = performance.now() - started;
            const stall = probe.stop();
            if (round === 0) {
              // The process's first snapshot starts the worker, sends every id and makes the buffers ready.
              if (backup === backups[0]) {
                const first = encoder.lastTimings;
                reporter.add(BENCH, 'first snapshot', 'stall_ms', stall, 'ms', { size });
                if (first) {
                  reporter.add(BENCH, 'first snapshot', 'capture_ms', first.captureMs, 'ms', { size });
                  reporter.add(BENCH, 'first snapshot', 'ids_ahead_max_ms', first.idsAheadMs, 'ms', { size });
                }
              }
              continue;
            }
            stalls.push(stall);
            saved.push(elapsed);
            const timings = encoder.lastTimings;
            if (timings) {
              captures.push(timings.captureMs);
              idsAhead.push(timings.idsAheadMs);
              encodes.push(timings.encodeMs);
            }
            collectGarbage();
            idle.push(await idleStall(elapsed));
            const loaded = await backup.load();
            bytes = loaded?.fleet.byteLength ?? 0;
          }
          const parameters = { size, backup: backup.kind };
          reporter.add(BENCH, 'saveSnapshot', 'capture_p50_ms', median(captures), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'capture_max_ms', Math.max(...captures), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'ids_ahead_max_ms', Math.max(...idsAhead), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'encode_p50_ms', median(encodes), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'stall_max_ms', Math.max(...stalls), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'stall_p50_ms', median(stalls), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'idle_stall_p50_ms', median(idle), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'idle_stall_max_ms', Math.max(...idle), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'saved_ms', median(saved), 'ms', parameters);
          reporter.add(BENCH, 'saveSnapshot', 'fleet_bytes', bytes, 'B', parameters);
          const list = (values: number[]) => values.map((value) => value.toFixed(1)).join(', ');
          reporter.note(
            `${backup.kind}: captures ${list(captures)} ms; stalls ${list(stalls)} ms; idle ${list(idle)} ms`,
          );
        }
        await engine.stop();
        for (const backup of backups) await backup.close();
        if (urls.redisUrl) {
          const redis = new Redis(urls.redisUrl);
          await redis.del(redisKey);
          redis.disconnect();
        }
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  },
};

export default bench;
