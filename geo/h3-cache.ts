/**
 * Remembered h3-js answers for the hot read paths (ETAs, nearest-doctor searches): the cell of a point, the centre of
 * a cell and the grid path between two cells. A batch of bookings asks for the same points over and over — a
 * booking's position once per candidate doctor, a doctor's position once per booking that considers them and again
 * for the doctor's coverage gap — and an h3-js call costs ~0.8 µs and a string, where a remembered answer costs a
 * hash and a comparison (~0.1 µs).
 *
 * The answers are exact: the cell of a point is remembered with the point's exact coordinates and resolution, and a
 * different point in the same slot simply replaces it. Inputs are not validated here: callers validate their points.
 */
import { cellToLatLng, gridPathCells, latLngToCell } from 'h3-js';

/**
 * Slots of the point → cell table (a power of two). A batch of a thousand bookings asks for ~20 000 points (the
 * bookings, their ~10 000 candidate doctors, and the doctors nearest to those for the coverage gaps): 2^16 slots
 * keep them from evicting each other within the batch, for ~1.4 MB. (2^14 missed often enough that h3-js's cells
 * and their strings were 5 % of everything the server allocated at 1k bookings/s.)
 */
const POINT_BITS = 16;
const POINT_SLOTS = 1 << POINT_BITS;
const POINT_SHIFT = 32 - POINT_BITS;

const pointLat = new Float64Array(POINT_SLOTS).fill(Number.NaN);
const pointLng = new Float64Array(POINT_SLOTS);
const pointRes = new Int8Array(POINT_SLOTS);
const pointCell: string[] = new Array<string>(POINT_SLOTS).fill('');

/** The coordinates' bits, for the hash. */
const coordinates = new Float64Array(2);
const words = new Int32Array(coordinates.buffer);

/**
 * `h3.latLngToCell(lat, lng, res)`, remembered. The caller has validated the point and the resolution (h3-js returns
 * a cell for NaN coordinates; NaN is never remembered, as it equals nothing).
 */
export function latLngToCellCached(lat: number, lng: number, res: number): string {
  coordinates[0] = lat;
  coordinates[1] = lng;
  // The low words hold the last bits of the mantissas: they differ between any two real positions.
  const hash = Math.imul(
    (words[0] as number) ^ Math.imul(words[2] as number, 0x85ebca6b) ^ (words[1] as number) ^ res,
    0x9e3779b1,
  );
  const slot = hash >>> POINT_SHIFT;
  if (pointLat[slot] === lat && pointLng[slot] === lng && pointRes[slot] === res)
    return pointCell[slot] as string;
  const cell = latLngToCell(lat, lng, res);
  pointLat[slot] = lat;
  pointLng[slot] = lng;
  pointRes[slot] = res;
  pointCell[slot] = cell;
  return cell;
}

/** Centres kept before the table starts over: a city's cells at the traffic resolution, many times over. */
const MAX_CENTRES = 1 << 16;
const centres = new Map<string, readonly [number, number]>();

/** `h3.cellToLatLng(cell)` as `[lat, lng]`, remembered; the array is shared, never change it. `cell` is valid. */
export function cellToLatLngCached(cell: string): readonly [number, number] {
  let centre = centres.get(cell);
  if (centre === undefined) {
    if (centres.size >= MAX_CENTRES) centres.clear();
    centre = cellToLatLng(cell) as [number, number];
    centres.set(cell, centre);
  }
  return centre;
}

/**
 * Paths kept before the table starts over. A city at the traffic resolution has a few thousand cells and a trip to a
 * candidate doctor stays within a few kilometres, so the pairs asked for are some 10⁵; a path of 5 cells takes ~0.2
 * KB, the table at most ~25 MB.
 */
const MAX_PATHS = 1 << 17;
const paths = new Map<string, Map<string, readonly string[]>>();
let pathCount = 0;

/**
 * `h3.gridPathCells(origin, destination)`, remembered; the array is shared, never change it. Both cells are valid and
 * of one resolution. A path h3-js cannot find (across a pentagon, or too long) is not remembered: the call throws as
 * h3-js does, every time.
 *
 * The call costs ~3 µs and ~1 KB (an array and a string per cell) for a trip across town; the ETA of every candidate
 * doctor asks for one, so a batch of a thousand bookings asked ~20 000 of them a second.
 */
export function gridPathCellsCached(origin: string, destination: string): readonly string[] {
  let fromOrigin = paths.get(origin);
  let path = fromOrigin?.get(destination);
  if (path === undefined) {
    path = gridPathCells(origin, destination);
    if (pathCount >= MAX_PATHS) {
      paths.clear();
      pathCount = 0;
      fromOrigin = undefined;
    }
    if (fromOrigin === undefined) {
      fromOrigin = new Map();
      paths.set(origin, fromOrigin);
    }
    fromOrigin.set(destination, path);
    pathCount += 1;
  }
  return path;
}
