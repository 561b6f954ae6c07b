import { cellToBoundary, getResolution, polygonToCells } from 'h3-js';

/** A viewport: west, south, east, north in degrees. */
export type Bbox = [west: number, south: number, east: number, north: number];

/** A GeoJSON feature collection of polygons or points, as MapLibre's GeoJSON sources take it. */
export interface FeatureCollection {
  type: 'FeatureCollection';
  features: {
    type: 'Feature';
    id?: number;
    properties: Record<string, string | number | boolean>;
    geometry: { type: 'Polygon'; coordinates: number[][][] } | { type: 'Point'; coordinates: number[] };
  }[];
}

/** Most cells the orientation grid draws; past it the grid is drawn one resolution coarser. */
export const MAX_GRID_CELLS = 2500;

/**
 * The H3 resolution of the orientation grid at a map zoom: cells a few dozen pixels across, so the grid reads as a
 * texture rather than noise.
 */
export function gridResolutionOf(zoom: number): number {
  if (zoom < 6) return 3;
  if (zoom < 8) return 5;
  if (zoom < 10) return 6;
  if (zoom < 11.5) return 7;
  if (zoom < 13) return 8;
  if (zoom < 14.5) return 9;
  return 10;
}

/**
 * The cells covering a viewport at the grid resolution of `zoom`, coarser until at most `maxCells` remain. A
 * viewport wider than 180° of longitude (the world zoomed out) gets no grid: H3's polygons would wrap.
 */
export function gridCellsOf(bbox: Bbox, zoom: number, maxCells = MAX_GRID_CELLS): string[] {
  const [west, south, east, north] = bbox;
  if (!(east - west < 180) || !(north > south)) return [];
  const ring = [
    [south, west],
    [south, east],
    [north, east],
    [north, west],
    [south, west],
  ];
  for (let resolution = gridResolutionOf(zoom); resolution >= 0; resolution--) {
    // A cheap size estimate first: polygonToCells on a viewport of far more cells than we draw costs seconds.
    const estimate = bboxAreaKm2(bbox) / cellAreaKm2(resolution);
    if (estimate > maxCells * 2) continue;
    const cells = polygonToCells(ring, resolution);
    if (cells.length <= maxCells) return cells;
  }
  return [];
}

/** Cells as GeoJSON polygons, each with the properties `propertiesOf` gives it and its `cell` id. */
export function cellsToFeatures(
  cells: Iterable<string>,
  propertiesOf: (cell: string) => Record<string, string | number | boolean> = () => ({}),
): FeatureCollection {
  const features: FeatureCollection['features'] = [];
  for (const cell of cells) {
    const ring = cellToBoundary(cell, true);
    features.push({
      type: 'Feature',
      properties: { cell, resolution: getResolution(cell), ...propertiesOf(cell) },
      geometry: { type: 'Polygon', coordinates: [ring] },
    });
  }
  return { type: 'FeatureCollection', features };
}

/** Average area of an H3 cell at a resolution, km² (resolution 0: 4.36 M km², each finer one a seventh). */
function cellAreaKm2(resolution: number): number {
  return 4_357_449 / 7 ** resolution;
}

function bboxAreaKm2([west, south, east, north]: Bbox): number {
  const kmPerDegree = 111.32;
  const middle = ((south + north) / 2) * (Math.PI / 180);
  return (east - west) * kmPerDegree * Math.cos(middle) * (north - south) * kmPerDegree;
}
