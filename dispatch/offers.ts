/**
 * Offers: a matched booking is written as offered (doctor, deadline) before the offer is sent, so that a crash between
 * the two leaves an offer that lapses rather than a doctor who accepted something the store never heard of. The
 * doctor accepts (assigned, then en_route for a visit wanted now), declines, or lets it lapse; the last two send the
 * booking back to searching without that doctor.
 */
import { etaSeconds } from '../geo/eta.ts';
import { TotError } from '../geo/errors.ts';
import type { Actor, Booking } from './booking-types.ts';
import type { Candidate } from './candidates.ts';
import { offerOf, offerTimeoutOf, withdraw, type DispatchContext } from './dispatch-context.ts';
import { SYSTEM, copyBooking, transitionWrite } from './recorder.ts';
import type { BookingWrite } from './booking-repository.ts';
import { changeDue } from './change-each.ts';
import { departureTime } from './deadlines.ts';

/**
 * The active booking with that id; for a booking no longer active (or unknown) throws what the caller asked for
 * cannot happen.
 *
 * @throws TotError `DISPATCH_BOOKING_NOT_FOUND` for an unknown id; `refusal(booking)` for a completed or cancelled one.
 */
export async function activeBooking(
  context: DispatchContext,
  id: string,
  refusal: (booking: Booking) => TotError,
): Promise<Booking> {
  const booking = context.bookings.get(id);
  if (booking) return booking;
  throw refusal(await context.store.get(id));
}

/** The refusal of an answer to an offer that is not open. */
export function offerNotOpen(booking: Booking, doctorId: string, now: number): TotError {
  const why =
    booking.status !== 'offered'
      ? `is ${booking.status}, not offered`
      : booking.doctorId !== doctorId
        ? `is offered to another doctor`
        : `lapsed at ${new Date(booking.offerExpiresAt as number).toISOString()}`;
  return new TotError(
    'DISPATCH_OFFER_NOT_OPEN',
    `booking ${booking.id} ${why} (doctorId ${JSON.stringify(doctorId)})`,
    {
      bookingId: booking.id,
      field: 'doctorId',
      value: doctorId,
      status: booking.status,
      at: now,
    },
  );
}

/** ETA in seconds of the doctor to the booking from their last position, or undefined when it is not known. */
export function etaOf(
  context: DispatchContext,
  doctorId: string,
  booking: Booking,
  now: number,
): number | undefined {
  const doctor = context.live.fleet.get(doctorId);
  if (doctor?.lat === undefined || doctor.lng === undefined) return undefined;
  const eta = etaSeconds(
    context.live.traffic,
    { lat: doctor.lat, lng: doctor.lng },
    { lat: booking.lat, lng: booking.lng },
    now,
    context.settings.eta,
  );
  return Math.round(eta);
}

/**
 * Whether the doctor leaves at once once assigned: a visit wanted now, or one booked for later whose departure time
 * (scheduled time − ETA) has come.
 */
export function departsNow(booking: Booking, etaSecondsValue: number | undefined, now: number): boolean {
  return departureTime(booking, etaSecondsValue) <= now;
}

/**
 * The write offering `booking` (searching) to a candidate, when the candidate may have it: not among those who
 * declined, and available in the fleet. The caller holds the doctor's reservation and the booking's lock (or the
 * booking is not stored yet).
 */
export function offerWrite(
  context: DispatchContext,
  booking: Booking,
  candidate: Candidate,
  now: number,
  reason: string,
): BookingWrite | undefined {
  const doctorId = candidate.doctorId;
  if (booking.status !== 'searching' || booking.declinedBy.includes(doctorId)) return undefined;
  if (context.live.fleet.statusOf(doctorId) !== 'available') return undefined;
  return transitionWrite(booking, 'offered', SYSTEM, now, reason, {
    doctorId,
    offerExpiresAt: now + offerTimeoutOf(context, booking),
  });
}

/** Sends the offer of a recorded `offered` booking to its doctor (a failed send is logged: the offer lapses). */
export function sendOffer(context: DispatchContext, offered: Booking, candidate: Candidate): void {
  context.metrics?.offers.inc({ outcome: 'sent' });
  try {
    context.channel.offer(
      candidate.doctorId,
      offerOf(offered, candidate.etaSeconds, offered.offerExpiresAt as number),
    );
  } catch (error) {
    context.logger.warn(
      { err: error, doctorId: candidate.doctorId, bookingId: offered.id },
      'offer not sent; it lapses unless answered',
    );
  }
}

/**
 * Offers a searching booking to a candidate: reserves the doctor, writes offered with the deadline, then sends the
 * offer. Returns false, changing nothing, when the booking is no longer searching, the doctor is no longer free or
 * available, or the store refuses (logged).
 */
export async function offerTo(
  context: DispatchContext,
  bookingId: string,
  candidate: Candidate,
  now: number,
  reason: string,
): Promise<boolean> {
  const { bookings, locks } = context;
  const doctorId = candidate.doctorId;
  if (!bookings.reserve(doctorId, bookingId)) return false;
  try {
    return await locks.run([bookingId], async () => {
      const booking = bookings.get(bookingId);
      const write = booking && offerWrite(context, booking, candidate, now, reason);
      if (write === undefined) return false;
      const offered = await context.recorder.record([write], {
        etaSeconds: Math.round(candidate.etaSeconds),
      });
      sendOffer(context, offered, candidate);
      return true;
    });
  } catch (error) {
    context.logger.warn({ err: error, doctorId, bookingId }, 'offer not written');
    return false;
  } finally {
    bookings.unreserve(doctorId, bookingId);
  }
}

/**
 * The offered doctor accepts: assigned (with the ETA from their position now), and en_route in the same write when
 * the visit is wanted now.
 *
 * @throws TotError `DISPATCH_OFFER_NOT_OPEN` when the booking is not offered to this doctor or the offer lapsed;
 *   `DISPATCH_BOOKING_NOT_FOUND` for an unknown id.
 */
export async function acceptOffer(
  context: DispatchContext,
  id: string,
  doctorId: string,
  by: Actor,
  now: number,
): Promise<Booking> {
  return context.locks.run([id], async () => {
    const booking = await activeBooking(context, id, (stored) => offerNotOpen(stored, doctorId, now));
    if (
      booking.status !== 'offered' ||
      booking.doctorId !== doctorId ||
      now >= (booking.offerExpiresAt as number)
    ) {
      throw offerNotOpen(booking, doctorId, now);
    }
    const eta = etaOf(context, doctorId, booking, now);
    const writes: BookingWrite[] = [
      transitionWrite(
        booking,
        'assigned',
        by,
        now,
        'accepted',
        eta === undefined ? {} : { assignedEtaSeconds: eta },
      ),
    ];
    const assigned = (writes[0] as BookingWrite).after;
    if (departsNow(assigned, eta, now))
      writes.push(transitionWrite(assigned, 'en_route', by, now, 'departed'));
    const result = await context.recorder.record(writes, eta === undefined ? {} : { etaSeconds: eta });
    context.scorer.recordVisit(doctorId, now);
    context.metrics?.offers.inc({ outcome: 'accepted' });
    if (booking.offeredAt !== undefined)
      context.metrics?.offerAcceptSeconds.observe((now - booking.offeredAt) / 1000);
    return copyBooking(result);
  });
}

/**
 * The offered doctor declines: the booking searches again without them.
 *
 * @throws TotError `DISPATCH_OFFER_NOT_OPEN` when the booking is not offered to this doctor (a decline after the
 *   lapse is refused too: the lapse already sent it back); `DISPATCH_BOOKING_NOT_FOUND` for an unknown id.
 */
export async function declineOffer(
  context: DispatchContext,
  id: string,
  doctorId: string,
  by: Actor,
  reason: string,
  now: number,
): Promise<Booking> {
  return context.locks.run([id], async () => {
    const booking = await activeBooking(context, id, (stored) => offerNotOpen(stored, doctorId, now));
    if (booking.status !== 'offered' || booking.doctorId !== doctorId)
      throw offerNotOpen(booking, doctorId, now);
    const write = transitionWrite(booking, 'searching', by, now, reason, {
      declinedBy: [...booking.declinedBy, doctorId],
    });
    const result = await context.recorder.record([write]);
    context.metrics?.offers.inc({ outcome: 'declined' });
    return copyBooking(result);
  });
}

/**
 * Sends every offer whose deadline has come back to searching without its doctor (reason `offer_timeout`) and tells
 * the doctor it was withdrawn. Returns how many lapsed.
 */
export async function lapseOffers(context: DispatchContext, now: number): Promise<number> {
  return changeDue(context, 'offerLapse', now, 'offer lapse', async (booking) => {
    const doctorId = booking.doctorId as string;
    const write = transitionWrite(booking, 'searching', SYSTEM, now, 'offer_timeout', {
      declinedBy: [...booking.declinedBy, doctorId],
    });
    await context.recorder.record([write]);
    context.metrics?.offers.inc({ outcome: 'lapsed' });
    withdraw(context, doctorId, booking.id, 'offer_timeout');
  });
}

/**
 * Takes the doctor off an offered, assigned or en_route booking and sends it back to searching with `reason`
 * (`reassigned:<why>`); `declined` also keeps the doctor from being offered it again. The doctor is told. Must run
 * under the booking's lock. Returns the write, not yet recorded, so that callers can join it to others.
 */
export function releaseWrite(
  booking: Booking,
  by: Actor,
  now: number,
  reason: string,
  declined: boolean,
): BookingWrite {
  const doctorId = booking.doctorId;
  const changes =
    declined && doctorId !== undefined && !booking.declinedBy.includes(doctorId)
      ? { declinedBy: [...booking.declinedBy, doctorId] }
      : {};
  return transitionWrite(booking, 'searching', by, now, reason, changes);
}
