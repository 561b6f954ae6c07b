/**
 * Remembered h3-js answers for the hot read paths (ETAs, nearest-doctor searches): the cell of a point and the centre
 * of a cell. A batch of bookings asks for the same points over and over — a booking's position once per candidate
 * doctor, a doctor's position once per booking that considers them and again for the doctor's coverage gap — and an
 * h3-js call costs ~0.8 µs and a string, where a remembered answer costs a hash and a comparison (~0.1 µs).
 *
 * The answers are exact: the cell of a point is remembered with the point's exact coordinates and resolution, and a
 * different point in the same slot simply replaces it. Inputs are not validated here: callers validate their points.
 */
import { cellToLatLng, latLngToCell } from 'h3-js';

/** Slots of the point → cell table (a power of two): a batch's working set, ~0.3 MB. */
const POINT_SLOTS = 1 << 14;
const POINT_SHIFT = 32 - 14;

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
