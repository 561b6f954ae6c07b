/**
 * Location history writes: LocationHistory.flush (multi-row `INSERT … SELECT FROM unnest(arrays)` in batches of
 * 5 000 into the daily partition) on the real PostgreSQL and on the embedded PGlite, with the same synthetic fixes.
 *   tot-history-postgres   PostgresStore (pg)
 *   tot-history-pglite     PgliteStore (in memory)
 * Each flush writes `rows_per_flush` rows; rows/s is over all flushes, p50/p99 are per flush.
 */
import { LocationHistory, type HistoryFix } from '../engine/location-history.ts';
import { createLogger } from '../engine/logger.ts';
import { migrate } from '../engine/migrate.ts';
import type { Store } from '../engine/store.ts';
import { PgliteStore } from '../engine/store-pglite.ts';
import { PostgresStore } from '../engine/store-postgres.ts';
import type { Bench } from './lib/bench.ts';
import { doctorId, syntheticCity } from './lib/city.ts';
import { measureAsync } from './lib/harness.ts';
import { serviceUrls } from './lib/services.ts';

const BENCH = 'history';
const ROWS_PER_FLUSH = 20_000;
const DAY = Date.UTC(2026, 10, 22);

const bench: Bench = {
  description: 'location history rows written per second into PostgreSQL and PGlite (batched unnest inserts)',
  async run({ reporter, seconds }) {
    const city = syntheticCity(100_000, 7);
    const fixes: HistoryFix[] = Array.from({ length: ROWS_PER_FLUSH }, (_, i) => ({
      doctorId: doctorId(i % 100_000),
      lat: city.lat[i % 100_000] as number,
      lng: city.lng[i % 100_000] as number,
      ts: DAY + 10 * 3_600_000 + i,
      accuracy: 5,
      speed: 8,
      heading: 90,
      battery: 70,
    }));
    const { databaseUrl } = serviceUrls(reporter);
    const subjects: [string, () => Promise<Store>][] = [['tot-history-pglite', () => PgliteStore.open()]];
    if (databaseUrl) subjects.unshift(['tot-history-postgres', async () => new PostgresStore(databaseUrl)]);
    for (const [subject, open] of subjects) {
      const store = await open();
      try {
        await migrate(store);
        const history = new LocationHistory({ store, logger: createLogger('silent') });
        await history.ensurePartitions(DAY);
        const measurement = await measureAsync(
          async () => {
            for (const fix of fixes) history.append(fix);
            await history.flush(DAY);
          },
          { seconds, warmupOps: 1 },
        );
        reporter.add(BENCH, subject, 'rows_per_s', measurement.opsPerSecond * ROWS_PER_FLUSH, 'row/s', {
          rows_per_flush: ROWS_PER_FLUSH,
        });
        reporter.add(BENCH, subject, 'p50_ms', measurement.p50Us / 1000, 'ms', {
          rows_per_flush: ROWS_PER_FLUSH,
        });
        reporter.add(BENCH, subject, 'p99_ms', measurement.p99Us / 1000, 'ms', {
          rows_per_flush: ROWS_PER_FLUSH,
        });
        // Leave the shared database as it was.
        await store.query(
          'DELETE FROM geo.location_history WHERE ts >= $1::timestamptz AND ts < $2::timestamptz',
          [new Date(DAY).toISOString(), new Date(DAY + 86_400_000).toISOString()],
        );
      } finally {
        await store.close();
      }
    }
  },
};

export default bench;
