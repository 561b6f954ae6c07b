/**
 * The stopping bound of the nearest-neighbour search, tested where it is tight: query points on cell edges and
 * vertices, candidates on the vertices of cells one and two rings away, and dense random fleets.
 */
import * as h3 from 'h3-js';
import { describe, expect, it } from 'vitest';
import { FleetIndex, statusBit } from '../../../geo/fleet-index.ts';
import { type ModelPoint, bruteNearby, hitsOf, indexOf } from './fleet-index-model.ts';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Moves a point towards another by a fraction of the way (in degrees; fine at cell scale). */
function toward(from: number[], to: number[], fraction: number): [number, number] {
  const [lat1, lng1] = from as [number, number];
  const [lat2, lng2] = to as [number, number];
  return [lat1 + (lat2 - lat1) * fraction, lng1 + (lng2 - lng1) * fraction];
}

/** Vertices and edge midpoints of a cell, plus points just inside and outside of them. */
function boundaryPoints(cell: string): [number, number][] {
  const center = h3.cellToLatLng(cell);
  const boundary = h3.cellToBoundary(cell);
  const points: [number, number][] = [];
  boundary.forEach((vertex, i) => {
    const next = boundary[(i + 1) % boundary.length] as number[];
    const mid = toward(vertex, next, 0.5);
    for (const p of [vertex as [number, number], mid]) {
      points.push(p, toward(p, center, 1e-6), toward(p, center, -1e-6), toward(p, center, 0.02));
    }
  });
  return points;
}

const ORIGIN = h3.latLngToCell(55.75, 37.62, 9);

describe('the search bound at cell edges and vertices', () => {
  it('finds a nearest point two rings away across a vertex, ahead of ring-1 points farther off', () => {
    // Query at a vertex of the origin cell; the only candidates sit on the far vertices of ring-2 cells and at the
    // centres of ring-1 cells. Some ring-2 vertices are closer than ring-1 centres.
    const ring2 = h3.gridRing(ORIGIN, 2);
    const ring1 = h3.gridRing(ORIGIN, 1);
    const points: ModelPoint[] = [];
    let n = 0;
    for (const cell of ring2) {
      for (const [lat, lng] of h3.cellToBoundary(cell))
        points.push({ id: `v${n++}`, lat, lng, status: 0, tags: 0 });
    }
    for (const cell of ring1) {
      const [lat, lng] = h3.cellToLatLng(cell);
      points.push({ id: `c${n++}`, lat, lng, status: 0, tags: 0 });
    }
    const index = indexOf(points);
    let ring2First = 0;
    for (const [lat, lng] of boundaryPoints(ORIGIN)) {
      for (const k of [1, 3, 10, 40]) {
        const hits = hitsOf(index, lat, lng, { k });
        expect(hits).toEqual(bruteNearby(points, lat, lng, { k }));
        if (k === 1 && hits[0]?.id.startsWith('v')) ring2First++;
      }
    }
    // The case the test is about does occur: the nearest point sits in a ring-2 cell.
    expect(ring2First).toBeGreaterThan(0);
  });

  it('is exact for queries on every edge and vertex of a ring of cells, with candidates on theirs', () => {
    const cells = h3.gridDisk(ORIGIN, 2);
    const candidates: ModelPoint[] = [];
    const r = random(7);
    for (const cell of cells) {
      for (const [lat, lng] of boundaryPoints(cell)) {
        if (r() < 0.15)
          candidates.push({ id: `p${candidates.length}`, lat, lng, status: r() < 0.3 ? 0 : 1, tags: 0 });
      }
    }
    const index = indexOf(candidates);
    for (const cell of h3.gridDisk(ORIGIN, 1)) {
      for (const [lat, lng] of boundaryPoints(cell)) {
        for (const options of [{ k: 1 }, { k: 5, statusMask: statusBit(0) }, { k: 12 }]) {
          expect(hitsOf(index, lat, lng, options)).toEqual(bruteNearby(candidates, lat, lng, options));
        }
      }
    }
  });

  it('is exact around a pentagon (5 neighbours, distorted cells)', () => {
    const pentagon = '89080000003ffff';
    const points: ModelPoint[] = [];
    const r = random(11);
    for (const cell of h3.gridDisk(pentagon, 3)) {
      for (const [lat, lng] of boundaryPoints(cell)) {
        if (r() < 0.2) points.push({ id: `q${points.length}`, lat, lng, status: 0, tags: 0 });
      }
    }
    const index = indexOf(points);
    for (const cell of h3.gridDisk(pentagon, 1)) {
      for (const [lat, lng] of boundaryPoints(cell)) {
        expect(hitsOf(index, lat, lng, { k: 4 })).toEqual(bruteNearby(points, lat, lng, { k: 4 }));
      }
    }
  });

  it('is exact on dense random fleets at several resolutions', () => {
    const r = random(3);
    for (const resolution of [8, 9, 10]) {
      const points: ModelPoint[] = [];
      for (let i = 0; i < 3000; i++) {
        points.push({
          id: `r${i}`,
          lat: 55.74 + r() * 0.03,
          lng: 37.6 + r() * 0.05,
          status: r() < 0.3 ? 0 : 1,
          tags: 0,
        });
      }
      const index = indexOf(points, resolution);
      for (let q = 0; q < 300; q++) {
        const lat = 55.74 + r() * 0.03;
        const lng = 37.6 + r() * 0.05;
        for (const options of [{ k: 1 }, { k: 10, statusMask: statusBit(0) }]) {
          expect(hitsOf(index, lat, lng, options)).toEqual(bruteNearby(points, lat, lng, options));
        }
      }
    }
  });

  it('is exact across the antimeridian and near a pole', () => {
    const r = random(5);
    for (const [lat0, lng0] of [
      [10, 180],
      [89.95, 0],
    ] as const) {
      const points: ModelPoint[] = [];
      for (let i = 0; i < 400; i++) {
        let lng = lng0 + (r() - 0.5) * 0.2;
        if (lng > 180) lng -= 360;
        points.push({ id: `a${i}`, lat: Math.min(90, lat0 + (r() - 0.5) * 0.08), lng, status: 0, tags: 0 });
      }
      const index = indexOf(points);
      for (let q = 0; q < 100; q++) {
        let lng = lng0 + (r() - 0.5) * 0.2;
        if (lng > 180) lng -= 360;
        const lat = Math.min(90, lat0 + (r() - 0.5) * 0.08);
        expect(hitsOf(index, lat, lng, { k: 7 })).toEqual(bruteNearby(points, lat, lng, { k: 7 }));
      }
    }
  });
});

describe('query cost counters', () => {
  it('count cells and candidates for the last query and in total', () => {
    const r = random(9);
    const index = new FleetIndex();
    for (let i = 0; i < 2000; i++)
      index.upsert(`d${i}`, 55.74 + r() * 0.02, 37.6 + r() * 0.03, { status: i % 3 }, 0);
    index.nearby(55.75, 37.615, { k: 10, statusMask: statusBit(0) });
    const first = index.lastQueryCost();
    expect(first.queries).toBe(1);
    expect(first.cellsVisited).toBeGreaterThan(0);
    expect(first.candidatesChecked).toBeGreaterThanOrEqual(first.distancesComputed);
    expect(first.distancesComputed).toBeGreaterThanOrEqual(10);
    expect(first.linearScans).toBe(0);
    // A local search touches a small part of the fleet.
    expect(first.candidatesChecked).toBeLessThan(500);
    index.nearby(55.75, 37.615, { k: 10 });
    const total = index.totalQueryCost();
    expect(total.queries).toBe(2);
    expect(total.cellsVisited).toBe(first.cellsVisited + index.lastQueryCost().cellsVisited);
  });

  it('report a linear scan for a query far from every point', () => {
    const index = indexOf([{ id: 'a', lat: 55.75, lng: 37.62, status: 0, tags: 0 }]);
    index.nearby(-40, 100, { k: 1 });
    expect(index.lastQueryCost().linearScans).toBe(1);
  });
});
