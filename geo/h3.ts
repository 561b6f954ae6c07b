/**
 * Thin, validated helpers over h3-js. h3-js itself throws on some bad input and silently returns garbage on other
 * (NaN coordinates give a cell); these helpers turn every bad argument into a coded {@link TotError} that names the
 * field and the value, and add the per-cell geometry the fleet index needs.
 */
import * as h3 from 'h3-js';
import { crossTrackKm, haversineKm } from './distance.ts';
import { TotError, assertLatLng } from './errors.ts';

/** An H3 cell index in h3-js's 15-hex-digit string form, e.g. `8911aa6a4a7ffff`. */
export type H3Cell = string;

/** The finest H3 resolution. */
export const MAX_H3_RESOLUTION = 15;

/** Throws `GEO_INVALID_RESOLUTION` unless `res` is an integer in [0, 15]. */
export function assertResolution(res: number, field = 'res'): void {
  if (!Number.isInteger(res) || res < 0 || res > MAX_H3_RESOLUTION) {
    throw new TotError(
      'GEO_INVALID_RESOLUTION',
      `${field} must be an integer in [0, ${MAX_H3_RESOLUTION}], got ${String(res)}`,
      {
        field,
        value: res,
      },
    );
  }
}

/** Throws `GEO_INVALID_CELL` unless `cell` is a valid H3 cell index string. */
export function assertCell(cell: string, field = 'cell'): void {
  if (typeof cell !== 'string' || !h3.isValidCell(cell)) {
    throw new TotError('GEO_INVALID_CELL', `${field} must be a valid H3 cell index, got ${String(cell)}`, {
      field,
      value: cell,
    });
  }
}

/**
 * The H3 cell of resolution `res` containing the point.
 * @throws TotError `GEO_INVALID_COORDINATE` for NaN, ±Infinity or out-of-range lat/lng; `GEO_INVALID_RESOLUTION`.
 */
export function latLngToCell(lat: number, lng: number, res: number): H3Cell {
  assertLatLng(lat, lng);
  assertResolution(res);
  return h3.latLngToCell(lat, lng, res);
}

/**
 * The centre of a cell as `[lat, lng]` in degrees.
 * @throws TotError `GEO_INVALID_CELL`.
 */
export function cellToLatLng(cell: H3Cell): [number, number] {
  assertCell(cell);
  return h3.cellToLatLng(cell);
}

/**
 * Resolution of a cell.
 * @throws TotError `GEO_INVALID_CELL`.
 */
export function cellResolution(cell: H3Cell): number {
  assertCell(cell);
  return h3.getResolution(cell);
}

/**
 * The cells sharing an edge with `cell` (6 for a hexagon, 5 for a pentagon), in h3-js order.
 * @throws TotError `GEO_INVALID_CELL`.
 */
export function cellNeighbors(cell: H3Cell): H3Cell[] {
  assertCell(cell);
  return h3.gridDisk(cell, 1).filter((neighbor) => neighbor !== cell);
}

/**
 * The ancestor of `cell` at the coarser (or equal) resolution `res`.
 * @throws TotError `GEO_INVALID_CELL`; `GEO_INVALID_RESOLUTION` when `res` is not in [0, resolution of cell].
 */
export function cellToParent(cell: H3Cell, res: number): H3Cell {
  assertCell(cell);
  assertResolution(res);
  const own = h3.getResolution(cell);
  if (res > own) {
    throw new TotError(
      'GEO_INVALID_RESOLUTION',
      `res must not be finer than the cell's resolution ${own}, got ${res}`,
      {
        field: 'res',
        value: res,
        cellResolution: own,
      },
    );
  }
  return h3.cellToParent(cell, res);
}

/** Whether the cell is one of the 12 pentagons of its resolution. @throws TotError `GEO_INVALID_CELL`. */
export function isPentagon(cell: H3Cell): boolean {
  assertCell(cell);
  return h3.isPentagon(cell);
}

/** Geometry of one cell, as the fleet index uses it to bound distances. */
export interface CellGeometry {
  /** Centre latitude, degrees. */
  lat: number;
  /** Centre longitude, degrees. */
  lng: number;
  /**
   * Circumradius: the largest great-circle distance from the centre to a boundary vertex, in km. The cell's edges
   * are great-circle arcs (gnomonic projection of straight lines), so no point of the cell is farther from the centre.
   */
  outerKm: number;
  /**
   * Inradius lower bound: the smallest distance from the centre to the great circles through the cell's edges, in km.
   * Every point closer than this to the centre lies in the cell (the open disk meets no edge and contains the centre).
   */
  innerKm: number;
  /** Number of boundary vertices: 6 for a plain hexagon, 5 for a pentagon, more where H3 adds distortion vertices. */
  vertexCount: number;
}

/**
 * Centre, circumradius and inradius bound of a cell from its boundary vertices.
 * @throws TotError `GEO_INVALID_CELL`.
 */
export function cellGeometry(cell: H3Cell): CellGeometry {
  assertCell(cell);
  const [lat, lng] = h3.cellToLatLng(cell);
  const boundary = h3.cellToBoundary(cell);
  let outerKm = 0;
  let innerKm = Number.POSITIVE_INFINITY;
  for (let i = 0; i < boundary.length; i++) {
    const from = boundary[i] as [number, number];
    const to = boundary[(i + 1) % boundary.length] as [number, number];
    outerKm = Math.max(outerKm, haversineKm(lat, lng, from[0], from[1]));
    const edgeKm = crossTrackKm(lat, lng, from[0], from[1], to[0], to[1]);
    // A degenerate edge (coincident vertices) gives NaN: no usable inradius, the cell gets no fast path.
    innerKm = Number.isNaN(edgeKm) ? 0 : Math.min(innerKm, edgeKm);
    if (innerKm === 0) break;
  }
  return { lat, lng, outerKm, innerKm: Number.isFinite(innerKm) ? innerKm : 0, vertexCount: boundary.length };
}

/** Average hexagon area at a resolution, km². @throws TotError `GEO_INVALID_RESOLUTION`. */
export function averageCellAreaKm2(res: number): number {
  assertResolution(res);
  return h3.getHexagonAreaAvg(res, h3.UNITS.km2);
}

/** GeoJSON-ordered polygon rings: `[[lng, lat], …]` for the outer ring, then holes. */
export type PolygonRings = readonly (readonly (readonly number[])[])[];

/** How {@link polygonToCells} decides that a cell belongs to the polygon. */
export type PolygonContainment = 'center' | 'full' | 'overlapping';

const CONTAINMENT_FLAGS: Record<PolygonContainment, string> = {
  center: h3.POLYGON_TO_CELLS_FLAGS.containmentCenter,
  full: h3.POLYGON_TO_CELLS_FLAGS.containmentFull,
  overlapping: h3.POLYGON_TO_CELLS_FLAGS.containmentOverlapping,
};

/**
 * Cells of resolution `res` that belong to a GeoJSON polygon (rings of `[lng, lat]`): whose centre lies inside
 * (`center`, H3's classic polygonToCells), that lie wholly inside (`full`), or that share any point with it
 * (`overlapping`, a covering: no point of the polygon lies outside the union of these cells).
 * @throws TotError `GEO_INVALID_RESOLUTION`; `GEO_INVALID_POLYGON` when h3 rejects the rings.
 */
export function polygonToCells(rings: PolygonRings, res: number, containment: PolygonContainment): H3Cell[] {
  assertResolution(res);
  try {
    return h3.polygonToCellsExperimental(rings as number[][][], res, CONTAINMENT_FLAGS[containment], true);
  } catch (error) {
    throw new TotError('GEO_INVALID_POLYGON', `polygon rejected by H3: ${(error as Error).message}`, {
      field: 'polygon',
      res,
    });
  }
}
