/**
 * Options of the city simulator: a plain object with defaults, so engine/config.ts can map environment variables onto
 * it and benchmarks can build one in code.
 */
import { TotError } from '../../geo/errors.ts';

/** A lat/lng rectangle. */
export interface CityBox {
  minLat: number;
  maxLat: number;
  minLng: number;
  maxLng: number;
}

/** Moscow inside the MKAD ring road and a little beyond. */
export const MOSCOW_BOX: Readonly<CityBox> = Object.freeze({
  minLat: 55.55,
  maxLat: 55.9,
  minLng: 37.35,
  maxLng: 37.85,
});

/** A closed range [min, max]. */
export type Range = readonly [min: number, max: number];

/** Options of {@link CitySimulator}; every field has a default. */
export interface SimulatorOptions {
  /** Where everything happens. Default {@link MOSCOW_BOX}. */
  box?: CityBox;
  /** Number of doctors. Default 2000. */
  doctors?: number;
  /** Number of traffic detectors. Default 200. */
  detectors?: number;
  /** Number of clinics the doctors belong to. Default 12. */
  clinics?: number;
  /** Number of congestion hot spots. Default 6. */
  hotSpots?: number;
  /** Same seed and same sequence of `step(now)` calls ⇒ same output. Default 42. */
  seed?: number;
  /** Interval of the driver's timer, wall-clock ms. Default 250. */
  tickMs?: number;
  /** Simulated ms per wall-clock ms, used by the driver. Default 1. */
  speedUp?: number;
  /** Long-run share of doctors on duty, in [0, 1]. Default 0.8. */
  onDutyShare?: number;
  /** Probability that an on-duty doctor goes off duty within an hour, in [0, 1). Default 0.05. */
  offDutyPerHour?: number;
  /** Time between two fixes of one doctor, simulated ms. Default [1000, 5000]. */
  fixIntervalMs?: Range;
  /** Time between two readings of one detector, simulated ms. Default [30000, 60000]. */
  readingIntervalMs?: Range;
  /** Time an idle doctor stays parked between two drives, simulated minutes. Default [10, 60]. */
  idleMinutes?: Range;
  /** Great-circle length of an idle doctor's drive, km. Default [0.5, 8]. */
  tripKm?: Range;
  /** Offset of local time from UTC, hours, for the rush-hour profile. Default +3 (Moscow). */
  utcOffsetHours?: number;
}

/** {@link SimulatorOptions} with every default filled in and checked. */
export type SimulatorConfig = Readonly<Required<SimulatorOptions>>;

/**
 * Fills in the defaults and checks every option.
 *
 * @throws TotError `GEO_INVALID_ARGUMENT` naming the first bad option (e.g. `simulator.doctors`) and its value.
 */
export function resolveSimulatorConfig(options: SimulatorOptions = {}): SimulatorConfig {
  const box = options.box ?? MOSCOW_BOX;
  for (const key of ['minLat', 'maxLat', 'minLng', 'maxLng'] as const) {
    const limit = key.endsWith('Lat') ? 90 : 180;
    check(
      `box.${key}`,
      box[key],
      Number.isFinite(box[key]) && Math.abs(box[key]) <= limit,
      `in [-${limit}, ${limit}]`,
    );
  }
  check('box', box, box.minLat < box.maxLat && box.minLng < box.maxLng, 'non-empty (min < max)');
  const config: Required<SimulatorOptions> = {
    box: { ...box },
    doctors: integer('doctors', options.doctors ?? 2000, 0, 10_000_000),
    detectors: integer('detectors', options.detectors ?? 200, 0, 1_000_000),
    clinics: integer('clinics', options.clinics ?? 12, 1, 10_000),
    hotSpots: integer('hotSpots', options.hotSpots ?? 6, 0, 1000),
    seed: integer('seed', options.seed ?? 42, 0, 2 ** 32 - 1),
    tickMs: number('tickMs', options.tickMs ?? 250, 1, 3_600_000),
    speedUp: number('speedUp', options.speedUp ?? 1, 1e-3, 1e6),
    onDutyShare: number('onDutyShare', options.onDutyShare ?? 0.8, 0, 1),
    offDutyPerHour: number('offDutyPerHour', options.offDutyPerHour ?? 0.05, 0, 0.999_999),
    fixIntervalMs: range('fixIntervalMs', options.fixIntervalMs ?? [1000, 5000], 1, 86_400_000, true),
    readingIntervalMs: range(
      'readingIntervalMs',
      options.readingIntervalMs ?? [30_000, 60_000],
      1,
      86_400_000,
      true,
    ),
    idleMinutes: range('idleMinutes', options.idleMinutes ?? [10, 60], 0.01, 24 * 60, false),
    tripKm: range('tripKm', options.tripKm ?? [0.5, 8], 0.01, 1000, false),
    utcOffsetHours: number('utcOffsetHours', options.utcOffsetHours ?? 3, -14, 14),
  };
  return Object.freeze(config);
}

function check(field: string, value: unknown, ok: boolean, expected: string): void {
  if (!ok) {
    throw new TotError(
      'GEO_INVALID_ARGUMENT',
      `simulator.${field} must be ${expected}, got ${JSON.stringify(value)}`,
      {
        field: `simulator.${field}`,
        value,
      },
    );
  }
}

function number(field: string, value: number, min: number, max: number): number {
  check(field, value, Number.isFinite(value) && value >= min && value <= max, `a number in [${min}, ${max}]`);
  return value;
}

function integer(field: string, value: number, min: number, max: number): number {
  check(
    field,
    value,
    Number.isInteger(value) && value >= min && value <= max,
    `an integer in [${min}, ${max}]`,
  );
  return value;
}

function range(field: string, value: Range, min: number, max: number, integral: boolean): Range {
  const valid =
    Array.isArray(value) &&
    value.length === 2 &&
    value.every(
      (bound) =>
        Number.isFinite(bound) && bound >= min && bound <= max && (!integral || Number.isInteger(bound)),
    ) &&
    value[0] <= value[1];
  check(
    field,
    value,
    valid,
    `[min, max] with ${integral ? 'integers' : 'numbers'} in [${min}, ${max}] and min ≤ max`,
  );
  return Object.freeze([value[0], value[1]] as const);
}
