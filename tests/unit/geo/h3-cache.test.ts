import * as h3js from 'h3-js';
import { describe, expect, it } from 'vitest';
import { cellToLatLngCached, gridPathCellsCached, latLngToCellCached } from '../../../geo/h3-cache.ts';

/** A deterministic stream of numbers in [0, 1). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('latLngToCellCached', () => {
  it('answers as h3-js for every point, asked once or again, at any resolution', () => {
    const random = lcg(11);
    // More points than slots (2^16), so that slots are shared and answers are replaced.
    const points = Array.from(
      { length: 70_000 },
      () => [55.5 + random() * 0.5, 37.3 + random() * 0.6] as const,
    );
    for (let round = 0; round < 2; round++) {
      for (const [i, [lat, lng]] of points.entries()) {
        const res = 7 + (i % 3);
        expect(latLngToCellCached(lat, lng, res)).toBe(h3js.latLngToCell(lat, lng, res));
      }
    }
  });

  it('tells resolutions and nearby points apart', () => {
    const lat = 55.751244;
    const lng = 37.618423;
    expect(latLngToCellCached(lat, lng, 9)).toBe(h3js.latLngToCell(lat, lng, 9));
    expect(latLngToCellCached(lat, lng, 8)).toBe(h3js.latLngToCell(lat, lng, 8));
    expect(latLngToCellCached(lat, lng, 9)).not.toBe(latLngToCellCached(lat, lng, 8));
    // Points a few metres apart across a cell boundary: each gets its own cell.
    const cell = h3js.latLngToCell(lat, lng, 12);
    const [bLat, bLng] = h3js.cellToBoundary(cell)[0] as [number, number];
    const inside = latLngToCellCached(lat, lng, 12);
    const beyond = latLngToCellCached(bLat + (bLat - lat) * 0.5, bLng + (bLng - lng) * 0.5, 12);
    expect(inside).toBe(cell);
    expect(beyond).not.toBe(cell);
  });
});

describe('cellToLatLngCached', () => {
  it('answers as h3-js, the same array for the same cell', () => {
    const cells = h3js.gridDisk(h3js.latLngToCell(55.75, 37.62, 9), 6);
    for (const cell of cells) expect(cellToLatLngCached(cell)).toEqual(h3js.cellToLatLng(cell));
    const first = cells[0] as string;
    expect(cellToLatLngCached(first)).toBe(cellToLatLngCached(first));
  });
});

describe('gridPathCellsCached', () => {
  it('answers as h3-js, the same array for the same pair, asked in either order of first use', () => {
    const random = lcg(5);
    const pairs = Array.from({ length: 300 }, () => {
      const lat = 55.5 + random() * 0.5;
      const lng = 37.3 + random() * 0.6;
      return [
        h3js.latLngToCell(lat, lng, 8),
        h3js.latLngToCell(lat + (random() - 0.5) * 0.08, lng + (random() - 0.5) * 0.12, 8),
      ] as const;
    });
    for (let round = 0; round < 2; round++) {
      for (const [from, to] of pairs) {
        expect(gridPathCellsCached(from, to)).toEqual(h3js.gridPathCells(from, to));
        expect(gridPathCellsCached(to, from)).toEqual(h3js.gridPathCells(to, from));
      }
    }
    const [from, to] = pairs[0] as readonly [string, string];
    expect(gridPathCellsCached(from, to)).toBe(gridPathCellsCached(from, to));
  });

  it('throws as h3-js for a path it cannot find, every time', () => {
    // Cells of two resolutions have no grid path.
    const from = h3js.latLngToCell(55.75, 37.62, 8);
    const to = h3js.latLngToCell(55.76, 37.63, 9);
    expect(() => h3js.gridPathCells(from, to)).toThrow();
    expect(() => gridPathCellsCached(from, to)).toThrow();
    expect(() => gridPathCellsCached(from, to)).toThrow();
  });
});
