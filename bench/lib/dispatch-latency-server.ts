/**
 * The server side of the booking → offer latency bench (bench/lib/dispatch-latency.ts), run as its own process so the
 * load generator does not share its event loop: the whole application (engine/main.ts startApplication) configured by
 * the environment the bench gives it, with a fleet of BENCH_DOCTORS doctors placed directly in the engine's fleet
 * (uniform over the bench city, all available). The first BENCH_PHONES of them are the ones with phone sockets
 * (ids {@link phoneDoctorId}). Logs go to stderr; once serving, prints `{"port":…}` on stdout. Exits on SIGTERM.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { FileBackup } from '../../engine/backup-file.ts';
import { loadConfig } from '../../engine/config.ts';
import { createLogger } from '../../engine/logger.ts';
import { startApplication } from '../../engine/main.ts';
import { doctorId, syntheticCity } from './city.ts';
import { LATENCY_CITY_SEED, phoneDoctorId } from './dispatch-latency.ts';

async function main(): Promise<void> {
  const doctors = Number(process.env['BENCH_DOCTORS'] ?? 100_000);
  const phones = Number(process.env['BENCH_PHONES'] ?? 0);
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, pino.destination(2));
  const app = await startApplication(config, logger);
  await app.ready;
  const city = syntheticCity(doctors, LATENCY_CITY_SEED);
  const fleet = app.engine.fleet;
  const now = app.engine.now();
  for (let i = 0; i < doctors; i++) {
    const id = i < phones ? phoneDoctorId(i) : doctorId(i);
    fleet.register({ id, specializations: ['therapist'], rating: 4.5 }, now);
    fleet.applyFix(
      { doctorId: id, lat: city.lat[i] as number, lng: city.lng[i] as number, ts: now, seq: 1 },
      now,
    );
  }
  // A process's first snapshot costs more than the others: its capture buffers are new, every id goes to the worker,
  // and its first envelopes' memory sets off a run of major collections. An engine in service took it long ago; here
  // it is taken (into a file of its own) before the load, so that the timed part sees the periodic snapshots as they
  // are in steady state.
  await app.engine.saveSnapshot(new FileBackup(join(config.DATA_DIR, 'first-snapshot.msgpack')));
  process.stdout.write(`${JSON.stringify({ port: app.port, doctors: fleet.size })}\n`);
  process.once('SIGTERM', () => {
    void app.stop().then((clean) => process.exit(clean ? 0 : 1));
  });
}

await main();
