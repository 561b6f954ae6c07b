import fc from 'fast-check';
import * as h3 from 'h3-js';
import type { MultiPolygon, Polygon } from 'geojson';
import { describe, expect, it } from 'vitest';
import type { TotError } from '../../../geo/errors.ts';
import { FleetIndex, statusBit } from '../../../geo/fleet-index.ts';
import { BOX, type ModelPoint, bruteWithin, indexOf, pointsArbitrary } from './fleet-index-model.ts';

/** A star-shaped polygon around a centre: radii vary per vertex, so edges cut cells at every angle. */
function star(centerLat: number, centerLng: number, radii: readonly number[], rotation: number): number[][] {
  const ring = radii.map((radius, i) => {
    const angle = rotation + (2 * Math.PI * i) / radii.length;
    return [
      centerLng + (radius * Math.cos(angle)) / Math.cos((centerLat * Math.PI) / 180),
      centerLat + radius * Math.sin(angle),
    ];
  });
  ring.push(ring[0] as number[]);
  return ring;
}

const polygonArbitrary: fc.Arbitrary<Polygon | MultiPolygon> = fc
  .record({
    lat: fc.double({ min: BOX.minLat, max: BOX.maxLat, noNaN: true }),
    lng: fc.double({ min: BOX.minLng, max: BOX.maxLng, noNaN: true }),
    radii: fc.array(fc.double({ min: 0.0005, max: 0.012, noNaN: true }), { minLength: 3, maxLength: 9 }),
    rotation: fc.double({ min: 0, max: Math.PI, noNaN: true }),
    hole: fc.boolean(),
    second: fc.boolean(),
  })
  .map(({ lat, lng, radii, rotation, hole, second }) => {
    const outer = star(lat, lng, radii, rotation);
    const rings = hole
      ? [outer, star(lat, lng, [0.0004, 0.0004, 0.0004, 0.0004], rotation).reverse()]
      : [outer];
    if (!second) return { type: 'Polygon', coordinates: rings };
    return { type: 'MultiPolygon', coordinates: [rings, [star(lat + 0.015, lng - 0.01, radii, rotation)]] };
  });

function idsWithin(index: FleetIndex, area: Polygon | MultiPolygon, filter = {}): string[] {
  return index
    .within(area, filter)
    .map((hit) => hit.id)
    .sort();
}

describe('FleetIndex.within equals turf point-in-polygon over every point', () => {
  it('for random star polygons, holes, multipolygons and filters', () => {
    fc.assert(
      fc.property(
        pointsArbitrary(200),
        polygonArbitrary,
        fc.constantFrom({}, { statusMask: statusBit(0) }, { tagsAll: 1 }),
        (points, area, filter) => {
          const index = indexOf(points);
          expect(idsWithin(index, area, filter)).toEqual(bruteWithin(points, area, filter));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps points on the polygon boundary, on cell boundaries and in cells only partly covered', () => {
    const cell = h3.latLngToCell(55.75, 37.62, 9);
    const points: ModelPoint[] = [];
    for (const c of h3.gridDisk(cell, 2)) {
      const [clat, clng] = h3.cellToLatLng(c);
      points.push({ id: `c${c}`, lat: clat, lng: clng, status: 0, tags: 0 });
      h3.cellToBoundary(c).forEach(([lat, lng], i) => {
        points.push({ id: `v${c}-${i}`, lat: lat as number, lng: lng as number, status: 0, tags: 0 });
      });
    }
    const index = indexOf(points);
    // A thin rectangle narrower than a cell through the vertices of the centre cell, and the centre cell itself.
    const boundary = h3.cellToBoundary(cell, true);
    const [lng0, lat0] = boundary[0] as [number, number];
    const [lng1, lat1] = boundary[3] as [number, number];
    const thin: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [lng0, lat0 - 1e-5],
          [lng1, lat1 - 1e-5],
          [lng1, lat1 + 1e-5],
          [lng0, lat0 + 1e-5],
          [lng0, lat0 - 1e-5],
        ],
      ],
    };
    const hexagon: Polygon = { type: 'Polygon', coordinates: [boundary] };
    for (const area of [thin, hexagon]) expect(idsWithin(index, area)).toEqual(bruteWithin(points, area));
    expect(idsWithin(index, hexagon).length).toBeGreaterThanOrEqual(7);
  });

  it('keeps points of a polygon narrower than a cell that contains no cell centre', () => {
    const cell = h3.latLngToCell(55.75, 37.62, 9);
    const [a, b] = h3.cellToBoundary(cell, true) as number[][] as [number[], number[]];
    const points: ModelPoint[] = [];
    for (let i = 0; i <= 10; i++) {
      const f = i / 10;
      const lng = (a[0] as number) + ((b[0] as number) - (a[0] as number)) * f;
      const lat = (a[1] as number) + ((b[1] as number) - (a[1] as number)) * f;
      points.push({ id: `e${i}`, lat, lng, status: 0, tags: 0 });
    }
    const index = indexOf(points);
    // A sliver 2 m wide along one edge of the cell.
    const d = 1e-5;
    const sliver: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [a[0] as number, (a[1] as number) - d],
          [b[0] as number, (b[1] as number) - d],
          [b[0] as number, (b[1] as number) + d],
          [a[0] as number, (a[1] as number) + d],
          [a[0] as number, (a[1] as number) - d],
        ],
      ],
    };
    expect(h3.polygonToCells(sliver.coordinates, 9, true)).toEqual([]);
    const expected = bruteWithin(points, sliver);
    expect(expected.length).toBeGreaterThan(5);
    expect(idsWithin(index, sliver)).toEqual(expected);
  });

  it('does not take a whole cell whose points may stick out of its straight-edged outline', () => {
    // Cell edges are great-circle arcs; polygon edges are straight in lng/lat. A polygon a hair larger than the
    // cell's outline holds the cell "fully" by H3's test, yet a point inside the cell near the middle of an edge
    // bulging poleward lies outside the polygon.
    const cell = h3.latLngToCell(55.75, 37.62, 9);
    const [clat, clng] = h3.cellToLatLng(cell);
    const ring = h3
      .cellToBoundary(cell, true)
      .map(([lng, lat]) => [
        clng + ((lng as number) - clng) * (1 + 1e-7),
        clat + ((lat as number) - clat) * (1 + 1e-7),
      ]);
    const area: Polygon = { type: 'Polygon', coordinates: [ring] };
    const unit = (lat: number, lng: number) => {
      const phi = (lat * Math.PI) / 180;
      const lambda = (lng * Math.PI) / 180;
      return [Math.cos(phi) * Math.cos(lambda), Math.cos(phi) * Math.sin(lambda), Math.sin(phi)];
    };
    const boundary = h3.cellToBoundary(cell);
    const centre = unit(clat, clng);
    const points: ModelPoint[] = [{ id: 'centre', lat: clat, lng: clng, status: 0, tags: 0 }];
    boundary.forEach(([lat1, lng1], i) => {
      const [lat2, lng2] = boundary[(i + 1) % boundary.length] as [number, number];
      const a = unit(lat1 as number, lng1 as number);
      const b = unit(lat2, lng2);
      // The great-circle midpoint of the edge, moved a ten-millionth of the way towards the centre.
      const m = a.map((x, j) => x + (b[j] as number));
      const norm = Math.hypot(...m);
      const p = m.map((x, j) => (x / norm) * (1 - 1e-7) + (centre[j] as number) * 1e-7);
      const lat = (Math.asin((p[2] as number) / Math.hypot(...p)) * 180) / Math.PI;
      const lng = (Math.atan2(p[1] as number, p[0] as number) * 180) / Math.PI;
      expect(h3.latLngToCell(lat, lng, 9)).toBe(cell);
      points.push({ id: `m${i}`, lat, lng, status: 0, tags: 0 });
    });
    expect(h3.polygonToCellsExperimental([ring], 9, 'containmentFull', true)).toEqual([cell]);
    const expected = bruteWithin(points, area);
    expect(expected.length).toBeLessThan(points.length);
    expect(idsWithin(indexOf(points), area)).toEqual(expected);
  });

  it('scans instead of covering for a polygon larger than the cover limit', () => {
    const points: ModelPoint[] = [
      { id: 'moscow', lat: 55.75, lng: 37.62, status: 0, tags: 0 },
      { id: 'spb', lat: 59.93, lng: 30.33, status: 0, tags: 0 },
    ];
    const index = indexOf(points);
    const area: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [30, 50],
          [45, 50],
          [45, 58],
          [30, 58],
          [30, 50],
        ],
      ],
    };
    expect(idsWithin(index, area)).toEqual(['moscow']);
    expect(index.lastQueryCost().linearScans).toBe(1);
  });

  it('accepts a Feature and rejects malformed polygons with GEO_INVALID_POLYGON, naming the part', () => {
    const index = indexOf([{ id: 'a', lat: 55.75, lng: 37.62, status: 0, tags: 0 }]);
    const ring = [
      [37.61, 55.74],
      [37.63, 55.74],
      [37.63, 55.76],
      [37.61, 55.76],
      [37.61, 55.74],
    ];
    const feature = {
      type: 'Feature' as const,
      properties: {},
      geometry: { type: 'Polygon' as const, coordinates: [ring] },
    };
    expect(index.within(feature).map((hit) => hit.id)).toEqual(['a']);
    const bad: unknown[] = [
      { type: 'Point', coordinates: [37, 55] },
      { type: 'Polygon', coordinates: [] },
      { type: 'Polygon', coordinates: [ring.slice(0, 3)] },
      { type: 'Polygon', coordinates: [[...ring.slice(0, 4), [37.6, 55.7]]] },
      { type: 'Polygon', coordinates: [[...ring.slice(0, 2), [37.6, Number.NaN], ...ring.slice(3)]] },
      { type: 'MultiPolygon', coordinates: [] },
      null,
    ];
    for (const area of bad) {
      try {
        index.within(area as Polygon);
        expect.fail(`accepted ${JSON.stringify(area)}`);
      } catch (error) {
        expect((error as TotError).code).toBe('GEO_INVALID_POLYGON');
        expect((error as TotError).message.length).toBeGreaterThan(10);
      }
    }
  });
});

describe('FleetIndex.countsByCell', () => {
  it('equals grouping every point by its ancestor cell, with and without a filter', () => {
    fc.assert(
      fc.property(pointsArbitrary(200), fc.constantFrom(5, 7, 9), (points, res) => {
        const index = indexOf(points);
        const expected = new Map<string, number>();
        const expectedAvailable = new Map<string, number>();
        for (const point of points) {
          const cell = h3.cellToParent(h3.latLngToCell(point.lat, point.lng, 9), res);
          expected.set(cell, (expected.get(cell) ?? 0) + 1);
          if (point.status === 0) expectedAvailable.set(cell, (expectedAvailable.get(cell) ?? 0) + 1);
        }
        expect(index.countsByCell(res)).toEqual(expected);
        expect(index.countsByCell(res, { statusMask: statusBit(0) })).toEqual(expectedAvailable);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a resolution finer than the index', () => {
    const index = new FleetIndex({ resolution: 8 });
    expect(() => index.countsByCell(9)).toThrow(expect.objectContaining({ code: 'GEO_INVALID_RESOLUTION' }));
  });
});
