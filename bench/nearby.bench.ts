/**
 * Nearest 10 available doctors around random points of a Moscow-sized city, on one data set per size, for:
 *   tot                    Fleet.nearby(k = 10, status available) — the engine's API, building doctor views
 *   tot-index              FleetIndex.nearby on the raw index (no views), for the cost of the view layer
 *   redis-geosearch-1km    GEOSEARCH FROMLONLAT … BYRADIUS 1 km ASC COUNT 10 WITHDIST on the available doctors
 *   redis-geosearch-2km    the same within 2 km
 *   postgis-knn            ORDER BY geom <-> point LIMIT 10 on a GiST-indexed table of the available doctors
 * Every subject is timed single-client and sequential (concurrency = 1: one request at a time, latency per
 * request); the network peers are also timed with 8 requests in flight (Redis: one connection, commands
 * pipelined; PostgreSQL: a pool of 8 connections) so their throughput is not judged by round-trip latency alone.
 * Ratios compare tot with each peer at concurrency 1 and at the peer's concurrency 8.
 */
import { Fleet, type DoctorStatus } from '../engine/fleet.ts';
import { FleetIndex, statusBit } from '../geo/fleet-index.ts';
import type { Bench } from './lib/bench.ts';
import { type SyntheticCity, doctorId, queryPoints, syntheticCity } from './lib/city.ts';
import { type Measurement, canMeasureMemory, liveBytes, measureAsync, measureSync } from './lib/harness.ts';
import { type PeerData, PostgisKnn, RedisGeo } from './lib/peers.ts';
import { serviceUrls } from './lib/services.ts';

const BENCH = 'nearby';
const K = 10;
const QUERY_POINTS = 50_000;
const PEER_CONCURRENCY = 8;
const UNAVAILABLE: DoctorStatus[] = ['assigned', 'en_route', 'on_site', 'offline'];

/** A fleet of the city's doctors: 30 % available, the rest busy or off duty, each with one fix. */
export function buildFleet(city: SyntheticCity, options: { initialCapacity?: number } = {}): Fleet {
  const fleet = new Fleet(options);
  for (let i = 0; i < city.size; i++) {
    const id = doctorId(i);
    fleet.register({ id, status: city.available[i] ? 'available' : (UNAVAILABLE[i % 4] as DoctorStatus) }, 0);
    fleet.applyFix({ doctorId: id, lat: city.lat[i] as number, lng: city.lng[i] as number, ts: 1 }, 1);
  }
  fleet.drainEvents();
  return fleet;
}

const bench: Bench = {
  description:
    'nearest 10 available doctors: ТОТ fleet index vs Redis GEOSEARCH vs PostGIS KNN (100k, 1M doctors)',
  async run({ reporter, sizes, seconds, verify }) {
    const urls = serviceUrls(reporter);
    const queries = queryPoints(QUERY_POINTS, 2);
    const at = (i: number): [number, number] => {
      const j = (i % QUERY_POINTS) * 2;
      return [queries[j] as number, queries[j + 1] as number];
    };
    for (const size of sizes ?? [100_000, 1_000_000]) {
      const city = syntheticCity(size, 1);
      const params = { size, k: K };
      reporter.note(`-- ${size} doctors, ${city.availableCount} available`);

      // The raw index: memory per point and query cost without the view layer.
      let before = liveBytes();
      let index: FleetIndex | undefined = new FleetIndex();
      for (let i = 0; i < size; i++) {
        index.upsert(
          doctorId(i),
          city.lat[i] as number,
          city.lng[i] as number,
          { status: city.available[i] ? 0 : 1 },
          1,
        );
      }
      if (canMeasureMemory())
        reporter.add(BENCH, 'tot-index', 'bytes_per_doctor', (liveBytes() - before) / size, 'B', { size });
      const indexOptions = { k: K, statusMask: statusBit(0) };
      const rawIndex = index;
      const indexRun = measureSync((i) => rawIndex.nearby(...at(i), indexOptions), { seconds });
      reporter.addMeasurement(BENCH, 'tot-index', indexRun, { ...params, concurrency: 1 });
      const cost = index.totalQueryCost();
      reporter.add(BENCH, 'tot-index', 'cells_per_query', cost.cellsVisited / cost.queries, 'cells', {
        size,
      });
      reporter.add(
        BENCH,
        'tot-index',
        'candidates_per_query',
        cost.candidatesChecked / cost.queries,
        'points',
        { size },
      );
      index = undefined;

      // The engine's fleet.
      before = liveBytes();
      const fleet = buildFleet(city);
      if (canMeasureMemory())
        reporter.add(BENCH, 'tot', 'bytes_per_doctor', (liveBytes() - before) / size, 'B', { size });
      const options = { k: K, status: 'available' as const };
      const tot = measureSync((i) => fleet.nearby(...at(i), options), { seconds });
      reporter.addMeasurement(BENCH, 'tot', tot, { ...params, concurrency: 1 });
      if (verify) verifyAgainstScan(fleet, city, at, reporter);

      const data: PeerData = { ids: doctorId, lat: city.lat, lng: city.lng, include: city.available };
      const peers: { subject: string; single: Measurement; concurrent: Measurement }[] = [];

      if (urls.redisUrl) {
        let redis: RedisGeo | undefined;
        try {
          const t0 = performance.now();
          redis = await RedisGeo.load(urls.redisUrl, `tot:bench:nearby:${size}`, data);
          reporter.note(
            `redis: ${await redis.count()} members loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          );
          for (const radiusKm of [1, 2]) {
            const subject = `redis-geosearch-${radiusKm}km`;
            const geo = redis;
            const run = (concurrency: number) =>
              measureAsync((i) => geo.search(...at(i), radiusKm, K), { seconds, concurrency });
            const single = await run(1);
            const concurrent = await run(PEER_CONCURRENCY);
            reporter.addMeasurement(BENCH, subject, single, { ...params, concurrency: 1 });
            reporter.addMeasurement(BENCH, subject, concurrent, {
              ...params,
              concurrency: PEER_CONCURRENCY,
              pipelined: true,
            });
            peers.push({ subject, single, concurrent });
          }
        } catch (error) {
          reporter.note(`redis peer skipped: ${(error as Error).message}`);
        } finally {
          await redis?.close().catch(() => undefined);
        }
      } else reporter.note('redis peer skipped: no REDIS_URL');

      if (urls.databaseUrl) {
        let postgis: PostgisKnn | undefined;
        try {
          const t0 = performance.now();
          postgis = await PostgisKnn.load(
            urls.databaseUrl,
            `tot_bench_nearby_${size}`,
            data,
            PEER_CONCURRENCY,
          );
          reporter.note(
            `postgis: ${await postgis.count()} rows loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
          );
          const knn = postgis;
          const run = (concurrency: number) =>
            measureAsync((i) => knn.nearest(...at(i), K), { seconds, concurrency });
          const single = await run(1);
          const concurrent = await run(PEER_CONCURRENCY);
          reporter.addMeasurement(BENCH, 'postgis-knn', single, { ...params, concurrency: 1 });
          reporter.addMeasurement(BENCH, 'postgis-knn', concurrent, {
            ...params,
            concurrency: PEER_CONCURRENCY,
          });
          peers.push({ subject: 'postgis-knn', single, concurrent });
        } catch (error) {
          reporter.note(`postgis peer skipped: ${(error as Error).message}`);
        } finally {
          await postgis?.close().catch(() => undefined);
        }
      } else reporter.note('postgis peer skipped: no DATABASE_URL');

      for (const peer of peers) {
        reporter.add(
          BENCH,
          'tot',
          `ratio_vs_${peer.subject}`,
          tot.opsPerSecond / peer.single.opsPerSecond,
          '×',
          {
            size,
            peerConcurrency: 1,
          },
        );
        reporter.add(
          BENCH,
          'tot',
          `ratio_vs_${peer.subject}`,
          tot.opsPerSecond / peer.concurrent.opsPerSecond,
          '×',
          {
            size,
            peerConcurrency: PEER_CONCURRENCY,
          },
        );
      }
    }
  },
};

/** --verify: the fleet's answers equal a scan of every doctor for a sample of queries. */
function verifyAgainstScan(
  fleet: Fleet,
  city: SyntheticCity,
  at: (i: number) => [number, number],
  reporter: { note(message: string): void },
): void {
  const R = 6371.0088;
  const rad = Math.PI / 180;
  let checked = 0;
  for (let q = 0; q < 20; q++) {
    const [lat, lng] = at(q * 997);
    const all: { id: string; d: number }[] = [];
    for (let i = 0; i < city.size; i++) {
      if (!city.available[i]) continue;
      const a =
        Math.sin((((city.lat[i] as number) - lat) * rad) / 2) ** 2 +
        Math.cos(lat * rad) *
          Math.cos((city.lat[i] as number) * rad) *
          Math.sin((((city.lng[i] as number) - lng) * rad) / 2) ** 2;
      all.push({ id: doctorId(i), d: 2 * R * Math.asin(Math.sqrt(a)) });
    }
    all.sort((x, y) => x.d - y.d || (x.id < y.id ? -1 : 1));
    const got = fleet.nearby(lat, lng, { k: K, status: 'available' }).map((hit) => hit.doctor.id);
    const expected = all.slice(0, K).map((hit) => hit.id);
    if (got.join() !== expected.join())
      throw new Error(`verify: query ${q} differs: ${got.join()} vs ${expected.join()}`);
    checked++;
  }
  reporter.note(`verify: ${checked} queries equal to a full scan`);
}

export default bench;
