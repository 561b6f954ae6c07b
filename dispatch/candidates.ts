/**
 * Candidate doctors of a booking: the nearest doctors of the wanted statuses and specialization from the fleet index,
 * minus those the caller excludes (declined, held, reserved), each with a traffic-aware ETA to the patient, kept only
 * within the maximum ETA, cheapest first.
 */
import type { Fleet } from '../engine/fleet.ts';
import type { DoctorStatus } from '../engine/fleet-types.ts';
import { etaSeconds, type EtaOptions } from '../geo/eta.ts';
import type { TrafficField } from '../geo/traffic-field.ts';
import type { Booking } from './booking-types.ts';
import type { Scorer } from './scoring.ts';

/**
 * The live state the dispatcher reads: pass the Engine itself (its fleet and traffic are replaced when a snapshot is
 * restored, so they are read through this object every time, never kept).
 */
export interface LiveState {
  readonly fleet: Fleet;
  readonly traffic: TrafficField;
}

/** A doctor who could take a booking. */
export interface Candidate {
  doctorId: string;
  etaSeconds: number;
  distanceKm: number;
  rating?: number;
  /** {@link Scorer.cost}; candidates come sorted by it. */
  cost: number;
  /**
   * Set for a doctor still with a patient (look-ahead.ts): expected seconds until the visit ends, included in
   * `etaSeconds`. Such a candidate is planned, never offered, until the visit is over.
   */
  freeInSeconds?: number;
}

/** What {@link findCandidates} searches. */
export interface CandidateQuery {
  /** Nearest doctors to consider, before exclusions. */
  k: number;
  maxKm: number;
  maxEtaSeconds: number;
  /** Default `available`. */
  status?: DoctorStatus | readonly DoctorStatus[];
  eta?: EtaOptions;
}

/**
 * The candidates of `booking` at time `now`: up to `k` nearest doctors with the status and the booking's
 * specialization (and not in its declinedBy, nor excluded by `exclude`), with an ETA from their last position, those
 * within `maxEtaSeconds`, sorted by cost then id. The search asks the index for `k` plus the excluded doctors it may
 * meet so that exclusions do not shrink the list.
 */
export function findCandidates(
  live: LiveState,
  scorer: Scorer,
  booking: Booking,
  now: number,
  query: CandidateQuery,
  exclude: (doctorId: string) => boolean = () => false,
): Candidate[] {
  const fleet = live.fleet;
  const options = {
    k: query.k + booking.declinedBy.length,
    status: query.status ?? 'available',
    maxKm: query.maxKm,
    ...(booking.specialization === undefined ? {} : { specialization: booking.specialization }),
  };
  let hits = fleet.nearbyBrief(booking.lat, booking.lng, options);
  const declined = new Set(booking.declinedBy);
  let kept = hits.filter((hit) => !declined.has(hit.id) && !exclude(hit.id));
  // Held or reserved doctors are normally not `available`; a second, wider look covers the rare case they still are.
  if (kept.length < query.k && hits.length === options.k) {
    options.k = options.k * 2 + query.k;
    hits = fleet.nearbyBrief(booking.lat, booking.lng, options);
    kept = hits.filter((hit) => !declined.has(hit.id) && !exclude(hit.id));
  }
  const destination = { lat: booking.lat, lng: booking.lng };
  const candidates: Candidate[] = [];
  for (const hit of kept.slice(0, query.k)) {
    const eta = etaSeconds(live.traffic, hit, destination, now, query.eta);
    if (eta > query.maxEtaSeconds) continue;
    const candidate: Candidate = {
      doctorId: hit.id,
      etaSeconds: eta,
      distanceKm: hit.distanceKm,
      cost: 0,
    };
    if (hit.rating !== undefined) candidate.rating = hit.rating;
    candidate.cost = scorer.cost(candidate, booking.emergency, now);
    candidates.push(candidate);
  }
  candidates.sort(
    (a, b) => a.cost - b.cost || (a.doctorId < b.doctorId ? -1 : a.doctorId > b.doctorId ? 1 : 0),
  );
  return candidates;
}
