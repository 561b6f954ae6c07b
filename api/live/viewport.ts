/**
 * Viewports of the live map: the bbox and zoom a dispatcher's map shows, the H3 resolution that zoom is drawn at, and
 * the cells a viewport covers or may show. Pure functions; the antimeridian is refused earlier, by the subscribe
 * frame's schema (api/live/protocol.ts), so every viewport here has west < east.
 */
import { EARTH_RADIUS_KM, KM_PER_DEGREE, RAD_PER_DEG } from '../../geo/distance.ts';
import { averageCellAreaKm2, cellGeometry, polygonToCells, type H3Cell } from '../../geo/h3.ts';

/** A validated viewport: degrees, west < east, south < north; zoom as the map reports it (fractional allowed). */
export interface Viewport {
  west: number;
  south: number;
  east: number;
  north: number;
  zoom: number;
}

/** The viewport of a subscribe frame's `bbox` and `zoom`. */
export function viewportOf(bbox: readonly [number, number, number, number], zoom: number): Viewport {
  const [west, south, east, north] = bbox;
  return { west, south, east, north, zoom };
}

/** A key equal for equal viewports: connections showing the same view share its frames. */
export function viewportKey(viewport: Viewport): string {
  return `${viewport.west},${viewport.south},${viewport.east},${viewport.north},${viewport.zoom}`;
}

/**
 * The H3 resolution a zoom is drawn at: zoom − 4, between 0 and `maxResolution` (the fleet index's). A cell then
 * spans roughly 40–130 px on a 256-px-tile map at Moscow's latitude: zoom 12 → resolution 8 (≈0.9 km across),
 * zoom 10 → 6, zoom 8 → 4.
 */
export function resolutionOfZoom(zoom: number, maxResolution: number): number {
  return Math.max(0, Math.min(maxResolution, Math.floor(zoom) - 4));
}

/** Whether a point lies in the viewport (edges included). */
export function containsPoint(viewport: Viewport, lat: number, lng: number): boolean {
  return lat >= viewport.south && lat <= viewport.north && lng >= viewport.west && lng <= viewport.east;
}

/** Area of the viewport, km² (spherical, exact for a lat/lng box). */
export function viewportAreaKm2(viewport: Viewport): number {
  const band = Math.sin(viewport.north * RAD_PER_DEG) - Math.sin(viewport.south * RAD_PER_DEG);
  return EARTH_RADIUS_KM * EARTH_RADIUS_KM * band * (viewport.east - viewport.west) * RAD_PER_DEG;
}

/**
 * The cells of resolution `res` that share any point with the viewport (H3's overlapping containment), so that every
 * point of the viewport lies in one of them; or undefined when the viewport would need more than `maxCells` (checked
 * on the area first, so a huge viewport costs nothing).
 */
export function cellsCoveringViewport(
  viewport: Viewport,
  res: number,
  maxCells: number,
): H3Cell[] | undefined {
  if (viewportAreaKm2(viewport) / averageCellAreaKm2(res) > maxCells) return undefined;
  const { west, south, east, north } = viewport;
  const ring = [
    [west, south],
    [east, south],
    [east, north],
    [west, north],
    [west, south],
  ];
  const cells = polygonToCells([ring], res, 'overlapping');
  return cells.length > maxCells ? undefined : cells.sort();
}

/**
 * Whether a cell may show in the viewport: its centre lies in the viewport grown by the cell's circumradius. Never
 * false for a cell that reaches into the viewport; may be true for one just outside a corner, which the map clips.
 */
export function cellMayShow(viewport: Viewport, cell: H3Cell): boolean {
  const { lat, lng, outerKm } = cellGeometry(cell);
  const marginLat = outerKm / KM_PER_DEGREE;
  const cosine = Math.cos(Math.min(89, Math.abs(lat) + marginLat) * RAD_PER_DEG);
  const marginLng = outerKm / (KM_PER_DEGREE * cosine);
  return (
    lat >= viewport.south - marginLat &&
    lat <= viewport.north + marginLat &&
    lng >= viewport.west - marginLng &&
    lng <= viewport.east + marginLng
  );
}
