/**
 * Great-circle distances on a spherical Earth.
 *
 * The sphere has the IUGG mean radius R1 = (2a + b) / 3 of the WGS 84 ellipsoid, 6371.0088 km. Haversine on that
 * sphere differs from the ellipsoidal (Vincenty) distance by at most ~0.5 %, far below GPS noise at city scale, and it
 * is also what Redis GEO uses (with a slightly different radius). Every distance the project reports goes through
 * {@link haversineKmCos}, so two modules that compute the distance between the same two points get the same
 * floating-point number (tests compare the fleet index against a brute-force sort exactly).
 */

/** Mean Earth radius in km (IUGG R1 of WGS 84). */
export const EARTH_RADIUS_KM = 6371.0088;

/** Degrees → radians factor. */
export const RAD_PER_DEG = Math.PI / 180;

/** Length of one degree of latitude (and of longitude on the equator) on the sphere, in km (≈ 111.195). */
export const KM_PER_DEGREE = EARTH_RADIUS_KM * RAD_PER_DEG;

/**
 * Haversine great-circle distance in km between two points given in degrees. Symmetric bit for bit; never throws
 * (NaN in, NaN out — validate at the boundary with `assertLatLng`). Rounding error is far below a millimetre except
 * for nearly antipodal points, where asin of a value ≈ 1 keeps half the digits (errors up to about a metre).
 */
export function haversineKm(lat1: number, lng1: number, lat2: number, lng2: number): number {
  return haversineKmCos(lat1, lng1, Math.cos(lat1 * RAD_PER_DEG), lat2, lng2, Math.cos(lat2 * RAD_PER_DEG));
}

/**
 * {@link haversineKm} with the cosines of both latitudes supplied by the caller (the fleet index keeps them per point).
 * `cosLat1` must be exactly `Math.cos(lat1 * RAD_PER_DEG)` (likewise `cosLat2`); the result is then bit-identical to
 * `haversineKm(lat1, lng1, lat2, lng2)`.
 */
export function haversineKmCos(
  lat1: number,
  lng1: number,
  cosLat1: number,
  lat2: number,
  lng2: number,
  cosLat2: number,
): number {
  const sinHalfDLat = Math.sin(((lat2 - lat1) * RAD_PER_DEG) / 2);
  const sinHalfDLng = Math.sin(((lng2 - lng1) * RAD_PER_DEG) / 2);
  const a = sinHalfDLat * sinHalfDLat + cosLat1 * cosLat2 * sinHalfDLng * sinHalfDLng;
  // a can exceed 1 by an ulp for antipodal points; clamp so asin never returns NaN.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(a < 1 ? a : 1));
}

/** Cartesian unit vector of a point on the sphere: [x, y, z] with z towards the north pole. */
export function latLngToUnitVector(lat: number, lng: number): [number, number, number] {
  const phi = lat * RAD_PER_DEG;
  const lambda = lng * RAD_PER_DEG;
  const cosPhi = Math.cos(phi);
  return [cosPhi * Math.cos(lambda), cosPhi * Math.sin(lambda), Math.sin(phi)];
}

/**
 * Distance in km from a point to the whole great circle through two other points (the cross-track distance, unsigned).
 * It is a lower bound of the distance to the arc between them, which is what the fleet index needs to bound how far
 * a cell's edges are from its centre. Returns NaN when the two points coincide or are antipodal (no unique circle).
 */
export function crossTrackKm(
  lat: number,
  lng: number,
  fromLat: number,
  fromLng: number,
  toLat: number,
  toLng: number,
): number {
  const [px, py, pz] = latLngToUnitVector(lat, lng);
  const [ax, ay, az] = latLngToUnitVector(fromLat, fromLng);
  const [bx, by, bz] = latLngToUnitVector(toLat, toLng);
  // Normal of the great-circle plane: a × b.
  const nx = ay * bz - az * by;
  const ny = az * bx - ax * bz;
  const nz = ax * by - ay * bx;
  const norm = Math.sqrt(nx * nx + ny * ny + nz * nz);
  if (norm === 0) return Number.NaN;
  const sinDistance = Math.abs(px * nx + py * ny + pz * nz) / norm;
  return EARTH_RADIUS_KM * Math.asin(sinDistance < 1 ? sinDistance : 1);
}
