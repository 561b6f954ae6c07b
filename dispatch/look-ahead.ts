/**
 * Look-ahead for batched matching: a doctor with a patient whose visit should end soon is a candidate for a routine
 * booking, at an ETA of the visit's expected remaining time plus the drive from there. When the batch's joint
 * assignment gives a booking such a doctor — because the nearest free doctor is much further than that wait plus
 * drive — the booking is planned, not offered: it keeps searching with the plan in memory, the planned doctor is
 * offered nothing and keeps their current booking (a doctor holds one booking at a time, the store enforces it), and
 * every batch plans again from what is then known (the plans are kept in matcher-memory.ts). Once the doctor's visit
 * ends they are an ordinary available candidate and, still the best, get the offer in the next batch; if another
 * doctor comes free nearer first, or the visit overruns, the booking simply goes elsewhere.
 *
 * How long a visit still runs comes from the durations of the visits seen ending (visit-durations.ts). Emergencies
 * never wait for a doctor: they are matched one by one from free doctors (emergency.ts). A plan never reaches past the
 * booking's search timeout (less a margin for one declined offer) nor past its arrival target.
 */
import { etaSeconds } from '../geo/eta.ts';
import type { Booking } from './booking-types.ts';
import type { Candidate } from './candidates.ts';
import { arrivalDeadline, offerTimeoutOf, type DispatchContext } from './dispatch-context.ts';
import { matcherMemoryOf } from './matcher-memory.ts';

/**
 * How long a planned booking waits before it is planned again when nothing else happens, ms. Its planned doctor coming
 * free starts a batch at once (MatcherMemory.plannedDoctorFreed), and any new booking starts one that plans every
 * searching booking again; this only bounds how long a plan goes unchecked otherwise. Re-planning at every batch
 * window instead would run a batch at every tick while anyone waits, for decisions that change in minutes.
 */
export const REPLAN_EVERY_MS = 15_000;

/**
 * The latest time a plan for `booking` may expect its doctor free: the search timeout, less one offer's timeout and
 * one more for an answer (so that an offer made then may still be declined and another made), less the batch window.
 */
export function planDeadline(context: DispatchContext, booking: Booking): number {
  const { searchTimeoutMs, batchWindowMs } = context.settings;
  return (
    (booking.searchingAt ?? booking.createdAt) +
    searchTimeoutMs -
    2 * offerTimeoutOf(context, booking) -
    batchWindowMs
  );
}

/**
 * Doctors with a patient (on site, their booking arrived or in progress) among the nearest `candidates` with the
 * booking's specialization, whose visit is expected to end within the look-ahead and before the plan deadline, and
 * who would then reach the booking within its maximum ETA and its arrival target. Each candidate's ETA is the
 * expected remaining visit time plus the drive (at the traffic of the time they leave), `freeInSeconds` the first
 * part; cheapest first. None for an emergency or with the look-ahead off.
 */
export function soonFreeCandidates(context: DispatchContext, booking: Booking, now: number): Candidate[] {
  const { settings, live, bookings } = context;
  if (booking.emergency || settings.lookAheadMs <= 0) return [];
  const until = Math.min(now + settings.lookAheadMs, planDeadline(context, booking));
  if (until <= now) return [];
  const arriveBy = arrivalDeadline(context, booking);
  const durations = matcherMemoryOf(context).durations;
  const declined = new Set(booking.declinedBy);
  const hits = live.fleet.nearby(booking.lat, booking.lng, {
    k: settings.candidates,
    status: 'on_site',
    maxKm: settings.maxKm,
    ...(booking.specialization === undefined ? {} : { specialization: booking.specialization }),
  });
  const candidates: Candidate[] = [];
  for (const { doctor, distanceKm } of hits) {
    if (doctor.lat === undefined || doctor.lng === undefined || declined.has(doctor.id)) continue;
    const visit = bookings.holderOf(doctor.id);
    if (visit?.status !== 'in_progress' && visit?.status !== 'arrived') continue;
    const elapsed = visit.status === 'in_progress' ? now - (visit.startedAt ?? now) : 0;
    const remaining = durations.remainingMs(visit.callType, elapsed, visit.estimatedDurationMinutes * 60_000);
    if (remaining === undefined || now + remaining > until) continue;
    const drive = etaSeconds(
      live.traffic,
      { lat: doctor.lat, lng: doctor.lng },
      { lat: booking.lat, lng: booking.lng },
      now + remaining,
      settings.eta,
    );
    const eta = remaining / 1000 + drive;
    if (eta > settings.maxEtaSeconds || now + eta * 1000 > arriveBy) continue;
    const candidate: Candidate = { doctorId: doctor.id, etaSeconds: eta, distanceKm, cost: 0 };
    candidate.freeInSeconds = remaining / 1000;
    if (doctor.rating !== undefined) candidate.rating = doctor.rating;
    candidate.cost = context.scorer.cost(candidate, false, now);
    candidates.push(candidate);
  }
  return candidates.sort(
    (a, b) => a.cost - b.cost || (a.doctorId < b.doctorId ? -1 : a.doctorId > b.doctorId ? 1 : 0),
  );
}
