/**
 * Emergencies (categories 1 and 2) are matched one by one, at once, by ETA alone. When no available doctor can arrive
 * within the category's target, a doctor on the way to a less urgent visit that has not started is taken (preemption);
 * when nobody at all can be there in time, the emergency services are alerted (escalation) and the search goes on.
 */
import { etaSeconds } from '../geo/eta.ts';
import type { Booking, TriageCategory } from './booking-types.ts';
import { offerOf, withdraw, type DispatchContext } from './dispatch-context.ts';
import { arrivalDeadline } from './deadlines.ts';
import { candidatesOf, retryLater } from './matching.ts';
import type { BookingWrite } from './booking-repository.ts';
import type { Candidate } from './candidates.ts';
import { offerTo, offerWrite } from './offers.ts';
import { SYSTEM, transitionWrite } from './recorder.ts';

/** Recipient of escalation notifications. */
export const EMERGENCY_SERVICES = 'emergency-services';

/**
 * The priority a preempted booking gets: one step more urgent, but never category 1. Category 1 is a clinical
 * judgement (life-threatening) that gives the power to take another patient's doctor; a routine or soon visit bumped
 * by an emergency deserves to be served sooner, not to start bumping other patients with that power. A category-2
 * booking (only category 1 preempts it) stays 2.
 */
export function raisedPriority(priority: TriageCategory): TriageCategory {
  return priority > 2 ? ((priority - 1) as TriageCategory) : priority;
}

/**
 * For a new emergency not stored yet (searching): the offer to the fastest available doctor who can arrive within
 * its target, that doctor reserved, so that the booking is stored already offered, in one write. Undefined (nothing
 * reserved) when there is no such doctor; the stored emergency then goes through {@link matchEmergency}. The caller
 * releases the reservation once the write is done, as {@link offerTo} does.
 */
export function immediateOffer(
  context: DispatchContext,
  booking: Booking,
  now: number,
): { write: BookingWrite; candidate: Candidate } | undefined {
  const remainingSeconds = (arrivalDeadline(context.settings, booking) - now) / 1000;
  for (const candidate of candidatesOf(context, booking, now)) {
    if (candidate.etaSeconds > remainingSeconds) break;
    if (!context.bookings.reserve(candidate.doctorId, booking.id)) continue;
    const write = offerWrite(context, booking, candidate, now, 'matched:emergency');
    if (write !== undefined) return { write, candidate };
    context.bookings.unreserve(candidate.doctorId, booking.id);
  }
  return undefined;
}

/** What {@link matchEmergency} did. */
export type EmergencyOutcome = 'offered' | 'preempted' | 'offered_late' | 'waiting' | 'not_searching';

/** A doctor an emergency may take from another booking. */
export interface PreemptionCandidate {
  doctorId: string;
  bookingId: string;
  etaSeconds: number;
}

/**
 * Matches a searching emergency: the fastest free available doctor who can arrive before the deadline gets the offer;
 * failing that a doctor is preempted ({@link findPreemption}, directly assigned); failing that the emergency is
 * escalated (once) and offered to the fastest doctor even if late — a late doctor is better than none while the
 * emergency services respond. With no doctor at all it is tried again a batch window later.
 */
export async function matchEmergency(
  context: DispatchContext,
  bookingId: string,
  now: number,
): Promise<EmergencyOutcome> {
  const booking = context.bookings.get(bookingId);
  if (booking?.status !== 'searching') return 'not_searching';
  const remainingSeconds = (arrivalDeadline(context.settings, booking) - now) / 1000;
  const candidates = candidatesOf(context, booking, now);
  for (const candidate of candidates) {
    if (candidate.etaSeconds > remainingSeconds) break;
    if (await offerTo(context, bookingId, candidate, now, 'matched:emergency')) return 'offered';
  }
  const victim = findPreemption(context, booking, now, remainingSeconds);
  if (victim !== undefined && (await preempt(context, bookingId, victim, now))) return 'preempted';
  await escalate(
    context,
    bookingId,
    now,
    candidates.length === 0 ? 'no_doctor_available' : 'no_doctor_within_target',
  );
  for (const candidate of candidates) {
    if (await offerTo(context, bookingId, candidate, now, 'matched:emergency_late')) return 'offered_late';
  }
  const current = context.bookings.get(bookingId);
  if (current) retryLater(context, current, now);
  return 'waiting';
}

/**
 * The doctor to take for `emergency`: among doctors assigned or en_route to a less urgent booking (higher category
 * number) that has not started, not among the emergency's declined, the one with the best ETA within
 * `remainingSeconds` (ties: from the least urgent booking). Undefined when there is none.
 */
export function findPreemption(
  context: DispatchContext,
  emergency: Booking,
  now: number,
  remainingSeconds: number,
): PreemptionCandidate | undefined {
  const { settings, live, bookings } = context;
  const hits = live.fleet.nearbyBrief(emergency.lat, emergency.lng, {
    k: settings.candidates * 2,
    status: ['assigned', 'en_route'],
    maxKm: settings.maxKm,
    ...(emergency.specialization === undefined ? {} : { specialization: emergency.specialization }),
  });
  let best: (PreemptionCandidate & { priority: number }) | undefined;
  for (const doctor of hits) {
    if (emergency.declinedBy.includes(doctor.id)) continue;
    const holder = bookings.holderOf(doctor.id);
    if (holder === undefined || holder.priority <= emergency.priority) continue;
    if (holder.status !== 'assigned' && holder.status !== 'en_route') continue;
    const eta = etaSeconds(live.traffic, doctor, emergency, now, settings.eta);
    if (eta > remainingSeconds) continue;
    if (
      best === undefined ||
      eta < best.etaSeconds ||
      (eta === best.etaSeconds && holder.priority > best.priority)
    ) {
      best = { doctorId: doctor.id, bookingId: holder.id, etaSeconds: eta, priority: holder.priority };
    }
  }
  return best && { doctorId: best.doctorId, bookingId: best.bookingId, etaSeconds: best.etaSeconds };
}

/**
 * Takes the doctor from the other booking and assigns them to the emergency directly, in one store transaction:
 * the other booking goes back to searching (reason `reassigned:preempted`) one priority step more urgent
 * ({@link raisedPriority}) with a notification to its patient and a BookingPreempted event; the emergency goes
 * searching → assigned → en_route. Direct, not offered: the doctor is already on duty and driving, and an offer that
 * could lapse would leave both patients without a doctor for its timeout — the ambulance practice of assigning the
 * nearest crew. Returns false, changing nothing, when either booking changed meanwhile.
 */
export async function preempt(
  context: DispatchContext,
  emergencyId: string,
  victim: PreemptionCandidate,
  now: number,
): Promise<boolean> {
  const { bookings, locks } = context;
  return locks
    .run([emergencyId, victim.bookingId], async () => {
      const emergency = bookings.get(emergencyId);
      const other = bookings.get(victim.bookingId);
      if (emergency?.status !== 'searching' || other === undefined) return false;
      if (other.doctorId !== victim.doctorId || (other.status !== 'assigned' && other.status !== 'en_route'))
        return false;
      if (other.priority <= emergency.priority) return false;
      const newPriority = raisedPriority(other.priority);
      const eta = Math.round(victim.etaSeconds);
      const released = transitionWrite(other, 'searching', SYSTEM, now, 'reassigned:preempted', {
        priority: newPriority,
      });
      const assigned = transitionWrite(emergency, 'assigned', SYSTEM, now, `preempted:${other.id}`, {
        doctorId: victim.doctorId,
        assignedEtaSeconds: eta,
      });
      const departed = transitionWrite(assigned.after, 'en_route', SYSTEM, now, 'departed');
      await context.recorder.record([released, assigned, departed], {
        etaSeconds: eta,
        notifications: [
          {
            recipient: other.patientId,
            kind: 'booking_preempted',
            bookingId: other.id,
            payload: {
              bookingId: other.id,
              byBookingId: emergency.id,
              doctorId: victim.doctorId,
              previousPriority: other.priority,
              newPriority,
              status: 'searching',
            },
            createdAt: now,
          },
        ],
        events: [
          {
            type: 'BookingPreempted',
            bookingId: other.id,
            byBookingId: emergency.id,
            doctorId: victim.doctorId,
            newPriority,
            at: now,
          },
        ],
      });
      context.scorer.recordVisit(victim.doctorId, now);
      context.metrics?.preemptions.inc({ priority: String(emergency.priority) });
      withdraw(context, victim.doctorId, other.id, 'preempted');
      try {
        context.channel.assigned?.(victim.doctorId, offerOf(departed.after, eta, now));
      } catch (error) {
        context.logger.warn({ err: error, doctorId: victim.doctorId }, 'assignment notice not sent');
      }
      return true;
    })
    .catch((error: unknown) => {
      context.logger.warn({ err: error, emergencyId, victim }, 'preemption not written');
      return false;
    });
}

/**
 * Alerts the emergency services about a booking, once per booking (across restarts: the mark is stored): a
 * notification to {@link EMERGENCY_SERVICES} and an EmergencyEscalated event. The booking itself is unchanged and
 * keeps searching. Returns whether it escalated now.
 */
export async function escalate(
  context: DispatchContext,
  bookingId: string,
  now: number,
  reason: string,
): Promise<boolean> {
  const { bookings } = context;
  const booking = bookings.get(bookingId);
  if (booking === undefined || bookings.marksOf(bookingId).escalatedAt !== undefined) return false;
  // Marked before the write so that a second caller during it does not escalate again.
  bookings.mark(bookingId, 'escalatedAt', now);
  const payload = {
    bookingId,
    priority: booking.priority,
    reason,
    address: booking.address,
    lat: booking.lat,
    lng: booking.lng,
    symptoms: booking.symptoms,
    ...(booking.emergencyType === undefined ? {} : { emergencyType: booking.emergencyType }),
  };
  try {
    await context.store.mark(bookingId, 'escalatedAt', now, {
      recipient: EMERGENCY_SERVICES,
      kind: 'emergency_escalated',
      bookingId,
      payload,
      createdAt: now,
    });
  } catch (error) {
    context.logger.error({ err: error, bookingId }, 'escalation not stored; the event still goes out');
  }
  context.outbox.add([
    { type: 'EmergencyEscalated', bookingId, priority: booking.priority, reason, at: now },
  ]);
  void context.outbox.flush();
  context.metrics?.emergencyEscalations.inc({ priority: String(booking.priority) });
  return true;
}
