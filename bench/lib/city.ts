/**
 * A synthetic city for benchmarks: doctors uniform over a Moscow-sized box (lng 37.35–37.85, lat 55.55–55.90,
 * ≈31 × 39 km), 30 % of them available, deterministic for a seed.
 */
import { seededRandom } from './random.ts';

/** The box doctors and query points are drawn from. */
export const CITY_BOX = { minLat: 55.55, maxLat: 55.9, minLng: 37.35, maxLng: 37.85 } as const;

/** Share of doctors that are available. */
export const AVAILABLE_SHARE = 0.3;

export interface SyntheticCity {
  size: number;
  lat: Float64Array;
  lng: Float64Array;
  /** 1 for an available doctor. */
  available: Uint8Array;
  /** Number of available doctors. */
  availableCount: number;
}

/** Id of the i-th doctor; a new string on every call, as ids decoded from messages would be. */
export function doctorId(i: number): string {
  return `doctor-${i}`;
}

/** `size` doctors uniform over {@link CITY_BOX}. */
export function syntheticCity(size: number, seed = 1): SyntheticCity {
  const random = seededRandom(seed);
  const lat = new Float64Array(size);
  const lng = new Float64Array(size);
  const available = new Uint8Array(size);
  let availableCount = 0;
  for (let i = 0; i < size; i++) {
    lat[i] = CITY_BOX.minLat + random() * (CITY_BOX.maxLat - CITY_BOX.minLat);
    lng[i] = CITY_BOX.minLng + random() * (CITY_BOX.maxLng - CITY_BOX.minLng);
    if (random() < AVAILABLE_SHARE) {
      available[i] = 1;
      availableCount++;
    }
  }
  return { size, lat, lng, available, availableCount };
}

/** `count` query points uniform over the box, as interleaved [lat, lng]. */
export function queryPoints(count: number, seed = 2): Float64Array {
  const random = seededRandom(seed);
  const points = new Float64Array(2 * count);
  for (let i = 0; i < count; i++) {
    points[2 * i] = CITY_BOX.minLat + random() * (CITY_BOX.maxLat - CITY_BOX.minLat);
    points[2 * i + 1] = CITY_BOX.minLng + random() * (CITY_BOX.maxLng - CITY_BOX.minLng);
  }
  return points;
}
