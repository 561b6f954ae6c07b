import * as h3js from 'h3-js';
import { describe, expect, it } from 'vitest';
import { haversineKm } from '../../../geo/distance.ts';
import { TotError } from '../../../geo/errors.ts';
import {
  assertResolution,
  cellGeometry,
  cellNeighbors,
  cellResolution,
  cellToLatLng,
  cellToParent,
  isPentagon,
  latLngToCell,
  polygonToCells,
} from '../../../geo/h3.ts';

function expectTotError(action: () => unknown, code: string, field?: string): TotError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(TotError);
    expect((error as TotError).code).toBe(code);
    if (field !== undefined) expect((error as TotError).details.field).toBe(field);
    return error as TotError;
  }
  return expect.fail(`expected a TotError ${code}`);
}

describe('latLngToCell golden values', () => {
  it('matches the H3 reference example (Sunnyvale, res 7)', () => {
    // The example of the H3 documentation and h3-js README.
    expect(latLngToCell(37.3615593, -122.0553238, 7)).toBe('87283472bffffff');
  });

  it('gives fixed cells for Moscow at resolutions 0, 9 and 15', () => {
    expect(latLngToCell(55.7558, 37.6173, 0)).toBe('8011fffffffffff');
    expect(latLngToCell(55.7558, 37.6173, 9)).toBe('8911aa7abd3ffff');
    expect(latLngToCell(55.7558, 37.6173, 15)).toBe('8f11aa7abdadb72');
  });

  it('finds the pentagon at the centre of a pentagon cell', () => {
    const pentagon = '89080000003ffff';
    expect(h3js.getPentagons(9)).toContain(pentagon);
    const [lat, lng] = cellToLatLng(pentagon);
    expect(latLngToCell(lat, lng, 9)).toBe(pentagon);
    expect(isPentagon(pentagon)).toBe(true);
    expect(cellNeighbors(pentagon)).toHaveLength(5);
    // Class III pentagons carry distortion vertices: never the 6 of a plain hexagon, so no upsert shortcut.
    expect(cellGeometry(pentagon).vertexCount).not.toBe(6);
  });

  it('gives one cell for lng 180 and lng −180, and for points either side of the antimeridian', () => {
    expect(latLngToCell(0, 180, 5)).toBe('857eb573fffffff');
    expect(latLngToCell(0, -180, 5)).toBe('857eb573fffffff');
    expect(latLngToCell(10, 179.9999, 9)).toBe('895ba5c698bffff');
    expect(latLngToCell(10, -179.9999, 9)).toBe('895ba5c698bffff');
  });

  it('handles the poles: every longitude at a pole is one cell', () => {
    expect(latLngToCell(90, 0, 5)).toBe('85032623fffffff');
    expect(latLngToCell(90, 123, 5)).toBe('85032623fffffff');
    expect(latLngToCell(-90, 0, 9)).toBe('89f29380e0fffff');
    expect(latLngToCell(89.99, 45, 9)).toBe('89032623143ffff');
  });
});

describe('latLngToCell validation', () => {
  it.each([
    ['NaN latitude', Number.NaN, 0, 'lat'],
    ['+Infinity latitude', Number.POSITIVE_INFINITY, 0, 'lat'],
    ['latitude above 90', 90.000001, 0, 'lat'],
    ['latitude below −90', -91, 0, 'lat'],
    ['NaN longitude', 0, Number.NaN, 'lng'],
    ['−Infinity longitude', 0, Number.NEGATIVE_INFINITY, 'lng'],
    ['longitude above 180', 0, 180.5, 'lng'],
  ])('rejects %s with GEO_INVALID_COORDINATE naming the field and value', (_name, lat, lng, field) => {
    const error = expectTotError(() => latLngToCell(lat, lng, 9), 'GEO_INVALID_COORDINATE', field);
    expect(error.message).toContain(field);
    expect(error.message).toContain(String(field === 'lat' ? lat : lng));
  });

  it.each([-1, 16, 2.5, Number.NaN])('rejects resolution %s with GEO_INVALID_RESOLUTION', (res) => {
    const error = expectTotError(() => latLngToCell(55, 37, res), 'GEO_INVALID_RESOLUTION', 'res');
    expect(error.message).toContain(String(res));
  });

  it('accepts the range limits', () => {
    expect(() => latLngToCell(-90, -180, 0)).not.toThrow();
    expect(() => latLngToCell(90, 180, 15)).not.toThrow();
    expect(() => assertResolution(0)).not.toThrow();
  });
});

describe('cell helpers', () => {
  const cell = '8911aa7abd3ffff';

  it('rejects an invalid cell with GEO_INVALID_CELL', () => {
    expectTotError(() => cellToLatLng('not-a-cell'), 'GEO_INVALID_CELL', 'cell');
    expectTotError(() => cellNeighbors('ffffffffffffffff'), 'GEO_INVALID_CELL', 'cell');
  });

  it('gives six neighbours for a hexagon, each adjacent and distinct', () => {
    const neighbors = cellNeighbors(cell);
    expect(new Set(neighbors).size).toBe(6);
    for (const neighbor of neighbors) expect(h3js.areNeighborCells(cell, neighbor)).toBe(true);
  });

  it('walks up to a parent and refuses a finer resolution', () => {
    expect(cellResolution(cell)).toBe(9);
    expect(cellToParent(cell, 5)).toBe(h3js.cellToParent(cell, 5));
    expect(cellToParent(cell, 9)).toBe(cell);
    expectTotError(() => cellToParent(cell, 10), 'GEO_INVALID_RESOLUTION', 'res');
  });

  it('bounds every vertex by the circumradius and the inradius below it', () => {
    const geometry = cellGeometry(cell);
    expect(geometry.vertexCount).toBe(6);
    for (const [lat, lng] of h3js.cellToBoundary(cell)) {
      expect(haversineKm(geometry.lat, geometry.lng, lat, lng)).toBeLessThanOrEqual(geometry.outerKm);
    }
    // A regular hexagon's inradius is √3/2 ≈ 0.866 of its circumradius; H3 cells are a little irregular.
    expect(geometry.innerKm / geometry.outerKm).toBeGreaterThan(0.75);
    expect(geometry.innerKm / geometry.outerKm).toBeLessThan(0.87);
  });

  it('covers a polygon with overlapping cells and contains the full ones', () => {
    const ring = [
      [37.6, 55.75],
      [37.62, 55.75],
      [37.62, 55.76],
      [37.6, 55.76],
      [37.6, 55.75],
    ];
    const full = polygonToCells([ring], 9, 'full');
    const center = polygonToCells([ring], 9, 'center');
    const overlapping = new Set(polygonToCells([ring], 9, 'overlapping'));
    expect(full.length).toBeGreaterThan(0);
    for (const c of [...full, ...center]) expect(overlapping.has(c)).toBe(true);
    expect(overlapping.size).toBeGreaterThan(center.length);
    expectTotError(() => polygonToCells([ring], 16, 'full'), 'GEO_INVALID_RESOLUTION');
  });
});
