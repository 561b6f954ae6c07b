/**
 * The shape of a cell of the fleet index, worked out once when the cell table creates the cell: its centre, its
 * circumradius with a margin (the nearest search's lower bound), a safe inner disk (the "still in the same cell" test
 * of moves) and the planes of its six edges (the exact containment test). The tests themselves are methods of
 * CellTable (geo/fleet-index-cells.ts), which the write path calls on every move.
 */
import * as h3 from 'h3-js';
import { KM_PER_DEGREE, RAD_PER_DEG, latLngToUnitVector } from './distance.ts';
import type { CellTable } from './fleet-index-cells.ts';
import type { CellGeometry, H3Cell } from './h3.ts';

/** Numbers per cell in the edge-normal column: six edge planes × 3. */
export const EDGE_NORMAL_STRIDE = 18;

/** Clearance (unit-sphere units, ≈6 mm on the ground) a point needs from every edge plane for the exact test. */
export const EDGE_MARGIN = 1e-9;

/**
 * Relative and absolute margins on a cell's circumradius: h3 assigns points by hex rounding in a projection while
 * the radius is measured on the boundary it reports; a millimetre covers the floating-point difference between them
 * with a wide berth (sampling 600 000 points per resolution shows every point within 0.9999 of the radius).
 */
const OUTER_RELATIVE_MARGIN = 1e-6;
const OUTER_ABSOLUTE_MARGIN_KM = 1e-6;

/** Fraction of the inradius used for the "still in the same cell" shortcut of upserts (CellTable.containsSafely). */
const SAFE_INNER_FRACTION = 0.9;

/** The per-cell columns of a {@link CellTable} a cell's shape is written into (their meaning: CellTable's fields). */
export type CellShapeColumns = Pick<
  CellTable,
  'lat' | 'lng' | 'cosLat' | 'outerKm' | 'safeDeg2' | 'lngScale2' | 'edgeNormals'
>;

/**
 * Writes the shape of `cell`, whose `cellGeometry` is `geometry`, into slot `c` of `columns` (each long enough for
 * slot `c`).
 */
export function writeCellShape(
  columns: CellShapeColumns,
  c: number,
  cell: H3Cell,
  geometry: CellGeometry,
): void {
  columns.lat[c] = geometry.lat;
  columns.lng[c] = geometry.lng;
  columns.cosLat[c] = Math.cos(geometry.lat * RAD_PER_DEG);
  columns.outerKm[c] = geometry.outerKm * (1 + OUTER_RELATIVE_MARGIN) + OUTER_ABSOLUTE_MARGIN_KM;
  // Only plain hexagons get the shortcut: pentagons and cells cut by an icosahedron edge always take the h3 path.
  if (geometry.vertexCount === 6 && geometry.innerKm > 0) {
    const thetaDeg = (SAFE_INNER_FRACTION * geometry.innerKm) / KM_PER_DEGREE;
    const k = Math.cos(Math.max(0, Math.abs(geometry.lat) - thetaDeg) * RAD_PER_DEG);
    columns.safeDeg2[c] = thetaDeg * thetaDeg;
    columns.lngScale2[c] = k * k;
  } else {
    columns.safeDeg2[c] = 0;
    columns.lngScale2[c] = 0;
  }
  columns.edgeNormals.fill(0, c * EDGE_NORMAL_STRIDE, (c + 1) * EDGE_NORMAL_STRIDE);
  if (geometry.vertexCount === 6) writeEdgeNormals(columns, c, cell);
}

/**
 * A hexagon's edges are great-circle arcs (H3 draws straight lines in a gnomonic projection, whose straight lines are
 * great circles), so the cell is the intersection of the six hemispheres bounded by its edge planes. A degenerate
 * edge leaves every normal at zero, which turns the exact test off for the cell.
 */
function writeEdgeNormals(columns: CellShapeColumns, c: number, cell: H3Cell): void {
  const edgeNormals = columns.edgeNormals;
  const vertices = h3
    .cellToBoundary(cell)
    .map(([lat, lng]) => latLngToUnitVector(lat as number, lng as number));
  const center = latLngToUnitVector(columns.lat[c] as number, columns.lng[c] as number);
  const base = c * EDGE_NORMAL_STRIDE;
  for (let i = 0; i < 6; i++) {
    const [ax, ay, az] = vertices[i] as [number, number, number];
    const [bx, by, bz] = vertices[(i + 1) % 6] as [number, number, number];
    let nx = ay * bz - az * by;
    let ny = az * bx - ax * bz;
    let nz = ax * by - ay * bx;
    const norm = Math.hypot(nx, ny, nz);
    if (norm === 0) {
      edgeNormals.fill(0, base, base + EDGE_NORMAL_STRIDE);
      return;
    }
    // Orient each plane so that the centre is on its positive side.
    const sign = nx * center[0] + ny * center[1] + nz * center[2] < 0 ? -1 / norm : 1 / norm;
    nx *= sign;
    ny *= sign;
    nz *= sign;
    edgeNormals[base + 3 * i] = nx;
    edgeNormals[base + 3 * i + 1] = ny;
    edgeNormals[base + 3 * i + 2] = nz;
  }
}
