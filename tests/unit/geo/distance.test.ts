import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EARTH_RADIUS_KM,
  KM_PER_DEGREE,
  RAD_PER_DEG,
  crossTrackKm,
  haversineKm,
  haversineKmCos,
} from '../../../geo/distance.ts';

/** The spherical law of cosines: an independent formula, accurate to ~1e-9 relative above a few metres. */
function lawOfCosinesKm(lat1: number, lng1: number, lat2: number, lng2: number): number {
  const p1 = lat1 * RAD_PER_DEG;
  const p2 = lat2 * RAD_PER_DEG;
  const cos =
    Math.sin(p1) * Math.sin(p2) + Math.cos(p1) * Math.cos(p2) * Math.cos((lng2 - lng1) * RAD_PER_DEG);
  return EARTH_RADIUS_KM * Math.acos(Math.min(1, Math.max(-1, cos)));
}

const lat = fc.double({ min: -90, max: 90, noNaN: true });
const lng = fc.double({ min: -180, max: 180, noNaN: true });

describe('haversineKm', () => {
  it('uses the IUGG mean radius 6371.0088 km', () => {
    expect(EARTH_RADIUS_KM).toBe(6371.0088);
    expect(haversineKm(0, 0, 0, 1)).toBeCloseTo(KM_PER_DEGREE, 9);
    expect(haversineKm(0, 0, 0, 1)).toBeCloseTo(111.19508, 5);
  });

  it('gives half the circumference between antipodes, without NaN', () => {
    expect(haversineKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 6);
    expect(haversineKm(90, 0, -90, 0)).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 6);
    expect(Number.isNaN(haversineKm(45, 10, -45, -170))).toBe(false);
  });

  it('gives Moscow (Red Square) → St Petersburg (Palace Square) ≈ 634 km', () => {
    expect(haversineKm(55.7539, 37.6208, 59.9391, 30.3159)).toBeCloseTo(634.4, 0);
  });

  it('agrees with the law of cosines and is symmetric bit for bit', () => {
    fc.assert(
      fc.property(lat, lng, lat, lng, (lat1, lng1, lat2, lng2) => {
        const d = haversineKm(lat1, lng1, lat2, lng2);
        expect(d).toBe(haversineKm(lat2, lng2, lat1, lng1));
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(Math.PI * EARTH_RADIUS_KM + 1e-9);
        // Both formulas lose precision near antipodes (asin / acos of ≈1): allow 10 m there, 1 mm elsewhere.
        const tolerance = d > 19_000 ? 1e-2 : 1e-6;
        if (d > 1) expect(Math.abs(d - lawOfCosinesKm(lat1, lng1, lat2, lng2))).toBeLessThan(tolerance);
      }),
    );
  });

  it('equals haversineKmCos with precomputed cosines exactly', () => {
    fc.assert(
      fc.property(lat, lng, lat, lng, (lat1, lng1, lat2, lng2) => {
        const viaCos = haversineKmCos(
          lat1,
          lng1,
          Math.cos(lat1 * RAD_PER_DEG),
          lat2,
          lng2,
          Math.cos(lat2 * RAD_PER_DEG),
        );
        expect(viaCos).toBe(haversineKm(lat1, lng1, lat2, lng2));
      }),
    );
  });

  it('never exceeds the triangle inequality by more than rounding', () => {
    fc.assert(
      fc.property(lat, lng, lat, lng, lat, lng, (a1, a2, b1, b2, c1, c2) => {
        const direct = haversineKm(a1, a2, c1, c2);
        // Near antipodes asin(√a) with a ≈ 1 keeps only half the digits (≈1 m); elsewhere rounding is sub-millimetre.
        const tolerance = direct > 19_000 ? 1e-2 : 1e-6;
        expect(direct).toBeLessThanOrEqual(
          haversineKm(a1, a2, b1, b2) + haversineKm(b1, b2, c1, c2) + tolerance,
        );
      }),
    );
  });
});

describe('crossTrackKm', () => {
  it('measures the distance to the equator from a point due north', () => {
    expect(crossTrackKm(1, 10, 0, 0, 0, 20)).toBeCloseTo(KM_PER_DEGREE, 6);
  });

  it('is never more than the distance to either end of the arc', () => {
    fc.assert(
      fc.property(lat, lng, lat, lng, lat, lng, (p1, p2, a1, a2, b1, b2) => {
        const d = crossTrackKm(p1, p2, a1, a2, b1, b2);
        fc.pre(!Number.isNaN(d));
        expect(d).toBeLessThanOrEqual(haversineKm(p1, p2, a1, a2) + 1e-6);
        expect(d).toBeLessThanOrEqual(haversineKm(p1, p2, b1, b2) + 1e-6);
      }),
    );
  });

  it('is NaN for coincident ends', () => {
    expect(Number.isNaN(crossTrackKm(1, 1, 5, 5, 5, 5))).toBe(true);
  });
});
