/**
 * Coverage: what taking a doctor leaves behind. A free doctor is the cover of the streets around them; once they go,
 * the next patient there waits for the nearest doctor still free. The gap of a doctor is that doctor's ETA — the drive
 * from where the doctor is (or will be free, for a doctor finishing a visit) to the nearest other available doctor.
 * Batched matching adds a share of it to each candidate's cost (DispatchSettings coverageWeight), so that of two
 * doctors about as near to a patient it takes the one from where free doctors are plenty, and does not empty an area.
 */
import { NearbyColumns } from '../engine/fleet.ts';
import { etaSeconds } from '../geo/eta.ts';
import type { LatLng } from '../geo/traffic-field.ts';
import type { Candidate } from './candidates.ts';
import type { DispatchContext } from './dispatch-context.ts';

/**
 * The largest gap counted, seconds: an area with nobody free within a quarter of an hour is uncovered whichever doctor
 * goes, so further differences say nothing.
 */
export const MAX_GAP_SECONDS = 900;

/**
 * How far the search for the nearest other free doctor goes, km: beyond the distance {@link MAX_GAP_SECONDS} covers
 * in town. A search with no limit for a status few doctors have (a busy city) widens ring after ring over the whole
 * city, for a gap the cap would clip anyway.
 */
export const GAP_SEARCH_KM = 10;

/**
 * Gaps of doctors, computed once per doctor and batch: `gapSeconds(doctorId, lat, lng)` is the ETA from (lat, lng) to
 * the nearest available, unheld doctor other than `doctorId`, at most {@link MAX_GAP_SECONDS} (also when there is none
 * within {@link GAP_SEARCH_KM}).
 */
export class CoverageGaps {
  private readonly gaps = new Map<string, number>();
  // Reused by every gap search: a batch runs ~10 000 of them, and a hit object each was a fifth of what it allocated.
  private readonly nearest = new NearbyColumns();
  private readonly from: LatLng = { lat: 0, lng: 0 };
  private readonly to: LatLng = { lat: 0, lng: 0 };

  constructor(
    private readonly context: DispatchContext,
    private readonly now: number,
  ) {}

  /**
   * Adds coverageWeight × gap to the cost of each candidate (where the fleet places them); nothing with the weight
   * at 0.
   */
  addTo(candidates: readonly Candidate[]): void {
    const weight = this.context.settings.coverageWeight;
    if (weight <= 0) return;
    const fleet = this.context.live.fleet;
    for (const candidate of candidates) {
      let gap = this.gaps.get(candidate.doctorId);
      if (gap === undefined) {
        const position = fleet.positionOf(candidate.doctorId);
        if (position === undefined) continue;
        gap = this.gapSeconds(candidate.doctorId, position.lat, position.lng);
      }
      candidate.cost += weight * gap;
    }
  }

  /** The gap of the doctor at (lat, lng), seconds; see the class. */
  gapSeconds(doctorId: string, lat: number, lng: number): number {
    const known = this.gaps.get(doctorId);
    if (known !== undefined) return known;
    const { live, bookings, settings } = this.context;
    const nearest = this.nearest;
    const hits = live.fleet.nearbyInto(
      lat,
      lng,
      { k: 4, status: 'available', maxKm: Math.min(settings.maxKm, GAP_SEARCH_KM) },
      nearest,
    );
    let gap = MAX_GAP_SECONDS;
    for (let i = 0; i < hits; i++) {
      const id = nearest.ids[i] as string;
      if (id === doctorId || !bookings.isFree(id)) continue;
      this.from.lat = nearest.lat[i] as number;
      this.from.lng = nearest.lng[i] as number;
      this.to.lat = lat;
      this.to.lng = lng;
      gap = Math.min(gap, etaSeconds(live.traffic, this.from, this.to, this.now, settings.eta));
      break;
    }
    this.gaps.set(doctorId, gap);
    return gap;
  }
}
