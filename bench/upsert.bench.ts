/**
 * Writes: inserting doctors, moving them, and the fleet snapshot.
 *   tot-index   FleetIndex.upsert: inserts, then moves of existing points
 *   tot         Fleet.applyFix: fixes of moving doctors (validation, staleness check, index move, fix fields,
 *               offline timer)
 *   snapshot    Fleet.toSnapshot / Fleet.fromSnapshot: bytes, encode and restore time
 * Moves: 95 % of fixes move a doctor 5–30 m (a phone every few seconds in town), 5 % 100–400 m (a gap in the
 * fixes); most stay in their ≈200 m cell, some cross. Ids are prebuilt strings (as a decoder's output would be
 * once interned); fix objects are created per operation, as decoding creates them.
 * Sub-microsecond operations are timed in batches of 256: p50/p99 are over batch means.
 */
import { fleetDifferences } from '../engine/fleet-compare.ts';
import { Fleet } from '../engine/fleet.ts';
import { FleetIndex } from '../geo/fleet-index.ts';
import type { Bench } from './lib/bench.ts';
import { CITY_BOX, type SyntheticCity, doctorId, syntheticCity } from './lib/city.ts';
import { canMeasureMemory, liveBytes, measureSync } from './lib/harness.ts';
import { seededRandom } from './lib/random.ts';
import { buildFleet } from './nearby.bench.ts';

const BENCH = 'upsert';
const BATCH = 256;
const STEPS = 1 << 20;

/** Precomputed displacements (degrees) of the moves, cycled. */
function moves(seed: number): { dLat: Float64Array; dLng: Float64Array } {
  const random = seededRandom(seed);
  const dLat = new Float64Array(STEPS);
  const dLng = new Float64Array(STEPS);
  const kmPerDegLng = 111.195 * Math.cos((55.72 * Math.PI) / 180);
  for (let i = 0; i < STEPS; i++) {
    const km = random() < 0.95 ? 0.005 + random() * 0.025 : 0.1 + random() * 0.3;
    const angle = random() * 2 * Math.PI;
    dLat[i] = (km * Math.sin(angle)) / 111.195;
    dLng[i] = (km * Math.cos(angle)) / kmPerDegLng;
  }
  return { dLat, dLng };
}

/** Moves doctor d by step i, bouncing off the city box; updates the city's arrays in place. */
function step(
  city: SyntheticCity,
  d: number,
  i: number,
  shift: { dLat: Float64Array; dLng: Float64Array },
): void {
  const j = i & (STEPS - 1);
  let lat = (city.lat[d] as number) + (shift.dLat[j] as number);
  let lng = (city.lng[d] as number) + (shift.dLng[j] as number);
  if (lat < CITY_BOX.minLat || lat > CITY_BOX.maxLat)
    lat = (city.lat[d] as number) - (shift.dLat[j] as number);
  if (lng < CITY_BOX.minLng || lng > CITY_BOX.maxLng)
    lng = (city.lng[d] as number) - (shift.dLng[j] as number);
  city.lat[d] = lat;
  city.lng[d] = lng;
}

const bench: Bench = {
  description:
    'upserts and fixes of moving doctors, memory per doctor, snapshot size and restore time (100k, 1M)',
  async run({ reporter, sizes, seconds, verify }) {
    const shift = moves(3);
    for (const size of sizes ?? [100_000, 1_000_000]) {
      reporter.note(`-- ${size} doctors`);
      const ids = Array.from({ length: size }, (_, i) => doctorId(i));

      // Raw index: inserts, then moves.
      let city = syntheticCity(size, 1);
      const index = new FleetIndex();
      const inserts = measureSync(
        (i) => index.upsert(ids[i] as string, city.lat[i] as number, city.lng[i] as number, undefined, 0),
        { maxOps: size, warmupOps: 0, seconds: 3600, batch: BATCH },
      );
      reporter.addMeasurement(BENCH, 'tot-index', inserts, { size, op: 'insert' });
      const before = index.writeStats();
      const indexMoves = measureSync(
        (i) => {
          const d = i % size;
          step(city, d, i, shift);
          index.upsert(ids[d] as string, city.lat[d] as number, city.lng[d] as number, undefined, i);
        },
        { seconds, batch: BATCH },
      );
      reporter.addMeasurement(BENCH, 'tot-index', indexMoves, { size, op: 'move' });
      const after = index.writeStats();
      const moved = after.moves - before.moves;
      reporter.add(
        BENCH,
        'tot-index',
        'h3_lookups_per_move',
        (after.h3Lookups - before.h3Lookups) / moved,
        '',
        { size },
      );
      reporter.add(
        BENCH,
        'tot-index',
        'cell_changes_per_move',
        (after.cellChanges - before.cellChanges) / moved,
        '',
        {
          size,
        },
      );

      // The fleet: memory per doctor, then fixes.
      city = syntheticCity(size, 1);
      const memoryBefore = liveBytes();
      const fleet = buildFleet(city);
      if (canMeasureMemory()) {
        reporter.add(BENCH, 'tot', 'bytes_per_doctor', (liveBytes() - memoryBefore) / size, 'B', { size });
      }
      let ts = 10;
      const fixes = measureSync(
        (i) => {
          const d = i % size;
          if (d === 0) ts++;
          step(city, d, i, shift);
          fleet.applyFix(
            {
              doctorId: ids[d] as string,
              lat: city.lat[d] as number,
              lng: city.lng[d] as number,
              ts,
              speed: 8,
            },
            ts,
          );
        },
        { seconds, batch: BATCH },
      );
      reporter.addMeasurement(BENCH, 'tot', fixes, { size, op: 'applyFix' });
      reporter.note(`fleet: ${JSON.stringify(fleet.stats().writes)}`);

      // Snapshot.
      let t0 = performance.now();
      const bytes = fleet.toSnapshot();
      const encodeMs = performance.now() - t0;
      reporter.add(BENCH, 'snapshot', 'bytes', bytes.byteLength, 'B', { size });
      reporter.add(BENCH, 'snapshot', 'bytes_per_doctor', bytes.byteLength / size, 'B', { size });
      reporter.add(BENCH, 'snapshot', 'encode_ms', encodeMs, 'ms', { size });
      let best = Number.POSITIVE_INFINITY;
      let restored: Fleet | undefined;
      for (let run = 0; run < 2; run++) {
        restored = undefined;
        liveBytes();
        t0 = performance.now();
        restored = Fleet.fromSnapshot(bytes);
        best = Math.min(best, performance.now() - t0);
      }
      reporter.add(BENCH, 'snapshot', 'restore_ms', best, 'ms', { size });
      if (verify && restored) {
        const differences = fleetDifferences(fleet, restored);
        if (differences.length > 0) throw new Error(`restored fleet differs: ${differences.join('; ')}`);
        reporter.note('verify: restored fleet equals the original');
      }
    }
  },
};

export default bench;
