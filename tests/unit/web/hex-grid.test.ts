import { getResolution } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { cellsToFeatures, gridCellsOf, gridResolutionOf } from '../../../web/shared/hex-grid.ts';

/** Central Moscow, about 13 × 8 km: what the console shows at zoom 13 on a laptop screen. */
const MOSCOW: [number, number, number, number] = [37.53, 55.72, 37.71, 55.79];

describe('the orientation grid', () => {
  it('covers a city view at the zoom resolution, within the cell budget', () => {
    const cells = gridCellsOf(MOSCOW, 12);
    expect(cells.length).toBeGreaterThan(50);
    expect(cells.length).toBeLessThanOrEqual(2500);
    expect(new Set(cells.map((cell) => getResolution(cell)))).toEqual(new Set([gridResolutionOf(12)]));
  });

  it('goes coarser rather than past the budget, and draws nothing for a world-wide view', () => {
    const fine = gridCellsOf(MOSCOW, 16, 300);
    expect(fine.length).toBeLessThanOrEqual(300);
    expect(getResolution(fine[0]!)).toBeLessThan(gridResolutionOf(16));
    expect(gridCellsOf([-180, -80, 180, 80], 1)).toEqual([]);
  });

  it('turns cells into closed GeoJSON polygons in [lng, lat] order carrying their properties', () => {
    const [cell] = gridCellsOf(MOSCOW, 10);
    const collection = cellsToFeatures([cell!], () => ({ level: 3 }));
    const feature = collection.features[0]!;
    expect(feature.properties).toMatchObject({ cell, level: 3 });
    const ring = (feature.geometry as { coordinates: number[][][] }).coordinates[0]!;
    expect(ring[0]).toEqual(ring.at(-1));
    expect(ring[0]![0]).toBeGreaterThan(37);
    expect(ring[0]![1]).toBeGreaterThan(55);
  });
});
