import fc from 'fast-check';
import { cellToChildren, cellToParent, latLngToCell } from 'h3-js';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { TotError } from '../../../geo/errors.ts';
import {
  MOSCOW_WEEKDAY_FREE_FLOW_KMH,
  TrafficField,
  congestionLevelOf,
  freeFlowSpeedKmh,
  localHourOf,
  type TrafficReading,
} from '../../../geo/traffic-field.ts';

const MINUTE = 60_000;
/** 2025-01-15 06:00 UTC = 09:00 in Moscow, the morning peak (22 km/h in the profile). */
const RUSH = Date.UTC(2025, 0, 15, 6, 0);
/** 2025-01-15 00:00 UTC = 03:00 in Moscow (47 km/h). */
const NIGHT = Date.UTC(2025, 0, 15, 0, 0);
const KREMLIN = { lat: 55.752, lng: 37.6175 };
const KREMLIN_CELL = latLngToCell(KREMLIN.lat, KREMLIN.lng, 8);

function reading(overrides: Partial<TrafficReading> = {}): TrafficReading {
  return { detectorId: 'det-1', ts: RUSH, speedKmh: 40, ...KREMLIN, ...overrides };
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

describe('freeFlowSpeedKmh', () => {
  it('follows the documented profile: fast at night, ~22 km/h at both rush peaks', () => {
    expect(freeFlowSpeedKmh(3)).toBe(47);
    expect(freeFlowSpeedKmh(9)).toBe(22);
    expect(freeFlowSpeedKmh(18)).toBe(22);
    expect(Math.min(...MOSCOW_WEEKDAY_FREE_FLOW_KMH)).toBe(22);
    expect(Math.max(...MOSCOW_WEEKDAY_FREE_FLOW_KMH)).toBe(47);
  });

  it('interpolates between hours and wraps around midnight', () => {
    expect(freeFlowSpeedKmh(8.5)).toBeCloseTo((24 + 22) / 2, 12);
    expect(freeFlowSpeedKmh(23.5)).toBeCloseTo((43 + 45) / 2, 12);
    expect(freeFlowSpeedKmh(24)).toBe(freeFlowSpeedKmh(0));
    expect(freeFlowSpeedKmh(-1)).toBe(freeFlowSpeedKmh(23));
  });

  it('reads a custom profile and rejects a malformed one', () => {
    const flat = new Array<number>(24).fill(30);
    expect(freeFlowSpeedKmh(7.3, flat)).toBe(30);
    expectTotError(() => freeFlowSpeedKmh(1, [30, 30]), 'GEO_INVALID_ARGUMENT', 'freeFlowProfileKmh');
    expectTotError(() => freeFlowSpeedKmh(Number.NaN), 'GEO_INVALID_ARGUMENT', 'localHour');
  });

  it('local hour applies the UTC offset deterministically', () => {
    expect(localHourOf(RUSH, 3)).toBe(9);
    expect(localHourOf(RUSH, 0)).toBe(6);
    expect(localHourOf(NIGHT, -5)).toBe(19);
  });
});

describe('TrafficField', () => {
  it('answers the hour’s free flow where there is no reading', () => {
    const field = new TrafficField();
    expect(field.speedAt(KREMLIN, RUSH)).toBe(22);
    expect(field.speedAt(KREMLIN_CELL, NIGHT)).toBe(47);
    expect(field.congestionLevel(KREMLIN, RUSH)).toBe(0);
  });

  it('time-weights readings: 60 then 30 km/h one half-life later gives (0.5·60 + 30) / 1.5 = 40', () => {
    const field = new TrafficField({ halfLifeMs: 5 * MINUTE });
    expect(field.apply(reading({ ts: RUSH, speedKmh: 60 }))).toBe('applied');
    expect(field.apply(reading({ ts: RUSH + 5 * MINUTE, speedKmh: 30 }))).toBe('applied');
    expect(field.speedAt(KREMLIN, RUSH + 5 * MINUTE)).toBeCloseTo(40, 12);
  });

  it('merges a late reading with its decayed weight, giving the same value as in-order arrival', () => {
    const field = new TrafficField({ halfLifeMs: 5 * MINUTE });
    field.apply(reading({ detectorId: 'a', ts: RUSH + 5 * MINUTE, speedKmh: 30 }));
    expect(field.apply(reading({ detectorId: 'b', ts: RUSH, speedKmh: 60 }))).toBe('applied');
    expect(field.speedAt(KREMLIN, RUSH + 5 * MINUTE)).toBeCloseTo(40, 12);
  });

  it('lets a reading after a long gap dominate', () => {
    const field = new TrafficField({ halfLifeMs: 5 * MINUTE, maxAgeMs: 24 * 60 * MINUTE });
    field.apply(reading({ ts: RUSH, speedKmh: 60 }));
    field.apply(reading({ ts: RUSH + 60 * MINUTE, speedKmh: 30 }));
    const oldWeight = 2 ** -12;
    expect(field.speedAt(KREMLIN, RUSH + 60 * MINUTE)).toBeCloseTo(
      (oldWeight * 60 + 30) / (oldWeight + 1),
      12,
    );
  });

  it('averages simultaneous readings of two detectors in one cell', () => {
    const field = new TrafficField();
    field.apply(reading({ detectorId: 'a', speedKmh: 20 }));
    field.apply(reading({ detectorId: 'b', speedKmh: 40 }));
    expect(field.speedAt(KREMLIN, RUSH)).toBe(30);
  });

  it('gives the same estimate whatever the arrival order (property)', () => {
    const readingArbitrary = fc.record({
      offsetMs: fc.integer({ min: 0, max: 20 * MINUTE }),
      speedKmh: fc.double({ min: 0, max: 250, noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(readingArbitrary, { minLength: 1, maxLength: 12 }), (entries) => {
        const build = (order: number[]): number => {
          const field = new TrafficField();
          for (const i of order) {
            const entry = entries[i]!;
            field.apply(
              reading({ detectorId: `det-${i}`, ts: RUSH + entry.offsetMs, speedKmh: entry.speedKmh }),
            );
          }
          return field.speedAt(KREMLIN, RUSH + 20 * MINUTE);
        };
        const forward = entries.map((_, i) => i);
        expect(build([...forward].reverse())).toBeCloseTo(build(forward), 9);
      }),
    );
  });

  it('drops a reading not newer than the detector’s last one (redelivery) and changes nothing', () => {
    const field = new TrafficField();
    field.apply(reading({ speedKmh: 20 }));
    expect(field.apply(reading({ speedKmh: 80 }))).toBe('duplicate');
    expect(field.apply(reading({ ts: RUSH - MINUTE, speedKmh: 80 }))).toBe('duplicate');
    expect(field.speedAt(KREMLIN, RUSH)).toBe(20);
  });

  it('ignores a reading older than its cell’s latest by more than maxAge + fade', () => {
    const field = new TrafficField({ maxAgeMs: 15 * MINUTE, fadeMs: 10 * MINUTE });
    field.apply(reading({ detectorId: 'a', ts: RUSH, speedKmh: 20 }));
    expect(field.apply(reading({ detectorId: 'b', ts: RUSH - 26 * MINUTE, speedKmh: 80 }))).toBe('stale');
    expect(field.speedAt(KREMLIN, RUSH)).toBe(20);
  });

  it('holds an estimate for maxAge, then fades it linearly into free flow', () => {
    const field = new TrafficField({ maxAgeMs: 15 * MINUTE, fadeMs: 10 * MINUTE });
    field.apply(reading({ ts: NIGHT, speedKmh: 10 }));
    expect(field.speedAt(KREMLIN, NIGHT + 15 * MINUTE)).toBe(10);
    const halfFaded = NIGHT + 20 * MINUTE;
    const freeFlow = field.freeFlowAt(halfFaded);
    expect(field.speedAt(KREMLIN, halfFaded)).toBeCloseTo(10 + (freeFlow - 10) / 2, 12);
    expect(field.speedAt(KREMLIN, NIGHT + 25 * MINUTE)).toBe(field.freeFlowAt(NIGHT + 25 * MINUTE));
  });

  it('reads finer cells through their parent and rejects coarser or invalid cells', () => {
    const field = new TrafficField();
    field.apply(reading({ speedKmh: 12 }));
    const child = cellToChildren(KREMLIN_CELL, 10)[0]!;
    expect(field.speedAt(child, RUSH)).toBe(12);
    expectTotError(
      () => field.speedAt(cellToParent(KREMLIN_CELL, 6), RUSH),
      'GEO_INVALID_RESOLUTION',
      'cell',
    );
    expectTotError(() => field.speedAt('not-a-cell', RUSH), 'GEO_INVALID_CELL', 'cell');
    expectTotError(() => field.speedAt({ lat: 91, lng: 0 }, RUSH), 'GEO_INVALID_COORDINATE');
    expectTotError(() => field.speedAt(KREMLIN, Number.NaN), 'GEO_INVALID_ARGUMENT', 'now');
  });

  it('maps the ratio to the hour’s free flow onto congestion levels 0..3', () => {
    expect(congestionLevelOf(22, 22)).toBe(0);
    expect(congestionLevelOf(0.8 * 22, 22)).toBe(0);
    expect(congestionLevelOf(0.7 * 22, 22)).toBe(1);
    expect(congestionLevelOf(0.5 * 22, 22)).toBe(2);
    expect(congestionLevelOf(0.2 * 22, 22)).toBe(3);
    const field = new TrafficField();
    field.apply(reading({ speedKmh: 5 }));
    expect(field.congestionLevel(KREMLIN_CELL, RUSH)).toBe(3);
  });

  it('uses the detector’s known position when a reading has none', () => {
    const field = new TrafficField();
    field.apply(reading({ speedKmh: 20 }));
    const { lat: _lat, lng: _lng, ...positionless } = reading({ ts: RUSH + MINUTE, speedKmh: 20 });
    expect(field.apply(positionless)).toBe('applied');
    expect(field.size).toBe(1);
    expectTotError(
      () => field.apply({ ...positionless, detectorId: 'unknown' }),
      'GEO_INVALID_READING',
      'lat',
    );
  });

  it.each([
    ['speedKmh', { speedKmh: -1 }],
    ['speedKmh', { speedKmh: Number.NaN }],
    ['speedKmh', { speedKmh: 251 }],
    ['speedKmh', { speedKmh: Number.POSITIVE_INFINITY }],
    ['volume', { volume: -3 }],
    ['occupancy', { occupancy: 101 }],
    ['ts', { ts: Number.NaN }],
    ['detectorId', { detectorId: '' }],
    ['lat', { lat: 95 }],
    ['lng', { lng: Number.NaN }],
  ] as const)('rejects a bad %s with GEO_INVALID_READING and changes nothing (%o)', (field, overrides) => {
    const trafficField = new TrafficField();
    expectTotError(
      () => trafficField.apply(reading(overrides as Partial<TrafficReading>)),
      'GEO_INVALID_READING',
      field,
    );
    expect(trafficField.size).toBe(0);
  });

  it('names the field and the value in the message', () => {
    expect(() => new TrafficField().apply(reading({ speedKmh: -4 }))).toThrow(
      'reading.speedKmh must be a finite number in [0, 250], got -4',
    );
  });

  it('rejects bad options with coded errors', () => {
    expectTotError(() => new TrafficField({ resolution: 16 }), 'GEO_INVALID_RESOLUTION', 'resolution');
    expectTotError(() => new TrafficField({ halfLifeMs: 0 }), 'GEO_INVALID_ARGUMENT', 'options.halfLifeMs');
    expectTotError(
      () => new TrafficField({ utcOffsetHours: 20 }),
      'GEO_INVALID_ARGUMENT',
      'options.utcOffsetHours',
    );
  });

  it('lists fresh cells with their level, volume and occupancy, and prunes expired ones', () => {
    const field = new TrafficField({ maxAgeMs: 15 * MINUTE, fadeMs: 10 * MINUTE });
    field.apply(reading({ detectorId: 'a', ts: RUSH, speedKmh: 8, volume: 12, occupancy: 60 }));
    field.apply(reading({ detectorId: 'b', ts: RUSH - 30 * MINUTE, speedKmh: 40, lat: 55.8, lng: 37.5 }));
    const fresh = [...field.freshCells(RUSH)];
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({
      cell: KREMLIN_CELL,
      speedKmh: 8,
      observedSpeedKmh: 8,
      freeFlowKmh: 22,
      level: 3,
      ageMs: 0,
      volume: 12,
      occupancy: 60,
      readings: 1,
    });
    expect(field.size).toBe(2);
    expect(field.prune(RUSH)).toBe(1);
    expect(field.size).toBe(1);
  });

  it('survives a msgpack round trip of its snapshot and keeps learning identically', () => {
    const field = new TrafficField();
    field.apply(reading({ detectorId: 'a', ts: RUSH, speedKmh: 18, volume: 9, occupancy: 35 }));
    field.apply(reading({ detectorId: 'b', ts: RUSH + MINUTE, speedKmh: 26, lat: 55.76, lng: 37.64 }));
    field.apply(reading({ detectorId: 'a', ts: RUSH + 2 * MINUTE, speedKmh: 14 }));

    const restored = TrafficField.fromSnapshot(unpack(pack(field.toSnapshot())));
    expect(restored.toSnapshot()).toEqual(field.toSnapshot());
    const later = RUSH + 3 * MINUTE;
    for (const target of [field, restored]) target.apply({ detectorId: 'a', ts: later, speedKmh: 30 });
    expect(restored.speedAt(KREMLIN, later)).toBe(field.speedAt(KREMLIN, later));
    expect([...restored.freshCells(later)]).toEqual([...field.freshCells(later)]);
    expect(restored.apply(reading({ detectorId: 'b', ts: RUSH + MINUTE }))).toBe('duplicate');
  });

  it('rejects a malformed snapshot naming the path', () => {
    const snapshot = new TrafficField().toSnapshot();
    expectTotError(
      () => TrafficField.fromSnapshot({ ...snapshot, version: 2 }),
      'GEO_INVALID_SNAPSHOT',
      'version',
    );
    const field = new TrafficField();
    field.apply(reading());
    const good = field.toSnapshot();
    const bad = { ...good, cells: [{ ...good.cells[0]!, weight: -1 }] };
    expectTotError(() => TrafficField.fromSnapshot(bad), 'GEO_INVALID_SNAPSHOT', 'cells[0].weight');
    expectTotError(
      () => TrafficField.fromSnapshot(good, { resolution: 9 }),
      'GEO_INVALID_SNAPSHOT',
      'resolution',
    );
    expectTotError(() => TrafficField.fromSnapshot(null), 'GEO_INVALID_SNAPSHOT', 'snapshot');
  });
});
