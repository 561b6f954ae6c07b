import { getPentagons, gridDisk, gridPathCells, latLngToCell, cellToLatLng } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DETOUR_FACTOR, etaDetail, etaSeconds } from '../../../geo/eta.ts';
import { TotError } from '../../../geo/errors.ts';
import { TrafficField } from '../../../geo/traffic-field.ts';

const MINUTE = 60_000;
/** 09:00 Moscow: the profile's 22 km/h. */
const RUSH = Date.UTC(2025, 0, 15, 6, 0);
/** 03:00 Moscow: the profile's 47 km/h. */
const NIGHT = Date.UTC(2025, 0, 15, 0, 0);
/** Pushkin Square → Kursky station, ≈3.6 km as the crow flies. */
const ORIGIN = { lat: 55.7655, lng: 37.6055 };
const DESTINATION = { lat: 55.7582, lng: 37.6611 };

/** Great-circle distance written out independently of geo/: haversine on the mean Earth radius. */
function haversine(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lng - a.lng) * rad) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(h));
}

function expectTotError(action: () => unknown, code: string, field?: string): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(TotError);
    expect((error as TotError).code).toBe(code);
    if (field !== undefined) expect((error as TotError).details.field).toBe(field);
    return;
  }
  expect.fail(`expected a TotError ${code}`);
}

describe('etaSeconds without readings', () => {
  it('equals distance × detour / free-flow speed (hand calculation)', () => {
    const meters = haversine(ORIGIN, DESTINATION);
    expect(Math.round(meters)).toBe(3572);
    // 3572 m × 1.3 / (47 km/h ÷ 3.6) ≈ 356 s at night.
    const expected = (meters * 1.3) / (47 / 3.6);
    expect(etaSeconds(new TrafficField(), ORIGIN, DESTINATION, NIGHT)).toBeCloseTo(expected, 6);
    expect(Math.round(expected)).toBe(356);
  });

  it('is slower at rush hour than at night by the ratio of the profile speeds', () => {
    const field = new TrafficField();
    const night = etaSeconds(field, ORIGIN, DESTINATION, NIGHT);
    const rush = etaSeconds(field, ORIGIN, DESTINATION, RUSH);
    expect(rush / night).toBeCloseTo(47 / 22, 9);
  });

  it('scales with the detour factor and adds the overhead', () => {
    const field = new TrafficField();
    const base = etaSeconds(field, ORIGIN, DESTINATION, NIGHT, { detourFactor: 1 });
    expect(etaSeconds(field, ORIGIN, DESTINATION, NIGHT, { detourFactor: 2 })).toBeCloseTo(2 * base, 9);
    expect(
      etaSeconds(field, ORIGIN, DESTINATION, NIGHT, { detourFactor: 1, overheadSeconds: 300 }),
    ).toBeCloseTo(base + 300, 9);
    expect(DEFAULT_DETOUR_FACTOR).toBe(1.3);
  });
});

describe('etaDetail', () => {
  it('cuts the trip along the grid path; the pieces add up to the whole distance', () => {
    const detail = etaDetail(new TrafficField(), ORIGIN, DESTINATION, NIGHT);
    const field = new TrafficField();
    const path = gridPathCells(
      latLngToCell(ORIGIN.lat, ORIGIN.lng, 8),
      latLngToCell(DESTINATION.lat, DESTINATION.lng, 8),
    );
    expect(detail.method).toBe('grid-path');
    expect(detail.legs.map((leg) => leg.cell)).toEqual(path);
    expect(detail.legs.reduce((sum, leg) => sum + leg.meters, 0)).toBeCloseTo(detail.distanceMeters, 6);
    expect(detail.legs.reduce((sum, leg) => sum + leg.seconds, 0)).toBeCloseTo(detail.seconds, 9);
    expect(detail.roadMeters).toBeCloseTo(detail.distanceMeters * 1.3, 9);
    // No piece is longer than a cell is across (≈1.1 km at resolution 8).
    for (const leg of detail.legs) expect(leg.meters).toBeLessThan(1200);
    // Pieces follow where the line crosses cells (not equal shares): within 200 m of the sampled crossing for every
    // cell the line really passes, and the end cells get only the part between the point and the boundary.
    const crossed = new Map(
      etaDetail(field, ORIGIN, DESTINATION, NIGHT, { method: 'sampled' }).legs.map((leg) => [
        leg.cell,
        leg.meters,
      ]),
    );
    for (const leg of detail.legs.slice(0, -1)) {
      expect(Math.abs(leg.meters - crossed.get(leg.cell)!)).toBeLessThan(200);
    }
    expect(detail.legs[0]!.meters).toBeLessThan(0.7 * detail.legs[1]!.meters);
    expect(detail.seconds).toBe(etaSeconds(field, ORIGIN, DESTINATION, NIGHT));
  });

  it('follows the cells the straight line crosses when asked to sample', () => {
    const detail = etaDetail(new TrafficField(), ORIGIN, DESTINATION, NIGHT, { method: 'sampled' });
    expect(detail.method).toBe('sampled');
    // A dense walk along the line, independent of geo/eta.ts, gives the metres per crossed cell.
    const crossed = new Map<string, number>();
    const samples = 5000;
    for (let k = 0; k < samples; k += 1) {
      const f = (k + 0.5) / samples;
      const cell = latLngToCell(
        ORIGIN.lat + (DESTINATION.lat - ORIGIN.lat) * f,
        ORIGIN.lng + (DESTINATION.lng - ORIGIN.lng) * f,
        8,
      );
      crossed.set(cell, (crossed.get(cell) ?? 0) + detail.distanceMeters / samples);
    }
    expect(detail.legs.map((leg) => leg.cell)).toEqual([...crossed.keys()]);
    // Quarter-edge sampling places every boundary within an eighth of an edge (≈66 m at resolution 8).
    for (const leg of detail.legs) expect(Math.abs(leg.meters - crossed.get(leg.cell)!)).toBeLessThan(140);
    expect(detail.legs.reduce((sum, leg) => sum + leg.meters, 0)).toBeCloseTo(detail.distanceMeters, 6);
  });

  it('falls back to sampling where gridPathCells fails (around a pentagon)', () => {
    const pentagon = getPentagons(8)[0]!;
    const ring = gridDisk(pentagon, 3);
    let pair: [string, string] | undefined;
    for (const a of ring) {
      for (const b of ring) {
        try {
          gridPathCells(a, b);
        } catch {
          pair ??= [a, b];
        }
      }
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    const [aLat, aLng] = cellToLatLng(a);
    const [bLat, bLng] = cellToLatLng(b);
    const detail = etaDetail(new TrafficField(), { lat: aLat, lng: aLng }, { lat: bLat, lng: bLng }, NIGHT);
    expect(detail.method).toBe('sampled');
    expect(detail.legs[0]!.cell).toBe(a);
    expect(detail.legs.at(-1)!.cell).toBe(b);
    expect(detail.legs.reduce((sum, leg) => sum + leg.meters, 0)).toBeCloseTo(detail.distanceMeters, 6);
    expect(detail.seconds).toBeCloseTo((detail.distanceMeters * 1.3) / (47 / 3.6), 6);
  });

  it('falls back to sampling for a trip too long for a grid path (Moscow → London)', () => {
    const london = { lat: 51.5072, lng: -0.1276 };
    const detail = etaDetail(new TrafficField(), ORIGIN, london, NIGHT);
    expect(detail.method).toBe('sampled');
    expect(detail.distanceMeters).toBeCloseTo(haversine(ORIGIN, london), 3);
    expect(detail.seconds).toBeCloseTo((detail.distanceMeters * 1.3) / (47 / 3.6), 3);
  });
});

describe('etaSeconds with traffic', () => {
  it('rises when a cell on the path is congested and returns to free flow as the reading ages', () => {
    const field = new TrafficField({ maxAgeMs: 15 * MINUTE, fadeMs: 10 * MINUTE });
    const freeFlowDetail = etaDetail(field, ORIGIN, DESTINATION, NIGHT);
    const middle = freeFlowDetail.legs[Math.floor(freeFlowDetail.legs.length / 2)]!;
    const [lat, lng] = cellToLatLng(middle.cell);
    field.apply({ detectorId: 'det-1', ts: NIGHT, speedKmh: 8, lat, lng });

    const congested = etaSeconds(field, ORIGIN, DESTINATION, NIGHT);
    const expectedExtra = middle.meters * 1.3 * 3.6 * (1 / 8 - 1 / 47);
    expect(congested - freeFlowDetail.seconds).toBeCloseTo(expectedExtra, 6);

    // Ages: held for 15 min, halfway faded at 20 min, back to free flow from 25 min.
    const at = (minutes: number): number => etaSeconds(field, ORIGIN, DESTINATION, NIGHT + minutes * MINUTE);
    const freeFlowAt = (minutes: number): number =>
      etaSeconds(new TrafficField(), ORIGIN, DESTINATION, NIGHT + minutes * MINUTE);
    expect(at(15) - freeFlowAt(15)).toBeCloseTo(expectedExtra, 0);
    expect(at(20)).toBeGreaterThan(freeFlowAt(20));
    expect(at(20) - freeFlowAt(20)).toBeLessThan(at(15) - freeFlowAt(15));
    expect(at(25)).toBe(freeFlowAt(25));
  });

  it('is distance / speed for a trip inside one cell', () => {
    const field = new TrafficField();
    const [lat, lng] = cellToLatLng(latLngToCell(55.752, 37.6175, 8));
    const a = { lat, lng };
    const b = { lat: lat + 0.0005, lng: lng + 0.0005 };
    expect(latLngToCell(a.lat, a.lng, 8)).toBe(latLngToCell(b.lat, b.lng, 8));
    const meters = haversine(a, b);
    const detail = etaDetail(field, a, b, RUSH);
    expect(detail.method).toBe('same-cell');
    expect(detail.seconds).toBeCloseTo((meters * 1.3) / (22 / 3.6), 9);
    field.apply({ detectorId: 'det-1', ts: RUSH, speedKmh: 11, ...a });
    expect(etaSeconds(field, a, b, RUSH)).toBeCloseTo((meters * 1.3) / (11 / 3.6), 9);
  });

  it('is zero for zero distance, plus the overhead', () => {
    const field = new TrafficField();
    expect(etaSeconds(field, ORIGIN, ORIGIN, RUSH)).toBe(0);
    expect(etaSeconds(field, ORIGIN, { ...ORIGIN }, RUSH, { overheadSeconds: 240 })).toBe(240);
    expect(etaDetail(field, ORIGIN, ORIGIN, RUSH).legs).toEqual([]);
  });

  it('drives a standstill cell at the minimum speed instead of never arriving', () => {
    const field = new TrafficField();
    const [lat, lng] = cellToLatLng(latLngToCell(55.752, 37.6175, 8));
    const a = { lat, lng };
    const b = { lat: lat + 0.0005, lng: lng + 0.0005 };
    field.apply({ detectorId: 'det-1', ts: RUSH, speedKmh: 0, ...a });
    expect(etaSeconds(field, a, b, RUSH)).toBeCloseTo((haversine(a, b) * 1.3) / (5 / 3.6), 9);
    expect(etaSeconds(field, a, b, RUSH, { minSpeedKmh: 10 })).toBeCloseTo(
      (haversine(a, b) * 1.3) / (10 / 3.6),
      9,
    );
  });
});

describe('etaSeconds input errors', () => {
  const field = new TrafficField();

  it('rejects bad points and times with coded errors naming the field', () => {
    expectTotError(
      () => etaSeconds(field, { lat: 91, lng: 0 }, DESTINATION, RUSH),
      'GEO_INVALID_COORDINATE',
      'origin.lat',
    );
    expectTotError(
      () => etaSeconds(field, ORIGIN, { lat: 0, lng: Number.NaN }, RUSH),
      'GEO_INVALID_COORDINATE',
      'destination.lng',
    );
    expectTotError(() => etaSeconds(field, ORIGIN, DESTINATION, Number.NaN), 'GEO_INVALID_ARGUMENT', 'now');
  });

  it('rejects options out of range', () => {
    expectTotError(
      () => etaSeconds(field, ORIGIN, DESTINATION, RUSH, { detourFactor: 0.9 }),
      'GEO_INVALID_ARGUMENT',
      'detourFactor',
    );
    expectTotError(
      () => etaSeconds(field, ORIGIN, DESTINATION, RUSH, { overheadSeconds: -1 }),
      'GEO_INVALID_ARGUMENT',
      'overheadSeconds',
    );
    expectTotError(
      () => etaSeconds(field, ORIGIN, DESTINATION, RUSH, { minSpeedKmh: 0 }),
      'GEO_INVALID_ARGUMENT',
      'minSpeedKmh',
    );
    const method = 'dijkstra' as unknown as 'sampled';
    expectTotError(
      () => etaSeconds(field, ORIGIN, DESTINATION, RUSH, { method }),
      'GEO_INVALID_ARGUMENT',
      'method',
    );
  });
});
