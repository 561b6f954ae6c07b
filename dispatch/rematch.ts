/**
 * Rematching: a routine booking whose doctor is still far away (en route) is given to a free doctor who would arrive
 * much sooner — one who came free near the patient after the first match was made. The far doctor is told the visit
 * is withdrawn and is free again where they are; the booking goes back to searching (reason
 * `reassigned:nearer_doctor`) and is offered at once to the nearer doctor. A booking is rematched at most once, and
 * only when the saving reaches `rematchSavingMs` — enough to be worth a second offer (which may be declined) and a
 * doctor turned round.
 */
import { haversineKm } from '../geo/distance.ts';
import type { Booking } from './booking-types.ts';
import { findCandidates } from './candidates.ts';
import { withdraw, type DispatchContext } from './dispatch-context.ts';
import { matcherMemoryOf } from './matcher-memory.ts';
import { etaOf, offerTo, releaseWrite } from './offers.ts';
import { SYSTEM } from './recorder.ts';
import { TimeSlice } from './time-slice.ts';

/**
 * How often the en-route bookings are looked at, ms: a doctor freed meanwhile waits this long at most, little against
 * the minutes a rematch must save. Every 5 s and every 30 s gave the same waits in the simulation (within its noise);
 * every 5 s took 12 % of its CPU profile (a fleet search and ten ETAs per en-route booking at each look).
 */
export const REMATCH_EVERY_MS = 15_000;

/**
 * Rematches the en-route routine bookings that a free doctor would reach at least `rematchSavingMs` sooner, the
 * largest savings first; returns how many got an offer from a nearer doctor.
 */
export async function rematchEnRoute(context: DispatchContext, now: number): Promise<number> {
  const saving = context.settings.rematchSavingMs / 1000;
  if (!(saving > 0) || context.settings.matching !== 'batched') return 0;
  const memory = matcherMemoryOf(context);
  if (now - memory.lastRematchAt < REMATCH_EVERY_MS) return 0;
  memory.lastRematchAt = now;
  memory.forgetFinished(context);
  const { settings, bookings, live } = context;
  const chances: { booking: Booking; remaining: number; distanceKm: number }[] = [];
  // Both loops give way in slices: an ETA per en-route booking held the event loop 222–227 ms at 25 000 of them.
  const slice = new TimeSlice();
  for (const booking of bookings.withStatus('en_route')) {
    await slice.pause();
    if (booking.emergency || booking.scheduledAt !== undefined || memory.rematched.has(booking.id)) continue;
    const doctor = live.fleet.positionOf(booking.doctorId as string);
    const remaining = etaOf(context, booking.doctorId as string, booking, now);
    if (remaining === undefined || remaining <= saving || doctor === undefined) continue;
    chances.push({
      booking,
      remaining,
      distanceKm: haversineKm(doctor.lat, doctor.lng, booking.lat, booking.lng),
    });
  }
  chances.sort((a, b) => b.remaining - a.remaining);
  let rematched = 0;
  for (const { booking, remaining, distanceKm } of chances) {
    await slice.pause();
    // A doctor who arrives minutes sooner is nearer than the one on the way: the search stops at that distance.
    const best = findCandidates(
      live,
      context.scorer,
      booking,
      now,
      {
        k: settings.candidates,
        maxKm: Math.min(settings.maxKm, distanceKm),
        maxEtaSeconds: remaining - saving,
        eta: settings.eta,
      },
      (doctorId) => !bookings.isFree(doctorId),
    ).sort((a, b) => a.etaSeconds - b.etaSeconds)[0];
    if (best === undefined) continue;
    const released = await context.locks.run([booking.id], async () => {
      const current = context.bookings.get(booking.id);
      if (current?.status !== 'en_route' || current.doctorId !== booking.doctorId) return false;
      await context.recorder.record([releaseWrite(current, SYSTEM, now, 'reassigned:nearer_doctor', false)]);
      withdraw(context, booking.doctorId as string, booking.id, 'reassigned');
      return true;
    });
    if (!released) continue;
    memory.rematched.add(booking.id);
    if (await offerTo(context, booking.id, best, now, 'matched:rematch')) rematched++;
  }
  return rematched;
}
