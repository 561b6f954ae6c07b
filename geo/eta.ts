/**
 * Traffic-aware ETA: the straight line from origin to destination is cut into the H3 cells it passes, each piece is
 * stretched by a detour factor (roads are longer than the crow's flight) and driven at its cell's speed from the
 * {@link TrafficField}.
 *
 * Pure: `now` is an argument. Cheap enough for the matcher's inner loop: one remembered gridPathCells plus one cell
 * centre and one map lookup per cell.
 */
import { getHexagonEdgeLengthAvg, latLngToCell, UNITS } from 'h3-js';
import { cellToLatLngCached, gridPathCellsCached, latLngToCellCached } from './h3-cache.ts';
import { haversineKm } from './distance.ts';
import { assertTime, TotError } from './errors.ts';
import type { LatLng, TrafficField } from './traffic-field.ts';

/**
 * Road distance / great-circle distance. An assumption within the range circuity studies report for urban road
 * networks (about 1.2–1.4; Ballou, Rahardja & Sakai 2002 give country averages of 1.2–1.3, Boscoe, Henry & Zdeb 2012
 * a US mean of 1.42 for trips to hospitals), picked for a radial-ring city cut by a river and railways. Not calibrated:
 * fit it from completed visits (driven distance vs. straight line) once they are recorded.
 */
export const DEFAULT_DETOUR_FACTOR = 1.3;

/**
 * Speed floor, km/h, so that a stopped detector (0 km/h) makes a cell slow rather than impassable; roughly the pace of
 * a car creeping through a standstill jam.
 */
export const DEFAULT_MIN_SPEED_KMH = 5;

/** Options of {@link etaSeconds} and {@link etaDetail}. */
export interface EtaOptions {
  /** Road distance / great-circle distance, ≥ 1. Default {@link DEFAULT_DETOUR_FACTOR}. */
  detourFactor?: number;
  /** Fixed seconds added to every trip (parking, entering the building), ≥ 0. Default 0. */
  overheadSeconds?: number;
  /** Slowest speed a cell is driven at, km/h, > 0. Default {@link DEFAULT_MIN_SPEED_KMH}. */
  minSpeedKmh?: number;
  /**
   * How to find the cells of the trip. Default `'grid-path'`: h3 gridPathCells, ≈120k calls/s for 3 km trips on one
   * core; its staircase of cells puts ≈19 % of the distance (mean over random 1–6 km Moscow trips) into neighbours of
   * the cells the straight line really crosses. `'sampled'` follows the line itself (≈3 % misplaced, ≈35–50k calls/s)
   * for callers that want the crossed cells, e.g. to explain an ETA on the map.
   */
  method?: 'grid-path' | 'sampled';
}

/** How the trip was cut into cells. */
export type EtaMethod =
  /** Origin and destination share a cell: one piece at that cell's speed. */
  | 'same-cell'
  /** h3 gridPathCells; piece boundaries where the projections of consecutive cell centres meet on the line. */
  | 'grid-path'
  /** Asked for, or gridPathCells failed (pentagon, very long trip): the great circle sampled every quarter cell edge. */
  | 'sampled';

/** One cell's share of a trip. */
export interface EtaLeg {
  cell: string;
  /** Great-circle metres of the trip inside this cell. */
  meters: number;
  speedKmh: number;
  /** Driving seconds in this cell (detour factor applied). */
  seconds: number;
}

/** The ETA with its breakdown. */
export interface EtaDetail {
  /** Driving seconds plus overhead — what {@link etaSeconds} returns. */
  seconds: number;
  drivingSeconds: number;
  overheadSeconds: number;
  /** Great-circle distance, metres. */
  distanceMeters: number;
  /** Estimated road distance, metres (great circle × detour factor). */
  roadMeters: number;
  method: EtaMethod;
  /** Pieces in travel order; empty for a zero-length trip. */
  legs: EtaLeg[];
}

/**
 * Seconds to drive from `origin` to `destination` at `now` through `field`, plus `overheadSeconds`.
 * Zero distance gives exactly the overhead. No closure, no option object, no trip object per call: once the trip's
 * cells and path are remembered (geo/h3-cache.ts) a call allocates ~0.2-0.3 KB (boxed numbers), and the matcher asks
 * for some 20 000 ETAs a second.
 *
 * @throws TotError `GEO_INVALID_COORDINATE` for a bad point, `GEO_INVALID_ARGUMENT` for a non-finite `now` or an
 *   option out of range (detourFactor < 1, overheadSeconds < 0, minSpeedKmh ≤ 0).
 */
export function etaSeconds(
  field: TrafficField,
  origin: LatLng,
  destination: LatLng,
  now: number,
  options?: EtaOptions,
): number {
  // One trip reused by every call: the calculation is synchronous and calls nothing that could ask for another ETA.
  const trip = reusedTrip.prepare(field, origin, destination, now, options, undefined);
  return trip.overheadSeconds + trip.drive();
}

/**
 * {@link etaSeconds} with its breakdown by cell. Allocates one object per cell: prefer {@link etaSeconds} in loops.
 *
 * @throws as {@link etaSeconds}.
 */
export function etaDetail(
  field: TrafficField,
  origin: LatLng,
  destination: LatLng,
  now: number,
  options?: EtaOptions,
): EtaDetail {
  const legs: EtaLeg[] = [];
  const trip = new Trip().prepare(field, origin, destination, now, options, legs);
  const drivingSeconds = trip.drive();
  return {
    seconds: trip.overheadSeconds + drivingSeconds,
    drivingSeconds,
    overheadSeconds: trip.overheadSeconds,
    distanceMeters: trip.meters,
    roadMeters: trip.meters * trip.detourFactor,
    method: trip.method,
    legs,
  };
}

const RAD = Math.PI / 180;
/** Upper bound on samples of the fallback path, so an intercontinental request costs milliseconds, not seconds. */
const MAX_SAMPLES = 4096;
/**
 * Below this, a straight line in lat/lng strays from the great circle by at most ≈ L²·tan(lat) / 8R — under 100 m at
 * 50 km and 60° — well inside a cell, and saves a few trigonometric calls per sample.
 */
const LINEAR_INTERPOLATION_LIMIT_M = 50_000;

/** One ETA's inputs and the pricing of its pieces; a class so that a call needs no closure and no option object. */
class Trip {
  field!: TrafficField;
  origin: LatLng = { lat: 0, lng: 0 };
  destination: LatLng = { lat: 0, lng: 0 };
  now = 0;
  detourFactor = DEFAULT_DETOUR_FACTOR;
  overheadSeconds = 0;
  minSpeedKmh = DEFAULT_MIN_SPEED_KMH;
  meters = 0;
  method: EtaMethod = 'grid-path';
  originCell = '';
  destinationCell = '';
  /** Free-flow speed of `now`'s hour, km/h. */
  freeFlowKmh = 0;
  legs: EtaLeg[] | undefined;

  /** Validates the inputs and options and sets every field. */
  prepare(
    field: TrafficField,
    origin: LatLng,
    destination: LatLng,
    now: number,
    options: EtaOptions | undefined,
    legs: EtaLeg[] | undefined,
  ): this {
    const detourFactor = options?.detourFactor ?? DEFAULT_DETOUR_FACTOR;
    const overheadSeconds = options?.overheadSeconds ?? 0;
    const minSpeedKmh = options?.minSpeedKmh ?? DEFAULT_MIN_SPEED_KMH;
    const method = options?.method ?? 'grid-path';
    if (!Number.isFinite(detourFactor) || detourFactor < 1) {
      throw invalidOption('detourFactor', detourFactor, 'a finite number ≥ 1');
    }
    if (!Number.isFinite(overheadSeconds) || overheadSeconds < 0) {
      throw invalidOption('overheadSeconds', overheadSeconds, 'a finite number ≥ 0');
    }
    if (!Number.isFinite(minSpeedKmh) || minSpeedKmh <= 0) {
      throw invalidOption('minSpeedKmh', minSpeedKmh, 'a finite number > 0');
    }
    if (method !== 'grid-path' && method !== 'sampled') {
      throw invalidOption('method', method, "'grid-path' or 'sampled'");
    }
    assertPoint(origin, 'origin');
    assertPoint(destination, 'destination');
    assertTime(now);
    this.field = field;
    this.origin = origin;
    this.destination = destination;
    this.now = now;
    this.detourFactor = detourFactor;
    this.overheadSeconds = overheadSeconds;
    this.minSpeedKmh = minSpeedKmh;
    this.legs = legs;
    this.originCell = latLngToCellCached(origin.lat, origin.lng, field.resolution);
    this.destinationCell = latLngToCellCached(destination.lat, destination.lng, field.resolution);
    this.meters = 1000 * haversineKm(origin.lat, origin.lng, destination.lat, destination.lng);
    this.method = this.originCell === this.destinationCell ? 'same-cell' : method;
    return this;
  }

  /** Driving seconds of the trip; fills `legs` when given. May switch `method` to `'sampled'`. */
  drive(): number {
    if (this.meters === 0) return 0;
    this.freeFlowKmh = this.field.freeFlowAt(this.now);
    if (this.method === 'same-cell') return this.piece(this.originCell, this.meters);
    if (this.method === 'sampled') return driveSampled(this);
    let path: readonly string[] | undefined;
    try {
      path = gridPathCellsCached(this.originCell, this.destinationCell);
    } catch {
      path = undefined;
    }
    if (path === undefined || path.length < 2) {
      this.method = 'sampled';
      return driveSampled(this);
    }
    return driveGridPath(this, path);
  }

  /** Seconds to drive `meters` of the straight line inside `cell`, detour included; recorded in `legs`. */
  piece(cell: string, meters: number): number {
    const speed = Math.max(this.minSpeedKmh, this.field.cellSpeedKmh(cell, this.now, this.freeFlowKmh));
    // km/h → m/s folded with the detour: seconds = meters × detour / (speed / 3.6).
    const seconds = (meters * this.detourFactor * 3.6) / speed;
    this.legs?.push({ cell, meters, speedKmh: speed, seconds });
    return seconds;
  }
}

const reusedTrip = new Trip();

/**
 * Cuts the line where the projections of consecutive cell centres onto it meet (half-way between them). That follows
 * where the line really crosses cells better than equal shares — in particular the first and last cells get only the
 * part between the point and the boundary; over random 1–6 km Moscow trips 19 % of the distance lands in a neighbour
 * of the right cell against 28 % for equal shares — at the cost of one cellToLatLng per cell. The projection uses a
 * local equirectangular plane, exact enough at city scale; the shares always add up to the whole distance.
 */
function driveGridPath(trip: Trip, path: readonly string[]): number {
  const { origin, destination } = trip;
  const cosLat = Math.cos(((origin.lat + destination.lat) / 2) * RAD);
  const dx = wrapLng(destination.lng - origin.lng) * cosLat;
  const dy = destination.lat - origin.lat;
  const lengthSquared = dx * dx + dy * dy;
  // Where along the line (0 at the origin, 1 at the destination) a cell centre projects. Written out rather than as a
  // closure: the closure with its destructured centre cost ~0.6 KB of garbage per ETA.
  let centre = cellToLatLngCached(path[0] as string);
  let current =
    (wrapLng(centre[1] - origin.lng) * cosLat * dx + (centre[0] - origin.lat) * dy) / lengthSquared;
  let seconds = 0;
  let start = 0;
  const last = path.length - 1;
  for (let i = 0; i < last; i += 1) {
    centre = cellToLatLngCached(path[i + 1] as string);
    const next =
      (wrapLng(centre[1] - origin.lng) * cosLat * dx + (centre[0] - origin.lat) * dy) / lengthSquared;
    // Clamped and kept monotone: grid paths may step sideways, and such a cell then gets a zero-length piece.
    const end = Math.min(1, Math.max(start, (current + next) / 2));
    seconds += trip.piece(path[i] as string, (end - start) * trip.meters);
    start = end;
    current = next;
  }
  return seconds + trip.piece(path[last] as string, (1 - start) * trip.meters);
}

/**
 * Samples the line every quarter cell edge and merges consecutive samples that fall into the same cell: each cell
 * boundary is then placed within an eighth of an edge of where the line crosses it.
 */
function driveSampled(trip: Trip): number {
  const field = trip.field;
  const samples = Math.min(
    MAX_SAMPLES,
    Math.max(1, Math.ceil(trip.meters / sampleStepMeters(field.resolution))),
  );
  const step = trip.meters / samples;
  const interpolate = greatCircleInterpolator(trip.origin, trip.destination, trip.meters);
  let seconds = 0;
  let runCell = '';
  let runMeters = 0;
  for (let k = 0; k < samples; k += 1) {
    const [lat, lng] = interpolate((k + 0.5) / samples);
    const cell = latLngToCell(lat, lng, field.resolution);
    if (cell === runCell) {
      runMeters += step;
      continue;
    }
    if (runMeters > 0) seconds += trip.piece(runCell, runMeters);
    runCell = cell;
    runMeters = step;
  }
  return seconds + trip.piece(runCell, runMeters);
}

const sampleSteps: number[] = [];

function sampleStepMeters(resolution: number): number {
  return (sampleSteps[resolution] ??= getHexagonEdgeLengthAvg(resolution, UNITS.m) / 4);
}

function greatCircleInterpolator(
  from: LatLng,
  to: LatLng,
  meters: number,
): (fraction: number) => [number, number] {
  if (meters < LINEAR_INTERPOLATION_LIMIT_M) {
    const dLng = wrapLng(to.lng - from.lng);
    return (fraction) => [from.lat + (to.lat - from.lat) * fraction, wrapLng(from.lng + dLng * fraction)];
  }
  const a = unitVector(from.lat, from.lng);
  const b = unitVector(to.lat, to.lng);
  const cosAngle = Math.min(1, Math.max(-1, a[0] * b[0] + a[1] * b[1] + a[2] * b[2]));
  const angle = Math.acos(cosAngle);
  const sinAngle = Math.sin(angle);
  return (fraction) => {
    // Antipodes have no unique great circle and near-zero angles lose precision; a straight blend is fine for both.
    const wa = sinAngle < 1e-12 ? 1 - fraction : Math.sin((1 - fraction) * angle) / sinAngle;
    const wb = sinAngle < 1e-12 ? fraction : Math.sin(fraction * angle) / sinAngle;
    const x = wa * a[0] + wb * b[0];
    const y = wa * a[1] + wb * b[1];
    const z = wa * a[2] + wb * b[2];
    return [Math.atan2(z, Math.hypot(x, y)) / RAD, Math.atan2(y, x) / RAD];
  };
}

function unitVector(lat: number, lng: number): [number, number, number] {
  const phi = lat * RAD;
  const lambda = lng * RAD;
  return [Math.cos(phi) * Math.cos(lambda), Math.cos(phi) * Math.sin(lambda), Math.sin(phi)];
}

function wrapLng(delta: number): number {
  if (delta > 180) return delta - 360;
  if (delta < -180) return delta + 360;
  return delta;
}

function assertPoint(point: LatLng, name: string): void {
  const lat = point?.lat;
  const lng = point?.lng;
  if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
    throw new TotError(
      'GEO_INVALID_COORDINATE',
      `${name}.lat must be a finite number in [-90, 90], got ${String(lat)}`,
      {
        field: `${name}.lat`,
        value: lat,
      },
    );
  }
  if (typeof lng !== 'number' || !Number.isFinite(lng) || lng < -180 || lng > 180) {
    throw new TotError(
      'GEO_INVALID_COORDINATE',
      `${name}.lng must be a finite number in [-180, 180], got ${String(lng)}`,
      {
        field: `${name}.lng`,
        value: lng,
      },
    );
  }
}

function invalidOption(field: string, value: unknown, expected: string): TotError {
  return new TotError('GEO_INVALID_ARGUMENT', `options.${field} must be ${expected}, got ${String(value)}`, {
    field,
    value,
  });
}
