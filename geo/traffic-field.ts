/**
 * The traffic speed field: one speed estimate (km/h) per H3 cell, learnt from detector readings and falling back to a
 * time-of-day free-flow profile where no fresh reading exists.
 *
 * Pure: no I/O and no clock. Every time-dependent answer takes `now` (ms since the epoch) as an argument, so the
 * same readings and the same `now` always give the same speeds.
 */
import { cellToParent, getResolution, isValidCell, latLngToCell } from 'h3-js';
import { TotError } from './errors.ts';

/**
 * Typical weekday speed (km/h) of a Moscow-like city at each local hour 0..23; {@link freeFlowSpeedKmh} interpolates
 * linearly between the hours.
 *
 * An assumption, not a calibration: it follows the shape that published Moscow congestion indices show on weekdays
 * (a morning peak around 08:00–10:00, an evening peak around 17:00–20:00, night traffic about twice as fast as the
 * peaks) with ≈47 km/h at night and ≈22 km/h at the peaks. Weekends and holidays are not modelled. Replace it with
 * speeds measured by the detectors once enough history exists.
 */
export const MOSCOW_WEEKDAY_FREE_FLOW_KMH: readonly number[] = Object.freeze([
  45, 46, 47, 47, 47, 45, 40, 31, 24, 22, 25, 29, 30, 30, 29, 28, 25, 23, 22, 24, 29, 34, 39, 43,
]);

/** Fastest valid reading; anything above is a detector fault, not traffic. */
export const MAX_READING_SPEED_KMH = 250;

/**
 * Ratio of the estimated speed to the hour's free-flow speed at or above which a cell gets congestion level 0, 1 and 2;
 * below the last threshold it gets level 3.
 */
export const CONGESTION_THRESHOLDS = Object.freeze([0.8, 0.6, 0.4] as const);

/** 0 = free, 1 = slow, 2 = heavy, 3 = jammed — relative to the hour's free-flow speed. */
export type CongestionLevel = 0 | 1 | 2 | 3;

/** A point on the map. */
export interface LatLng {
  lat: number;
  lng: number;
}

/**
 * A detector reading as it arrives on `tot.readings`. `lat`/`lng` may be omitted once the detector has reported its
 * position with an earlier reading.
 */
export interface TrafficReading {
  detectorId: string;
  /** Time of measurement, ms since the epoch. */
  ts: number;
  /** Mean speed over the measurement interval, km/h, in [0, {@link MAX_READING_SPEED_KMH}]. */
  speedKmh: number;
  /** Vehicles counted over the measurement interval, ≥ 0 (the unit of ingest's reading schema). */
  volume?: number | null;
  /** Percentage of the interval the detector was occupied, in [0, 100]. */
  occupancy?: number | null;
  lat?: number | null;
  lng?: number | null;
}

/** What {@link TrafficField.apply} did with a reading. */
export type ReadingOutcome =
  /** Merged into its cell's estimate. */
  | 'applied'
  /** Not newer than the last reading applied from the same detector (a redelivery or a reorder); ignored. */
  | 'duplicate'
  /** So much older than its cell's latest reading that it could no longer influence any answer; ignored. */
  | 'stale';

/** Options of {@link TrafficField}; every field has a default. */
export interface TrafficFieldOptions {
  /**
   * H3 resolution of the field. Default 8: cells ≈0.74 km² with ≈0.53 km edges, about the reach of one detector's
   * road section and a few city blocks; a 3 km trip crosses 5–8 of them, which keeps the ETA cheap. Resolution 9
   * (≈0.1 km²) would leave most cells without a detector; resolution 7 (≈5 km²) would merge a jammed avenue with
   * the quiet streets beside it.
   */
  resolution?: number;
  /** Half-life of a reading's weight, ms. Default 5 min. */
  halfLifeMs?: number;
  /** Age (ms since the cell's latest reading) up to which the estimate is used as is. Default 15 min. */
  maxAgeMs?: number;
  /** After `maxAgeMs`, the estimate blends linearly into free flow over this many ms. Default 10 min. */
  fadeMs?: number;
  /** Offset of local time from UTC, hours, used to read the free-flow profile. Default +3 (Moscow, no DST). */
  utcOffsetHours?: number;
  /** Free-flow speed (km/h) for each local hour 0..23. Default {@link MOSCOW_WEEKDAY_FREE_FLOW_KMH}. */
  freeFlowProfileKmh?: readonly number[];
}

/** One cell's estimate as {@link TrafficField.freshCells} reports it. */
export interface CellSpeed {
  cell: string;
  /** The speed {@link TrafficField.speedAt} returns: the observed estimate, faded into free flow when old. */
  speedKmh: number;
  /** The time-weighted mean of the readings, without fading. */
  observedSpeedKmh: number;
  freeFlowKmh: number;
  level: CongestionLevel;
  /** `now` minus the cell's latest reading time, ms (0 for readings from the future). */
  ageMs: number;
  lastTs: number;
  /** Time-weighted mean volume (vehicles per detector interval), when any reading carried one. */
  volume?: number;
  /** Time-weighted mean occupancy in [0, 100] %, when any reading carried one. */
  occupancy?: number;
  /** Number of readings merged into the cell since it was created. */
  readings: number;
}

/** A cell's state in a {@link TrafficFieldSnapshot}; sums and weights are as of `lastTs`. */
export interface CellSnapshot {
  cell: string;
  lastTs: number;
  speedSum: number;
  weight: number;
  volumeSum: number;
  volumeWeight: number;
  occupancySum: number;
  occupancyWeight: number;
  readings: number;
}

/** A detector's last known cell and the time of its last applied reading. */
export interface DetectorSnapshot {
  detectorId: string;
  cell: string;
  lastTs: number;
}

/** Plain-object state of a {@link TrafficField}: numbers, strings and arrays only, so msgpack and JSON keep it intact. */
export interface TrafficFieldSnapshot {
  version: 1;
  resolution: number;
  cells: CellSnapshot[];
  detectors: DetectorSnapshot[];
}

const MS_PER_HOUR = 3_600_000;

/**
 * Free-flow speed (km/h) at a local hour of day, interpolated linearly between the hourly values of `profileKmh` and
 * wrapping from 23:00 to 00:00.
 *
 * @param localHour - hour of the local day, fractional; values outside [0, 24) wrap.
 * @throws TotError `GEO_INVALID_ARGUMENT` when `localHour` is not finite or the profile has not 24 positive values.
 */
export function freeFlowSpeedKmh(
  localHour: number,
  profileKmh: readonly number[] = MOSCOW_WEEKDAY_FREE_FLOW_KMH,
): number {
  if (!Number.isFinite(localHour)) {
    throw invalidArgument('localHour', localHour, 'a finite number');
  }
  if (profileKmh !== MOSCOW_WEEKDAY_FREE_FLOW_KMH) assertProfile(profileKmh);
  return interpolateProfile(profileKmh, localHour);
}

/**
 * Local hour of day (fractional, in [0, 24)) of an instant.
 *
 * @throws TotError `GEO_INVALID_ARGUMENT` when `now` or `utcOffsetHours` is not finite.
 */
export function localHourOf(now: number, utcOffsetHours: number): number {
  if (!Number.isFinite(now)) throw invalidArgument('now', now, 'a finite number of ms since the epoch');
  if (!Number.isFinite(utcOffsetHours))
    throw invalidArgument('utcOffsetHours', utcOffsetHours, 'a finite number');
  return wrapHour(now / MS_PER_HOUR + utcOffsetHours);
}

/**
 * Congestion level of a speed relative to a free-flow speed, by {@link CONGESTION_THRESHOLDS}.
 * A non-positive free-flow speed yields level 0 (nothing to compare with).
 */
export function congestionLevelOf(speedKmh: number, freeFlowKmh: number): CongestionLevel {
  if (!(freeFlowKmh > 0)) return 0;
  const ratio = speedKmh / freeFlowKmh;
  if (ratio >= CONGESTION_THRESHOLDS[0]) return 0;
  if (ratio >= CONGESTION_THRESHOLDS[1]) return 1;
  if (ratio >= CONGESTION_THRESHOLDS[2]) return 2;
  return 3;
}

interface CellState {
  lastTs: number;
  speedSum: number;
  weight: number;
  volumeSum: number;
  volumeWeight: number;
  occupancySum: number;
  occupancyWeight: number;
  readings: number;
}

interface DetectorState {
  cell: string;
  lastTs: number;
}

/**
 * Speed estimates per H3 cell, learnt from detector readings.
 *
 * Each cell holds a time-decayed weighted mean: a reading taken at `t` carries weight 2^(−(T − t) / halfLife) relative
 * to the cell's latest reading time `T`. Applying a newer reading first decays the cell's sums by the time elapsed
 * since `T`, so a reading after a long gap dominates; a reading older than `T` joins with its already-decayed weight.
 * Within the stale horizon the result does not depend on the order in which readings arrive. Example with a 5-minute half-life: 60 km/h at
 * 08:00 then 30 km/h at 08:05 gives (0.5·60 + 30) / (0.5 + 1) = 40 km/h.
 *
 * An estimate is used as is for `maxAgeMs` after the cell's latest reading, then blends linearly into the hour's
 * free-flow speed over `fadeMs`; after that the cell answers free flow and {@link prune} may drop it.
 */
export class TrafficField {
  /** H3 resolution of every cell of the field. */
  readonly resolution: number;
  /** See {@link TrafficFieldOptions.halfLifeMs}. */
  readonly halfLifeMs: number;
  /** See {@link TrafficFieldOptions.maxAgeMs}. */
  readonly maxAgeMs: number;
  /** See {@link TrafficFieldOptions.fadeMs}. */
  readonly fadeMs: number;
  /** See {@link TrafficFieldOptions.utcOffsetHours}. */
  readonly utcOffsetHours: number;
  private readonly profile: readonly number[];
  private readonly cells = new Map<string, CellState>();
  private readonly detectors = new Map<string, DetectorState>();

  /** @throws TotError `GEO_INVALID_RESOLUTION` or `GEO_INVALID_ARGUMENT` naming the offending option. */
  constructor(options: TrafficFieldOptions = {}) {
    const resolution = options.resolution ?? 8;
    if (!Number.isInteger(resolution) || resolution < 0 || resolution > 15) {
      throw new TotError(
        'GEO_INVALID_RESOLUTION',
        `options.resolution must be an integer in [0, 15], got ${String(resolution)}`,
        { field: 'resolution', value: resolution },
      );
    }
    this.resolution = resolution;
    this.halfLifeMs = positiveOption('halfLifeMs', options.halfLifeMs ?? 5 * 60_000);
    this.maxAgeMs = nonNegativeOption('maxAgeMs', options.maxAgeMs ?? 15 * 60_000);
    this.fadeMs = positiveOption('fadeMs', options.fadeMs ?? 10 * 60_000);
    const offset = options.utcOffsetHours ?? 3;
    if (!Number.isFinite(offset) || offset < -14 || offset > 14) {
      throw invalidArgument('options.utcOffsetHours', offset, 'a number in [-14, 14]');
    }
    this.utcOffsetHours = offset;
    const profile = options.freeFlowProfileKmh ?? MOSCOW_WEEKDAY_FREE_FLOW_KMH;
    assertProfile(profile);
    this.profile = Object.freeze([...profile]);
  }

  /** Number of cells holding an estimate (fresh or not yet pruned). */
  get size(): number {
    return this.cells.size;
  }

  /**
   * Merges a reading into its cell.
   *
   * The cell comes from the reading's lat/lng, or from the detector's last known position when they are absent.
   * Returns `'duplicate'` (nothing changes) when the detector already delivered a reading at or after `ts`, and
   * `'stale'` when the reading is older than its cell's latest by more than `maxAgeMs + fadeMs`.
   *
   * @throws TotError `GEO_INVALID_READING` naming the field when a value is missing, not finite or out of range
   *   (speed outside [0, 250] km/h, negative volume, occupancy outside [0, 100] %, bad coordinates, or no position for an
   *   unknown detector). A rejected reading changes nothing.
   */
  apply(reading: TrafficReading): ReadingOutcome {
    const cell = this.validateReading(reading);
    const detector = this.detectors.get(reading.detectorId);
    if (detector !== undefined && reading.ts <= detector.lastTs) return 'duplicate';

    const volume = reading.volume ?? undefined;
    const occupancy = reading.occupancy ?? undefined;
    const state = this.cells.get(cell);
    if (state === undefined) {
      this.cells.set(cell, {
        lastTs: reading.ts,
        speedSum: reading.speedKmh,
        weight: 1,
        volumeSum: volume ?? 0,
        volumeWeight: volume === undefined ? 0 : 1,
        occupancySum: occupancy ?? 0,
        occupancyWeight: occupancy === undefined ? 0 : 1,
        readings: 1,
      });
    } else {
      const lag = state.lastTs - reading.ts;
      if (lag > this.maxAgeMs + this.fadeMs) return 'stale';
      let weight = 1;
      if (lag > 0) {
        weight = Math.pow(2, -lag / this.halfLifeMs);
      } else if (lag < 0) {
        decay(state, Math.pow(2, lag / this.halfLifeMs));
        state.lastTs = reading.ts;
      }
      state.speedSum += weight * reading.speedKmh;
      state.weight += weight;
      if (volume !== undefined) {
        state.volumeSum += weight * volume;
        state.volumeWeight += weight;
      }
      if (occupancy !== undefined) {
        state.occupancySum += weight * occupancy;
        state.occupancyWeight += weight;
      }
      state.readings += 1;
    }
    if (detector === undefined) {
      this.detectors.set(reading.detectorId, { cell, lastTs: reading.ts });
    } else {
      detector.cell = cell;
      detector.lastTs = reading.ts;
    }
    return 'applied';
  }

  /** The free-flow speed (km/h) of the local hour of `now`. @throws TotError `GEO_INVALID_ARGUMENT` for a non-finite `now`. */
  freeFlowAt(now: number): number {
    return interpolateProfile(this.profile, localHourOf(now, this.utcOffsetHours));
  }

  /**
   * Estimated speed (km/h) at a cell or a point at `now`: the cell's estimate while fresh, blended into free flow as
   * it ages, free flow where the cell has no reading. A cell finer than the field's resolution is read through its
   * parent.
   *
   * @throws TotError `GEO_INVALID_ARGUMENT` for a non-finite `now`, `GEO_INVALID_CELL` for an invalid cell,
   *   `GEO_INVALID_RESOLUTION` for a cell coarser than the field, `GEO_INVALID_COORDINATE` for an invalid point.
   */
  speedAt(where: string | LatLng, now: number): number {
    const freeFlow = this.freeFlowAt(now);
    return this.cellSpeedKmh(this.cellOf(where), now, freeFlow);
  }

  /**
   * Congestion level (0..3) at a cell or point: {@link speedAt} relative to the hour's free-flow speed.
   *
   * @throws as {@link speedAt}.
   */
  congestionLevel(where: string | LatLng, now: number): CongestionLevel {
    const freeFlow = this.freeFlowAt(now);
    return congestionLevelOf(this.cellSpeedKmh(this.cellOf(where), now, freeFlow), freeFlow);
  }

  /**
   * The speed of a cell of the field's resolution, given the free-flow speed of `now`'s hour — the unchecked inner
   * step of {@link speedAt} for hot loops (the ETA) that already hold both. A cell of another resolution simply
   * answers `freeFlowKmh`.
   */
  cellSpeedKmh(cell: string, now: number, freeFlowKmh: number): number {
    const state = this.cells.get(cell);
    if (state === undefined) return freeFlowKmh;
    const observed = state.speedSum / state.weight;
    const age = now - state.lastTs;
    if (age <= this.maxAgeMs) return observed;
    const faded = (age - this.maxAgeMs) / this.fadeMs;
    if (faded >= 1) return freeFlowKmh;
    return observed + (freeFlowKmh - observed) * faded;
  }

  /**
   * Cells whose estimate still differs from free flow at `now` (age below `maxAgeMs + fadeMs`), in insertion order —
   * what the live map draws. Readings stamped after `now` count as age 0.
   *
   * @throws TotError `GEO_INVALID_ARGUMENT` for a non-finite `now`.
   */
  *freshCells(now: number): IterableIterator<CellSpeed> {
    const freeFlow = this.freeFlowAt(now);
    const horizon = this.maxAgeMs + this.fadeMs;
    for (const [cell, state] of this.cells) {
      const ageMs = Math.max(0, now - state.lastTs);
      if (ageMs >= horizon) continue;
      const speedKmh = this.cellSpeedKmh(cell, now, freeFlow);
      const entry: CellSpeed = {
        cell,
        speedKmh,
        observedSpeedKmh: state.speedSum / state.weight,
        freeFlowKmh: freeFlow,
        level: congestionLevelOf(speedKmh, freeFlow),
        ageMs,
        lastTs: state.lastTs,
        readings: state.readings,
      };
      if (state.volumeWeight > 0) entry.volume = state.volumeSum / state.volumeWeight;
      if (state.occupancyWeight > 0) entry.occupancy = state.occupancySum / state.occupancyWeight;
      yield entry;
    }
  }

  /**
   * Drops cells that answer pure free flow at `now` (age ≥ `maxAgeMs + fadeMs`); returns how many were dropped.
   * Detector positions are kept: they are bounded by the number of physical detectors.
   *
   * @throws TotError `GEO_INVALID_ARGUMENT` for a non-finite `now`.
   */
  prune(now: number): number {
    if (!Number.isFinite(now)) throw invalidArgument('now', now, 'a finite number of ms since the epoch');
    const horizon = this.maxAgeMs + this.fadeMs;
    let dropped = 0;
    for (const [cell, state] of this.cells) {
      if (now - state.lastTs >= horizon) {
        this.cells.delete(cell);
        dropped += 1;
      }
    }
    return dropped;
  }

  /** The field's state as plain objects (see {@link TrafficFieldSnapshot}); later changes do not affect it. */
  toSnapshot(): TrafficFieldSnapshot {
    const cells: CellSnapshot[] = [];
    for (const [cell, state] of this.cells) cells.push({ cell, ...state });
    const detectors: DetectorSnapshot[] = [];
    for (const [detectorId, state] of this.detectors) detectors.push({ detectorId, ...state });
    return { version: 1, resolution: this.resolution, cells, detectors };
  }

  /**
   * Rebuilds a field from {@link toSnapshot}'s output (for example after a msgpack round trip). The snapshot's
   * resolution wins unless `options.resolution` is given, in which case they must agree.
   *
   * @throws TotError `GEO_INVALID_SNAPSHOT` naming the offending path (e.g. `cells[3].weight`) when the value is not a
   *   version-1 snapshot or disagrees with `options.resolution`; the option errors of the constructor.
   */
  static fromSnapshot(snapshot: unknown, options: TrafficFieldOptions = {}): TrafficField {
    const root = asRecord(snapshot, 'snapshot');
    if (root.version !== 1) throw invalidSnapshot('version', root.version, 'must be 1');
    const resolution = root.resolution;
    if (
      typeof resolution !== 'number' ||
      !Number.isInteger(resolution) ||
      resolution < 0 ||
      resolution > 15
    ) {
      throw invalidSnapshot('resolution', resolution, 'must be an integer in [0, 15]');
    }
    if (options.resolution !== undefined && options.resolution !== resolution) {
      throw invalidSnapshot('resolution', resolution, `must equal options.resolution ${options.resolution}`);
    }
    const field = new TrafficField({ ...options, resolution });
    const cells = asArray(root.cells, 'cells');
    cells.forEach((raw, i) => {
      const path = `cells[${i}]`;
      const entry = asRecord(raw, path);
      const cell = snapshotCell(entry.cell, `${path}.cell`, resolution);
      const state: CellState = {
        lastTs: finiteNumber(entry.lastTs, `${path}.lastTs`),
        speedSum: nonNegative(entry.speedSum, `${path}.speedSum`),
        weight: positive(entry.weight, `${path}.weight`),
        volumeSum: nonNegative(entry.volumeSum, `${path}.volumeSum`),
        volumeWeight: nonNegative(entry.volumeWeight, `${path}.volumeWeight`),
        occupancySum: nonNegative(entry.occupancySum, `${path}.occupancySum`),
        occupancyWeight: nonNegative(entry.occupancyWeight, `${path}.occupancyWeight`),
        readings: nonNegative(entry.readings, `${path}.readings`),
      };
      field.cells.set(cell, state);
    });
    const detectors = asArray(root.detectors, 'detectors');
    detectors.forEach((raw, i) => {
      const path = `detectors[${i}]`;
      const entry = asRecord(raw, path);
      if (typeof entry.detectorId !== 'string' || entry.detectorId.length === 0) {
        throw invalidSnapshot(`${path}.detectorId`, entry.detectorId, 'must be a non-empty string');
      }
      field.detectors.set(entry.detectorId, {
        cell: snapshotCell(entry.cell, `${path}.cell`, resolution),
        lastTs: finiteNumber(entry.lastTs, `${path}.lastTs`),
      });
    });
    return field;
  }

  private cellOf(where: string | LatLng): string {
    if (typeof where === 'string') {
      if (this.cells.has(where)) return where;
      if (!isValidCell(where)) {
        throw new TotError('GEO_INVALID_CELL', `cell must be a valid H3 cell index, got ${where}`, {
          field: 'cell',
          value: where,
        });
      }
      const resolution = getResolution(where);
      if (resolution === this.resolution) return where;
      if (resolution < this.resolution) {
        throw new TotError(
          'GEO_INVALID_RESOLUTION',
          `cell ${where} has resolution ${resolution}, coarser than the field's ${this.resolution}`,
          { field: 'cell', value: where, resolution, expected: this.resolution },
        );
      }
      return cellToParent(where, this.resolution);
    }
    const { lat, lng } = where;
    if (!Number.isFinite(lat) || lat < -90 || lat > 90 || !Number.isFinite(lng) || lng < -180 || lng > 180) {
      throw new TotError(
        'GEO_INVALID_COORDINATE',
        `point must have lat in [-90, 90] and lng in [-180, 180], got ${lat}, ${lng}`,
        {
          field: 'lat/lng',
          value: { lat, lng },
        },
      );
    }
    return latLngToCell(lat, lng, this.resolution);
  }

  /** Returns the reading's cell; throws before anything changes. */
  private validateReading(reading: TrafficReading): string {
    if (typeof reading !== 'object' || reading === null) {
      throw new TotError('GEO_INVALID_READING', `reading must be an object, got ${String(reading)}`, {
        field: 'reading',
        value: reading,
      });
    }
    const { detectorId } = reading;
    if (typeof detectorId !== 'string' || detectorId.length === 0) {
      throw invalidReading('detectorId', detectorId, 'a non-empty string', detectorId);
    }
    if (typeof reading.ts !== 'number' || !Number.isFinite(reading.ts) || reading.ts < 0) {
      throw invalidReading('ts', reading.ts, 'a finite number of ms since the epoch, ≥ 0', detectorId);
    }
    const speed = reading.speedKmh;
    if (typeof speed !== 'number' || !Number.isFinite(speed) || speed < 0 || speed > MAX_READING_SPEED_KMH) {
      throw invalidReading('speedKmh', speed, `a finite number in [0, ${MAX_READING_SPEED_KMH}]`, detectorId);
    }
    const volume = reading.volume;
    if (volume != null && (typeof volume !== 'number' || !Number.isFinite(volume) || volume < 0)) {
      throw invalidReading('volume', volume, 'a finite number ≥ 0', detectorId);
    }
    const occupancy = reading.occupancy;
    if (
      occupancy != null &&
      (typeof occupancy !== 'number' || !Number.isFinite(occupancy) || occupancy < 0 || occupancy > 100)
    ) {
      throw invalidReading('occupancy', occupancy, 'a finite number in [0, 100] (percent)', detectorId);
    }
    const { lat, lng } = reading;
    if (lat == null && lng == null) {
      const known = this.detectors.get(detectorId);
      if (known === undefined) {
        throw invalidReading('lat', lat, 'present: the detector has no known position yet', detectorId);
      }
      return known.cell;
    }
    if (typeof lat !== 'number' || !Number.isFinite(lat) || lat < -90 || lat > 90) {
      throw invalidReading('lat', lat, 'a finite number in [-90, 90]', detectorId);
    }
    if (typeof lng !== 'number' || !Number.isFinite(lng) || lng < -180 || lng > 180) {
      throw invalidReading('lng', lng, 'a finite number in [-180, 180]', detectorId);
    }
    return latLngToCell(lat, lng, this.resolution);
  }
}

/** Below this factor the old sums are noise next to the new reading's weight of 1 and are dropped outright. */
const NEGLIGIBLE_DECAY = 1e-12;

function decay(state: CellState, factor: number): void {
  if (factor < NEGLIGIBLE_DECAY) factor = 0;
  state.speedSum *= factor;
  state.weight *= factor;
  state.volumeSum *= factor;
  state.volumeWeight *= factor;
  state.occupancySum *= factor;
  state.occupancyWeight *= factor;
}

function wrapHour(hour: number): number {
  const wrapped = hour % 24;
  return wrapped < 0 ? wrapped + 24 : wrapped;
}

function interpolateProfile(profile: readonly number[], localHour: number): number {
  const hour = wrapHour(localHour);
  const base = Math.floor(hour);
  const from = profile[base] as number;
  const to = profile[(base + 1) % 24] as number;
  return from + (to - from) * (hour - base);
}

function assertProfile(profile: readonly number[]): void {
  if (!Array.isArray(profile) || profile.length !== 24) {
    throw invalidArgument('freeFlowProfileKmh', profile, 'an array of 24 hourly speeds');
  }
  profile.forEach((speed, hour) => {
    if (typeof speed !== 'number' || !Number.isFinite(speed) || speed <= 0 || speed > MAX_READING_SPEED_KMH) {
      throw invalidArgument(
        `freeFlowProfileKmh[${hour}]`,
        speed,
        `a number in (0, ${MAX_READING_SPEED_KMH}]`,
      );
    }
  });
}

function positiveOption(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw invalidArgument(`options.${name}`, value, 'a finite number > 0');
  return value;
}

function nonNegativeOption(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw invalidArgument(`options.${name}`, value, 'a finite number ≥ 0');
  return value;
}

function invalidArgument(field: string, value: unknown, expected: string): TotError {
  return new TotError('GEO_INVALID_ARGUMENT', `${field} must be ${expected}, got ${describe(value)}`, {
    field,
    value,
  });
}

function invalidReading(field: string, value: unknown, expected: string, detectorId: unknown): TotError {
  return new TotError('GEO_INVALID_READING', `reading.${field} must be ${expected}, got ${describe(value)}`, {
    field,
    value,
    detectorId,
  });
}

function invalidSnapshot(path: string, value: unknown, rule: string): TotError {
  return new TotError(
    'GEO_INVALID_SNAPSHOT',
    `traffic field snapshot: ${path} ${rule}, got ${describe(value)}`,
    {
      field: path,
      value,
    },
  );
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

function asRecord(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidSnapshot(path, value, 'must be an object');
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw invalidSnapshot(path, value, 'must be an array');
  return value;
}

function finiteNumber(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalidSnapshot(path, value, 'must be a finite number');
  return value;
}

function nonNegative(value: unknown, path: string): number {
  const number = finiteNumber(value, path);
  if (number < 0) throw invalidSnapshot(path, value, 'must be ≥ 0');
  return number;
}

function positive(value: unknown, path: string): number {
  const number = finiteNumber(value, path);
  if (number <= 0) throw invalidSnapshot(path, value, 'must be > 0');
  return number;
}

function snapshotCell(value: unknown, path: string, resolution: number): string {
  if (typeof value !== 'string' || !isValidCell(value) || getResolution(value) !== resolution) {
    throw invalidSnapshot(path, value, `must be a valid H3 cell of resolution ${resolution}`);
  }
  return value;
}
