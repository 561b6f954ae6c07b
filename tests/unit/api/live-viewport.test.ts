import { latLngToCell } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { subscribeFrameSchema } from '../../../api/live/protocol.ts';
import {
  cellMayShow,
  cellsCoveringViewport,
  containsPoint,
  resolutionOfZoom,
  viewportAreaKm2,
  type Viewport,
} from '../../../api/live/viewport.ts';

/** Around the Kremlin at street zoom, ≈1.6 × 1.3 km. */
const KREMLIN: Viewport = { west: 37.605, south: 55.745, east: 37.63, north: 55.757, zoom: 15 };
/** The whole city box of the benchmarks, ≈31 × 39 km. */
const MOSCOW: Viewport = { west: 37.35, south: 55.55, east: 37.85, north: 55.9, zoom: 10 };

describe('viewport → resolution', () => {
  it('draws zoom z at resolution z − 4, clamped to [0, the fleet index resolution]', () => {
    expect([0, 3, 4, 8, 10, 12, 13, 15, 22].map((zoom) => resolutionOfZoom(zoom, 9))).toEqual([
      0, 0, 0, 4, 6, 8, 9, 9, 9,
    ]);
    expect(resolutionOfZoom(12.9, 9)).toBe(8);
    expect(resolutionOfZoom(15, 7)).toBe(7);
  });
});

describe('viewport → cells', () => {
  it('covers the Kremlin view with one resolution-6 cell and four resolution-7 cells (golden)', () => {
    expect(cellsCoveringViewport(KREMLIN, 6, 400)).toEqual(['8611aa7afffffff']);
    expect(cellsCoveringViewport(KREMLIN, 7, 400)).toEqual([
      '8711aa78cffffff',
      '8711aa7a8ffffff',
      '8711aa7aaffffff',
      '8711aa7abffffff',
    ]);
  });

  it('covers the city box with twelve resolution-5 cells (golden) and 50 of resolution 6', () => {
    expect(cellsCoveringViewport(MOSCOW, 5, 400)).toEqual([
      '851181a7fffffff',
      '851181b7fffffff',
      '8511aa0bfffffff',
      '8511aa0ffffffff',
      '8511aa47fffffff',
      '8511aa4ffffffff',
      '8511aa63fffffff',
      '8511aa67fffffff',
      '8511aa6bfffffff',
      '8511aa73fffffff',
      '8511aa77fffffff',
      '8511aa7bfffffff',
    ]);
    expect(cellsCoveringViewport(MOSCOW, 6, 400)).toHaveLength(50);
    expect(viewportAreaKm2(MOSCOW)).toBeCloseTo(1218.6, 0);
  });

  it('leaves no point of the viewport outside the covering', () => {
    for (const res of [5, 6, 7]) {
      const cells = new Set(cellsCoveringViewport(MOSCOW, res, 10_000));
      for (let i = 0; i <= 20; i++) {
        for (let j = 0; j <= 20; j++) {
          const lat = MOSCOW.south + ((MOSCOW.north - MOSCOW.south) * i) / 20;
          const lng = MOSCOW.west + ((MOSCOW.east - MOSCOW.west) * j) / 20;
          expect(cells.has(latLngToCell(lat, lng, res)), `${lat},${lng} at res ${res}`).toBe(true);
        }
      }
    }
  });

  it('gives up (undefined) on a viewport needing more cells than allowed, before computing any', () => {
    expect(cellsCoveringViewport(MOSCOW, 6, 49)).toBeUndefined();
    const world: Viewport = { west: -180, south: -80, east: 180, north: 80, zoom: 13 };
    expect(cellsCoveringViewport(world, 6, 400)).toBeUndefined();
  });

  it('shows a cell reaching into the view and not one far away', () => {
    expect(cellMayShow(KREMLIN, '8711aa7abffffff')).toBe(true);
    expect(cellMayShow(KREMLIN, latLngToCell(55.6, 37.4, 7))).toBe(false);
    // Just outside the east edge, but its hexagon overlaps it.
    expect(cellMayShow(KREMLIN, latLngToCell(55.75, 37.6305, 8))).toBe(true);
  });

  it('contains its edges', () => {
    expect(containsPoint(KREMLIN, 55.745, 37.605)).toBe(true);
    expect(containsPoint(KREMLIN, 55.757, 37.63)).toBe(true);
    expect(containsPoint(KREMLIN, 55.7571, 37.62)).toBe(false);
  });
});

describe('the subscribe frame', () => {
  const frame = (bbox: unknown, zoom: unknown = 14) =>
    subscribeFrameSchema.safeParse({ type: 'subscribe', bbox, zoom });

  it('accepts a viewport touching the antimeridian but refuses one crossing it', () => {
    expect(frame([170, -10, 180, 10]).success).toBe(true);
    const crossing = frame([179, -1, -179, 1]);
    expect(crossing.success).toBe(false);
    expect(crossing.error?.issues[0]?.message).toContain('antimeridian');
  });

  it.each([
    ['south above north', [37.6, 55.8, 37.7, 55.7], 14],
    ['a latitude out of range', [37.6, -91, 37.7, 55.7], 14],
    ['three numbers', [37.6, 55.7, 37.7], 14],
    ['a zoom out of range', [37.6, 55.7, 37.7, 55.8], 25],
    ['a zoom that is not a number', [37.6, 55.7, 37.7, 55.8], '14'],
  ])('refuses %s', (_, bbox, zoom) => {
    expect(frame(bbox, zoom).success).toBe(false);
  });
});
