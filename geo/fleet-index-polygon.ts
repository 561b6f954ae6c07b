/**
 * Validation and point-in-polygon for the fleet index's `within` queries. Polygons are GeoJSON (RFC 7946) with
 * `[lng, lat]` positions; edges are straight lines in longitude/latitude, as in turf and H3's polygon functions.
 */
import { booleanPointInPolygon } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import { TotError } from './errors.ts';

/** A polygon or multipolygon, bare or wrapped in a Feature. */
export type AreaInput = Polygon | MultiPolygon | Feature<Polygon | MultiPolygon>;

/** A validated area, ready for repeated point tests. */
export interface PreparedArea {
  /** Each polygon as its rings (outer first), positions `[lng, lat]`. */
  polygons: number[][][][];
  /** `[minLng, minLat, maxLng, maxLat]` over every outer ring. */
  bbox: [number, number, number, number];
  /** The geometry with `bbox` set, as turf's point-in-polygon takes it. */
  geometry: Polygon | MultiPolygon;
}

function invalid(message: string, details: Record<string, unknown> = {}): TotError {
  return new TotError('GEO_INVALID_POLYGON', message, { field: 'polygon', ...details });
}

function validateRing(ring: unknown, path: string): number[][] {
  if (!Array.isArray(ring) || ring.length < 4) {
    throw invalid(`${path} must be an array of at least 4 positions`, { path });
  }
  for (let i = 0; i < ring.length; i++) {
    const position: unknown = ring[i];
    if (!Array.isArray(position) || position.length < 2) {
      throw invalid(`${path}[${i}] must be a [lng, lat] position, got ${JSON.stringify(position)}`, { path });
    }
    const [lng, lat] = position as unknown[];
    if (typeof lng !== 'number' || !Number.isFinite(lng) || lng < -180 || lng > 180) {
      throw invalid(`${path}[${i}][0] (lng) must be a finite number in [-180, 180], got ${String(lng)}`, {
        path,
      });
    }
    if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
      throw invalid(`${path}[${i}][1] (lat) must be a finite number in [-90, 90], got ${String(lat)}`, {
        path,
      });
    }
  }
  const first = ring[0] as number[];
  const last = ring[ring.length - 1] as number[];
  if (first[0] !== last[0] || first[1] !== last[1]) {
    throw invalid(`${path} must be closed (first position equal to the last)`, { path });
  }
  return ring as number[][];
}

function validatePolygon(rings: unknown, path: string): number[][][] {
  if (!Array.isArray(rings) || rings.length === 0) {
    throw invalid(`${path} must be a non-empty array of rings`, { path });
  }
  return rings.map((ring, i) => validateRing(ring, `${path}[${i}]`));
}

/**
 * Validates a GeoJSON Polygon / MultiPolygon (or a Feature of one) and precomputes its bounding box.
 * @throws TotError `GEO_INVALID_POLYGON` naming the offending part (type, ring, position) and value.
 */
export function prepareArea(area: AreaInput): PreparedArea {
  const geometry: unknown =
    (area as { type?: unknown })?.type === 'Feature' ? (area as Feature).geometry : area;
  const type = (geometry as { type?: unknown } | null)?.type;
  const coordinates = (geometry as { coordinates?: unknown } | null)?.coordinates;
  let polygons: number[][][][];
  if (type === 'Polygon') {
    polygons = [validatePolygon(coordinates, 'coordinates')];
  } else if (type === 'MultiPolygon') {
    if (!Array.isArray(coordinates) || coordinates.length === 0) {
      throw invalid('coordinates of a MultiPolygon must be a non-empty array of polygons');
    }
    polygons = coordinates.map((polygon, i) => validatePolygon(polygon, `coordinates[${i}]`));
  } else {
    throw invalid(
      `polygon must be a GeoJSON Polygon or MultiPolygon (or a Feature of one), got type ${String(type)}`,
      {
        value: type,
      },
    );
  }
  const bbox: [number, number, number, number] = [180, 90, -180, -90];
  for (const polygon of polygons) {
    for (const [lng, lat] of polygon[0] as number[][]) {
      bbox[0] = Math.min(bbox[0], lng as number);
      bbox[1] = Math.min(bbox[1], lat as number);
      bbox[2] = Math.max(bbox[2], lng as number);
      bbox[3] = Math.max(bbox[3], lat as number);
    }
  }
  const prepared: Polygon | MultiPolygon =
    polygons.length === 1 && type === 'Polygon'
      ? { type: 'Polygon', coordinates: polygons[0] as number[][][], bbox }
      : { type: 'MultiPolygon', coordinates: polygons, bbox };
  return { polygons, bbox, geometry: prepared };
}

/** Whether the point lies in the area (boundary included), exactly as turf's booleanPointInPolygon says. */
export function areaContains(area: PreparedArea, lat: number, lng: number): boolean {
  const bbox = area.bbox;
  if (lng < bbox[0] || lng > bbox[2] || lat < bbox[1] || lat > bbox[3]) return false;
  return booleanPointInPolygon([lng, lat], area.geometry);
}
