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
import { haversineKm } from '../geo/distance.ts';
import { etaSeconds } from '../geo/eta.ts';
import type { Booking } from './booking-types.ts';
import type { Candidate } from './candidates.ts';
import { offerTimeoutOf, type DispatchContext } from './dispatch-context.ts';
import { arrivalDeadline } from './deadlines.ts';
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

/** A doctor with a patient whose visit is expected to end within the look-ahead. */
interface SoonFreeDoctor {
  doctorId: string;
  lat: number;
  lng: number;
  specializations: readonly string[];
  rating: number | undefined;
  /** Expected end of the visit, ms since the epoch. */
  freeAt: number;
}

/**
 * The doctors about to be free, found once per batch from the dispatcher's own active visits (arrived or in progress,
 * the doctor on site) rather than by a fleet search per booking: a search for a status few doctors have widens ring
 * after ring over the whole city, while the visits ending within minutes are a few dozen even in a large fleet.
 */
export class SoonFreeDoctors {
  private readonly doctors: SoonFreeDoctor[] = [];

  constructor(
    private readonly context: DispatchContext,
    private readonly now: number,
  ) {
    const { settings, live, bookings } = context;
    if (settings.matching !== 'batched' || settings.lookAheadMs <= 0) return;
    const durations = matcherMemoryOf(context).durations;
    for (const visit of bookings.withStatus('arrived', 'in_progress')) {
      if (visit.doctorId === undefined) continue;
      const doctor = live.fleet.get(visit.doctorId);
      if (doctor?.status !== 'on_site' || doctor.lat === undefined || doctor.lng === undefined) continue;
      const elapsed = visit.status === 'in_progress' ? now - (visit.startedAt ?? now) : 0;
      const remaining = durations.remainingMs(
        visit.callType,
        elapsed,
        visit.estimatedDurationMinutes * 60_000,
      );
      if (remaining === undefined || remaining > settings.lookAheadMs) continue;
      this.doctors.push({
        doctorId: doctor.id,
        lat: doctor.lat,
        lng: doctor.lng,
        specializations: doctor.specializations,
        rating: doctor.rating,
        freeAt: now + remaining,
      });
    }
  }

  /** Doctors about to be free, for tools and tests. */
  get size(): number {
    return this.doctors.length;
  }

  /**
   * The booking's candidates among them: the nearest `candidates` (straight line) with its specialization, not among
   * its declined, expected free before its plan deadline, and reaching it within its maximum ETA and its arrival
   * target. Each candidate's ETA is the expected remaining visit time plus the drive (at the traffic of the time they
   * leave), `freeInSeconds` the first part; cheapest first. None for an emergency.
   */
  candidatesOf(booking: Booking): Candidate[] {
    const { context, now } = this;
    const { settings, live } = context;
    if (booking.emergency || this.doctors.length === 0) return [];
    const until = Math.min(now + settings.lookAheadMs, planDeadline(context, booking));
    const arriveBy = arrivalDeadline(context.settings, booking);
    const nearest = this.doctors
      .filter(
        (doctor) =>
          doctor.freeAt <= until &&
          !booking.declinedBy.includes(doctor.doctorId) &&
          (booking.specialization === undefined || doctor.specializations.includes(booking.specialization)),
      )
      .map((doctor) => ({
        doctor,
        distanceKm: haversineKm(booking.lat, booking.lng, doctor.lat, doctor.lng),
      }))
      .filter(({ distanceKm }) => distanceKm <= settings.maxKm)
      .sort((a, b) => a.distanceKm - b.distanceKm)
      .slice(0, settings.candidates);
    const candidates: Candidate[] = [];
    for (const { doctor, distanceKm } of nearest) {
      const drive = etaSeconds(
        live.traffic,
        { lat: doctor.lat, lng: doctor.lng },
        { lat: booking.lat, lng: booking.lng },
        doctor.freeAt,
        settings.eta,
      );
      const freeInSeconds = (doctor.freeAt - now) / 1000;
      const eta = freeInSeconds + drive;
      if (eta > settings.maxEtaSeconds || now + eta * 1000 > arriveBy) continue;
      const candidate: Candidate = {
        doctorId: doctor.doctorId,
        etaSeconds: eta,
        distanceKm,
        cost: 0,
        freeInSeconds,
      };
      if (doctor.rating !== undefined) candidate.rating = doctor.rating;
      candidate.cost = context.scorer.cost(candidate, false, now);
      candidates.push(candidate);
    }
    return candidates.sort(
      (a, b) => a.cost - b.cost || (a.doctorId < b.doctorId ? -1 : a.doctorId > b.doctorId ? 1 : 0),
    );
  }
}
