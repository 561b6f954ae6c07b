/**
 * A brute-force model of the fleet index for tests: a plain array of points, queried by sorting all of them.
 */
import { booleanPointInPolygon } from '@turf/turf';
import fc from 'fast-check';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import { haversineKm } from '../../../geo/distance.ts';
import { FleetIndex, type PointFilter } from '../../../geo/fleet-index.ts';

export interface ModelPoint {
  id: string;
  lat: number;
  lng: number;
  status: number;
  tags: number;
}

export interface ModelHit {
  id: string;
  distanceKm: number;
}

export function matches(point: ModelPoint, filter: PointFilter): boolean {
  const statusMask = filter.statusMask ?? 0xffffffff;
  if (((statusMask >>> point.status) & 1) === 0) return false;
  const tagsAll = filter.tagsAll ?? 0;
  if ((point.tags & tagsAll) >>> 0 !== tagsAll >>> 0) return false;
  if (filter.tagsAny && (point.tags & filter.tagsAny) === 0) return false;
  return true;
}

/** Every matching point sorted by (haversine distance, id), cut to k and maxKm. */
export function bruteNearby(
  points: Iterable<ModelPoint>,
  lat: number,
  lng: number,
  options: PointFilter & { k: number; maxKm?: number },
): ModelHit[] {
  const hits: ModelHit[] = [];
  for (const point of points) {
    if (!matches(point, options)) continue;
    if (options.predicate && !options.predicate(point.id, -1)) continue;
    const distanceKm = haversineKm(lat, lng, point.lat, point.lng);
    if (options.maxKm !== undefined && distanceKm > options.maxKm) continue;
    hits.push({ id: point.id, distanceKm });
  }
  hits.sort((a, b) => a.distanceKm - b.distanceKm || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return hits.slice(0, options.k);
}

/** Ids of the matching points inside the area by turf, sorted. */
export function bruteWithin(
  points: Iterable<ModelPoint>,
  area: Polygon | MultiPolygon | Feature<Polygon | MultiPolygon>,
  filter: PointFilter = {},
): string[] {
  const ids: string[] = [];
  for (const point of points) {
    if (matches(point, filter) && booleanPointInPolygon([point.lng, point.lat], area)) ids.push(point.id);
  }
  return ids.sort();
}

/** Builds an index holding the points. */
export function indexOf(points: readonly ModelPoint[], resolution = 9): FleetIndex {
  const index = new FleetIndex({ resolution, initialCapacity: 4 });
  for (const point of points) index.upsert(point.id, point.lat, point.lng, point, 0);
  return index;
}

/** Result of FleetIndex.nearby without slots, for comparison with the model. */
export function hitsOf(
  index: FleetIndex,
  lat: number,
  lng: number,
  options: Parameters<FleetIndex['nearby']>[2],
) {
  return index.nearby(lat, lng, options).map(({ id, distanceKm }) => ({ id, distanceKm }));
}

/** A box around central Moscow, ≈2 km across: several points per res-9 cell. */
export const BOX = { minLat: 55.74, maxLat: 55.76, minLng: 37.6, maxLng: 37.635 };

/**
 * Points in the box; half of them on a coarse lattice so that exact ties in distance (broken by id) are common.
 */
export function pointsArbitrary(maxLength: number): fc.Arbitrary<ModelPoint[]> {
  const coordinate = fc.oneof(
    fc.record({
      lat: fc.double({ min: BOX.minLat, max: BOX.maxLat, noNaN: true }),
      lng: fc.double({ min: BOX.minLng, max: BOX.maxLng, noNaN: true }),
    }),
    fc.record({
      lat: fc.integer({ min: 0, max: 20 }).map((i) => BOX.minLat + i * 0.001),
      lng: fc.integer({ min: 0, max: 35 }).map((i) => BOX.minLng + i * 0.001),
    }),
  );
  return fc
    .array(
      fc.record({
        coordinate,
        status: fc.integer({ min: 0, max: 3 }),
        tags: fc.integer({ min: 0, max: 7 }),
      }),
      { maxLength },
    )
    .map((rows) =>
      rows.map((row, i) => ({
        id: `d${String(i).padStart(4, '0')}`,
        lat: row.coordinate.lat,
        lng: row.coordinate.lng,
        status: row.status,
        tags: row.tags,
      })),
    );
}
