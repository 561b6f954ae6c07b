/**
 * The simulated city: a flat local plane over the box (metres east and north of its south-west corner) and the speed
 * traffic moves at, anywhere and at any time. Doctors drive at these speeds and detectors measure them, so what the
 * traffic field learns from the detectors is what the doctors experience.
 */
import { MOSCOW_WEEKDAY_FREE_FLOW_KMH, freeFlowSpeedKmh, localHourOf } from '../../geo/traffic-field.ts';
import type { CityBox } from './config.ts';
import type { SimHotSpot } from './types.ts';

const METERS_PER_DEGREE = 111_320;
const PROFILE_MAX = Math.max(...MOSCOW_WEEKDAY_FREE_FLOW_KMH);
const PROFILE_MIN = Math.min(...MOSCOW_WEEKDAY_FREE_FLOW_KMH);
/** Hot spots act out to three radii; beyond, exp(−4.5) ≈ 1 % of the slowdown is not worth the exp(). */
const HOT_SPOT_REACH = 3;
const MS_PER_MINUTE = 60_000;

/** Traffic conditions of one instant, computed once per step and shared by every entity. */
export interface Conditions {
  /** The city's free-flow speed of the hour, km/h. */
  freeFlowKmh: number;
  /** 0 at the quietest hour of the profile, 1 at the busiest. */
  rushness: number;
}

/** Projection of the box onto a plane, and the traffic speed over it. */
export class City {
  /** East–west extent of the box, metres. */
  readonly widthM: number;
  /** North–south extent of the box, metres. */
  readonly heightM: number;
  private readonly metersPerDegreeLng: number;
  private readonly spots: Float64Array;
  private cachedMinute = Number.NaN;
  private cachedConditions: Conditions = { freeFlowKmh: 0, rushness: 0 };

  /**
   * @param box - the city; positions outside it are clamped onto it.
   * @param hotSpots - slow places; their positions must lie in the box.
   * @param utcOffsetHours - offset of local time, for the rush-hour profile.
   */
  constructor(
    readonly box: Readonly<CityBox>,
    readonly hotSpots: readonly SimHotSpot[],
    readonly utcOffsetHours: number,
  ) {
    // An equirectangular plane at the box's mid latitude: over a 40 km city the distortion (< 0.5 %) is invisible.
    this.metersPerDegreeLng = METERS_PER_DEGREE * Math.cos((((box.minLat + box.maxLat) / 2) * Math.PI) / 180);
    this.widthM = (box.maxLng - box.minLng) * this.metersPerDegreeLng;
    this.heightM = (box.maxLat - box.minLat) * METERS_PER_DEGREE;
    // Packed as [x, y, 1 / (2 r²), reach², severity] per spot for a tight inner loop.
    this.spots = new Float64Array(hotSpots.length * 5);
    hotSpots.forEach((spot, i) => {
      this.spots[i * 5] = this.xOf(spot.lng);
      this.spots[i * 5 + 1] = this.yOf(spot.lat);
      this.spots[i * 5 + 2] = 1 / (2 * spot.radiusM * spot.radiusM);
      this.spots[i * 5 + 3] = (HOT_SPOT_REACH * spot.radiusM) ** 2;
      this.spots[i * 5 + 4] = spot.severity;
    });
  }

  /** Metres east of the box's west edge. */
  xOf(lng: number): number {
    return (lng - this.box.minLng) * this.metersPerDegreeLng;
  }

  /** Metres north of the box's south edge. */
  yOf(lat: number): number {
    return (lat - this.box.minLat) * METERS_PER_DEGREE;
  }

  /** Longitude of a plane x, clamped into the box. */
  lngOf(x: number): number {
    return Math.min(
      this.box.maxLng,
      Math.max(this.box.minLng, this.box.minLng + x / this.metersPerDegreeLng),
    );
  }

  /** Latitude of a plane y, clamped into the box. */
  latOf(y: number): number {
    return Math.min(this.box.maxLat, Math.max(this.box.minLat, this.box.minLat + y / METERS_PER_DEGREE));
  }

  /** Clamps a plane x into the box with a margin (metres). */
  clampX(x: number, margin = 0): number {
    return Math.min(this.widthM - margin, Math.max(margin, x));
  }

  /** Clamps a plane y into the box with a margin (metres). */
  clampY(y: number, margin = 0): number {
    return Math.min(this.heightM - margin, Math.max(margin, y));
  }

  /**
   * Conditions at `now` (simulated ms since the epoch), at one-minute resolution: the profile barely moves within a
   * minute, and the cache turns a per-event computation into a comparison.
   */
  conditionsAt(now: number): Conditions {
    const minute = Math.floor(now / MS_PER_MINUTE);
    if (minute !== this.cachedMinute) {
      const freeFlowKmh = freeFlowSpeedKmh(localHourOf(minute * MS_PER_MINUTE, this.utcOffsetHours));
      this.cachedConditions = {
        freeFlowKmh,
        rushness: (PROFILE_MAX - freeFlowKmh) / (PROFILE_MAX - PROFILE_MIN),
      };
      this.cachedMinute = minute;
    }
    return this.cachedConditions;
  }

  /**
   * Typical traffic speed at a plane point, km/h: the hour's free flow slowed by every hot spot in reach. A hot spot
   * keeps 40 % of its severity at night and reaches all of it at the worst rush hour.
   */
  speedKmh(x: number, y: number, conditions: Conditions): number {
    const spots = this.spots;
    const intensity = 0.4 + 0.6 * conditions.rushness;
    let factor = 1;
    for (let i = 0; i < spots.length; i += 5) {
      const dx = x - (spots[i] as number);
      const dy = y - (spots[i + 1] as number);
      const d2 = dx * dx + dy * dy;
      if (d2 >= (spots[i + 3] as number)) continue;
      factor *= 1 - (spots[i + 4] as number) * intensity * Math.exp(-d2 * (spots[i + 2] as number));
    }
    return conditions.freeFlowKmh * factor;
  }
}
