/**
 * Area queries of the fleet index: the points inside a polygon, and point counts per coarser H3 cell.
 *
 * `within` is exact with respect to turf's booleanPointInPolygon (edges straight in lng/lat, boundary included).
 * Candidates come from an H3 covering at the index's resolution: the cells overlapping the polygon plus the
 * neighbours of those only partly covered. The neighbours matter because H3 draws cells with great-circle edges
 * while the covering compares straight-edged outlines: a point may lie a millimetre outside its cell's outline,
 * inside the outline of a neighbour that overlaps the polygon. A cell is taken whole (no per-point test) only when
 * it and all its neighbours lie fully inside the polygon, so that the polygon's edge is at least a cell away.
 */
import * as h3 from 'h3-js';
import { KM_PER_DEGREE, RAD_PER_DEG } from './distance.ts';
import {
  type CellTable,
  NEIGHBORS_PER_CELL,
  NO_CELL,
  RECORD_ENTRY,
  RECORD_LAT,
  RECORD_LNG,
  RECORD_STRIDE,
} from './fleet-index-cells.ts';
import { type PreparedArea, areaContains } from './fleet-index-polygon.ts';
import {
  type CompiledFilter,
  type PointColumns,
  type QueryCost,
  type WithinHit,
  acceptsAll,
  matchingSlot,
} from './fleet-index-types.ts';
import { type H3Cell, averageCellAreaKm2, polygonToCells } from './h3.ts';

/** The H3 covering is used when the polygon's bounding box spans at most this many cells; else every point is tested. */
const MAX_COVER_CELLS = 20_000;

/** Matching points inside the area, in no particular order. Adds its work to `cost`. */
export function pointsWithin(
  cells: CellTable,
  prepared: PreparedArea,
  filter: CompiledFilter,
  points: PointColumns,
  cost: QueryCost,
): WithinHit[] {
  const hits: WithinHit[] = [];
  const [minLng, minLat, maxLng, maxLat] = prepared.bbox;
  const bboxKm2 =
    (maxLat - minLat) *
    KM_PER_DEGREE *
    (maxLng - minLng) *
    KM_PER_DEGREE *
    Math.cos(((minLat + maxLat) / 2) * RAD_PER_DEG);
  const coverCells = bboxKm2 / averageCellAreaKm2(cells.resolution);
  // Beyond 180° of longitude H3 reads the polygon as crossing the antimeridian while turf does not: test every point.
  if (maxLng - minLng >= 180 || coverCells > MAX_COVER_CELLS || cells.nonEmpty === 0) {
    cost.linearScans = 1;
    for (let c = 0; c < cells.highWater; c++) {
      if ((cells.count[c] as number) > 0) scanCell(cells, c, prepared, filter, points, cost, hits, true);
    }
    return hits;
  }
  const full = new Set<H3Cell>();
  const overlapping: H3Cell[] = [];
  for (const polygon of prepared.polygons) {
    for (const cell of polygonToCells(polygon, cells.resolution, 'full')) full.add(cell);
    for (const cell of polygonToCells(polygon, cells.resolution, 'overlapping')) overlapping.push(cell);
  }
  const epoch = cells.nextEpoch();
  const visit = (c: number): void => {
    if (c === NO_CELL || cells.stamp[c] === epoch) return;
    cells.stamp[c] = epoch;
    if ((cells.count[c] as number) === 0) return;
    let whole = full.has(cells.cellIds[c] as H3Cell);
    if (whole) {
      if (cells.linked[c] === 0) cost.cellsCreated += cells.link(c);
      const base = c * NEIGHBORS_PER_CELL;
      if (cells.neighbors[base + NEIGHBORS_PER_CELL - 1] === NO_CELL) whole = false;
      for (let i = 0; i < NEIGHBORS_PER_CELL && whole; i++) {
        const n = cells.neighbors[base + i] as number;
        if (n !== NO_CELL && !full.has(cells.cellIds[n] as H3Cell)) whole = false;
      }
    }
    scanCell(cells, c, prepared, filter, points, cost, hits, !whole);
  };
  for (const cell of overlapping) {
    visit(cells.find(cell));
    if (!full.has(cell)) for (const neighbor of h3.gridDisk(cell, 1)) visit(cells.find(neighbor));
  }
  return hits;
}

function scanCell(
  cells: CellTable,
  c: number,
  prepared: PreparedArea,
  filter: CompiledFilter,
  points: PointColumns,
  cost: QueryCost,
  hits: WithinHit[],
  testArea: boolean,
): void {
  const records = cells.records[c] as Float64Array;
  const end = (cells.count[c] as number) * RECORD_STRIDE;
  cost.cellsVisited++;
  cost.candidatesChecked += end / RECORD_STRIDE;
  for (let at = 0; at < end; at += RECORD_STRIDE) {
    const slot = matchingSlot(records[at + RECORD_ENTRY] as number, filter, points);
    if (slot < 0) continue;
    if (testArea) {
      cost.distancesComputed++;
      if (!areaContains(prepared, records[at + RECORD_LAT] as number, records[at + RECORD_LNG] as number))
        continue;
    }
    hits.push({ id: points.ids[slot] as string, slot });
  }
}

/** Matching points per ancestor cell at resolution `res` (≤ the table's); only non-zero counts appear. */
export function countPointsByCell(
  cells: CellTable,
  res: number,
  filter: CompiledFilter,
  points: PointColumns,
): Map<H3Cell, number> {
  const everyPoint = acceptsAll(filter);
  const counts = new Map<H3Cell, number>();
  for (let c = 0; c < cells.highWater; c++) {
    const count = cells.count[c] as number;
    if (count === 0) continue;
    let n = count;
    if (!everyPoint) {
      n = 0;
      const records = cells.records[c] as Float64Array;
      for (let at = 0; at < count * RECORD_STRIDE; at += RECORD_STRIDE) {
        if (matchingSlot(records[at + RECORD_ENTRY] as number, filter, points) >= 0) n++;
      }
      if (n === 0) continue;
    }
    const key = res === cells.resolution ? (cells.cellIds[c] as H3Cell) : cells.parentOf(c, res);
    counts.set(key, (counts.get(key) ?? 0) + n);
  }
  return counts;
}
