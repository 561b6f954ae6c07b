/**
 * The simulated traffic detectors: fixed sites that report the local traffic speed (the city's rush-hour profile,
 * slowed by hot spots) with noise every 30–60 s, plus a volume and an occupancy consistent with that speed.
 */
import type { City } from './city.ts';
import type { SimulatorConfig } from './config.ts';
import { nextIn, streamSeed } from './random.ts';
import type { SimStep } from './types.ts';

/** Stream family of the detectors' per-entity random streams (see random.ts). */
const DETECTOR_STREAMS = 11;
/** Capacity of one urban lane, vehicles per hour: a common planning figure, not a measurement. */
const CAPACITY_FLOW_PER_LANE_PER_HOUR = 1800;

/** Where a detector stands and what road it watches. */
export interface DetectorSite {
  detectorId: string;
  x: number;
  y: number;
  /** Speed of this road relative to the city's typical speed (an arterial is faster than a side street). */
  roadFactor: number;
  lanes: number;
}

/** Column-wise state of every detector. */
export class SimulatedDetectors {
  /** Number of detectors. */
  readonly count: number;
  private readonly lat: Float64Array;
  private readonly lng: Float64Array;
  private readonly nextAt: Float64Array;
  private readonly lastAt: Float64Array;
  private readonly rng: Uint32Array;

  constructor(
    private readonly config: SimulatorConfig,
    private readonly city: City,
    readonly sites: readonly DetectorSite[],
    private readonly uncongestedKmh: number,
  ) {
    const n = sites.length;
    this.count = n;
    this.lat = new Float64Array(n);
    this.lng = new Float64Array(n);
    this.nextAt = new Float64Array(n);
    this.lastAt = new Float64Array(n).fill(Number.NaN);
    this.rng = new Uint32Array(n);
    sites.forEach((site, i) => {
      this.rng[i] = streamSeed(config.seed, DETECTOR_STREAMS, i);
      this.lat[i] = city.latOf(site.y);
      this.lng[i] = city.lngOf(site.x);
      // Spread the first readings over one interval so the detectors do not report in lockstep.
      this.nextAt[i] = Math.floor(nextIn(this.rng, i) * config.readingIntervalMs[1]);
    });
  }

  /** Shifts every relative time by the first `now`; called once before the first step. */
  start(t0: number): void {
    for (let i = 0; i < this.count; i += 1) this.nextAt[i] = (this.nextAt[i] as number) + t0;
  }

  /** Emits every reading due in (from, to] — and at `from` itself on the first step. */
  advance(to: number, out: SimStep): void {
    const [min, max] = this.config.readingIntervalMs;
    for (let i = 0; i < this.count; i += 1) {
      while ((this.nextAt[i] as number) <= to) {
        const ts = this.nextAt[i] as number;
        const last = this.lastAt[i] as number;
        const intervalMs = Number.isNaN(last) ? min : ts - last;
        this.emit(i, ts, intervalMs, out);
        this.lastAt[i] = ts;
        this.nextAt[i] = ts + min + Math.floor(this.random(i) * (max - min + 1));
      }
    }
  }

  private emit(i: number, ts: number, intervalMs: number, out: SimStep): void {
    const site = this.sites[i] as DetectorSite;
    const typical = this.city.speedKmh(site.x, site.y, this.city.conditionsAt(ts)) * site.roadFactor;
    // Triangular noise of ±20 %: single readings scatter, averages follow the profile.
    const speedKmh = Math.min(
      250,
      Math.round(typical * (0.8 + 0.2 * (this.random(i) + this.random(i))) * 10) / 10,
    );
    // Greenshields: flow peaks at half the free speed; clamped so that night roads still carry some traffic.
    const ratio = Math.min(0.95, Math.max(0.05, speedKmh / (this.uncongestedKmh * site.roadFactor)));
    const flowPerHour = site.lanes * CAPACITY_FLOW_PER_LANE_PER_HOUR * 4 * ratio * (1 - ratio);
    const volume = Math.round(((flowPerHour * intervalMs) / 3_600_000) * (0.85 + 0.3 * this.random(i)));
    const occupancy =
      Math.round(Math.min(100, 100 * (0.05 + 0.55 * (1 - ratio)) * (0.9 + 0.2 * this.random(i))) * 10) / 10;
    out.readings.push({
      detectorId: site.detectorId,
      ts,
      speedKmh,
      volume,
      occupancy,
      lat: this.lat[i] as number,
      lng: this.lng[i] as number,
    });
  }

  private random(i: number): number {
    return nextIn(this.rng, i);
  }
}
