/**
 * Rematching: a routine booking whose doctor is still far away (en route) is given to a free doctor who would arrive
 * much sooner — one who came free near the patient after the first match was made. The far doctor is told the visit
 * is withdrawn and is free again where they are; the booking goes back to searching (reason
 * `reassigned:nearer_doctor`) and is offered at once to the nearer doctor. A booking is rematched at most once, and
 * only when the saving reaches `rematchSavingMs` — enough to be worth a second offer (which may be declined) and a
 * doctor turned round.
 */
import type { Booking } from './booking-types.ts';
import { withdraw, type DispatchContext } from './dispatch-context.ts';
import { matcherMemoryOf } from './matcher-memory.ts';
import { candidatesOf } from './matching.ts';
import { etaOf, offerTo, releaseWrite } from './offers.ts';
import { SYSTEM } from './recorder.ts';

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
  const chances: { booking: Booking; remaining: number }[] = [];
  for (const booking of context.bookings.withStatus('en_route')) {
    if (booking.emergency || booking.scheduledAt !== undefined || memory.rematched.has(booking.id)) continue;
    const remaining = etaOf(context, booking.doctorId as string, booking, now);
    if (remaining === undefined || remaining <= saving) continue;
    chances.push({ booking, remaining });
  }
  chances.sort((a, b) => b.remaining - a.remaining);
  let rematched = 0;
  for (const { booking, remaining } of chances) {
    const best = candidatesOf(context, booking, now)
      .filter((candidate) => candidate.etaSeconds + saving <= remaining)
      .sort((a, b) => a.etaSeconds - b.etaSeconds)[0];
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
