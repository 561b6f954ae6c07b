import { describe, expect, it } from 'vitest';
import type { Booking } from '../../../dispatch/booking-types.ts';
import { TotError } from '../../../geo/errors.ts';
import { dispatchHarness, doctorActor, PATIENT } from './dispatch-harness.ts';

/** A harness with doctors 1 km ("first") and 2 km ("second") north of the centre and a booking at the centre. */
async function offeredToFirst(settings = {}) {
  const harness = dispatchHarness({ settings });
  harness.addDoctor('first', 1);
  harness.addDoctor('second', 2);
  const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
  harness.advance(1_000);
  await harness.tick();
  return { harness, booking };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return error instanceof TotError ? error.code : String(error);
  }
  return undefined;
}

describe('offers', () => {
  it('writes the offer to the store before sending it, with the doctor and the deadline', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('first', 1);
    const seen: Promise<Booking>[] = [];
    harness.channel.onOffer = (_doctorId, offer) => seen.push(harness.store.get(offer.bookingId));
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    harness.advance(1_000);
    await harness.tick();
    expect(seen).toHaveLength(1);
    const stored = await seen[0];
    expect(stored).toMatchObject({
      id: booking.id,
      status: 'offered',
      doctorId: 'first',
      offerExpiresAt: harness.now() + 20_000,
    });
    expect(harness.channel.offers[0]?.offer).toMatchObject({
      type: 'offer',
      bookingId: booking.id,
      expiresAt: harness.now() + 20_000,
      etaSeconds: 130,
    });
    expect(harness.statusOf('first')).toBe('offered');
  });

  it('goes to the next best doctor when the offer lapses', async () => {
    const { harness, booking } = await offeredToFirst();
    harness.advance(19_999);
    await harness.tick();
    expect((await harness.dispatcher.get(booking.id)).status).toBe('offered');
    harness.advance(1);
    const summary = await harness.tick();
    expect(summary.offersLapsed).toBe(1);
    const lapsed = await harness.dispatcher.get(booking.id);
    expect(lapsed).toMatchObject({ status: 'searching', declinedBy: ['first'] });
    expect(lapsed.doctorId).toBeUndefined();
    expect(harness.channel.withdrawals).toEqual([
      { doctorId: 'first', bookingId: booking.id, reason: 'offer_timeout' },
    ]);
    expect(harness.statusOf('first')).toBe('available');
    harness.advance(1_000);
    await harness.tick();
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'second' });
    const history = await harness.dispatcher.history(booking.id);
    expect(history.map((update) => [update.from, update.to, update.reason])).toEqual([
      [null, 'created', undefined],
      ['created', 'searching', 'search_started'],
      ['searching', 'offered', 'matched:batch'],
      ['offered', 'searching', 'offer_timeout'],
      ['searching', 'offered', 'matched:batch'],
    ]);
    expect(await harness.metric('tot_offers_total', { outcome: 'lapsed' })).toBe(1);
  });

  it('gives an emergency offer 10 s, not 20', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('first', 1);
    const booking = await harness.dispatcher.create(harness.request(0, 0, { priority: 2 }), PATIENT);
    expect(booking).toMatchObject({
      status: 'offered',
      doctorId: 'first',
      offerExpiresAt: harness.now() + 10_000,
    });
  });

  it('goes to the next best doctor when the doctor declines', async () => {
    const { harness, booking } = await offeredToFirst();
    expect(await codeOf(harness.dispatcher.decline(booking.id, 'second', doctorActor('second')))).toBe(
      'DISPATCH_OFFER_NOT_OPEN',
    );
    const declined = await harness.dispatcher.decline(booking.id, 'first', doctorActor('first'), 'too far');
    expect(declined).toMatchObject({ status: 'searching', declinedBy: ['first'] });
    expect(harness.statusOf('first')).toBe('available');
    harness.advance(1_000);
    await harness.tick();
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'second' });
    const reasons = (await harness.dispatcher.history(booking.id)).map((update) => update.reason);
    expect(reasons).toContain('declined:too far');
  });

  it('assigns and sends the doctor on the way when the offered doctor accepts in time', async () => {
    const { harness, booking } = await offeredToFirst();
    expect(await codeOf(harness.dispatcher.accept(booking.id, 'second', doctorActor('second')))).toBe(
      'DISPATCH_OFFER_NOT_OPEN',
    );
    harness.advance(5_000);
    const accepted = await harness.dispatcher.accept(booking.id, 'first', doctorActor('first'));
    expect(accepted).toMatchObject({ status: 'en_route', doctorId: 'first', assignedEtaSeconds: 130 });
    expect(harness.statusOf('first')).toBe('en_route');
    expect(harness.dispatcher.bookingOfDoctor('first')?.id).toBe(booking.id);
    expect(await harness.metric('tot_offer_accept_seconds')).toBe(1);
    const types = harness.events.map((event) => event.type);
    expect(types).toContain('DoctorOffered');
    expect(types).toContain('DoctorAssigned');
    // Published on the events topic too, keyed by the booking.
    const published = harness.bus.events().filter((event) => event.type === 'DoctorAssigned');
    expect(published).toEqual([
      expect.objectContaining({ key: booking.id, doctorId: 'first', etaSeconds: 130 }),
    ]);
  });

  it('refuses an acceptance after the deadline, and the tick lapses the offer', async () => {
    const { harness, booking } = await offeredToFirst();
    harness.advance(20_000);
    expect(await codeOf(harness.dispatcher.accept(booking.id, 'first', doctorActor('first')))).toBe(
      'DISPATCH_OFFER_NOT_OPEN',
    );
    await harness.tick();
    expect((await harness.dispatcher.get(booking.id)).status).toBe('searching');
  });

  it('walks the visit to completion and frees the doctor', async () => {
    const { harness, booking } = await offeredToFirst();
    await harness.dispatcher.accept(booking.id, 'first', doctorActor('first'));
    harness.advance(120_000);
    expect(await codeOf(harness.dispatcher.arrived(booking.id, 'second', doctorActor('second')))).toBe(
      'DISPATCH_INVALID_TRANSITION',
    );
    await harness.dispatcher.arrived(booking.id, 'first', doctorActor('first'));
    expect(harness.statusOf('first')).toBe('on_site');
    await harness.dispatcher.start(booking.id, 'first', doctorActor('first'));
    harness.advance(30 * 60_000);
    const done = await harness.dispatcher.complete(booking.id, 'first', doctorActor('first'));
    expect(done).toMatchObject({
      status: 'completed',
      finalPrice: booking.estimatedPrice,
      actualDurationMinutes: 30,
    });
    expect(harness.statusOf('first')).toBe('available');
    expect(harness.dispatcher.active()).toEqual([]);
    expect(harness.dispatcher.bookingOfDoctor('first')).toBeUndefined();
    expect(await codeOf(harness.dispatcher.cancel(booking.id, PATIENT, 'changed my mind'))).toBe(
      'DISPATCH_INVALID_TRANSITION',
    );
    expect(harness.events.map((event) => event.type)).toContain('DoctorArrived');
  });

  it('cancels an offered booking, withdrawing the offer and freeing the doctor', async () => {
    const { harness, booking } = await offeredToFirst();
    const cancelled = await harness.dispatcher.cancel(booking.id, PATIENT, 'patient_cancelled');
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'patient_cancelled' });
    expect(harness.channel.withdrawals).toEqual([
      { doctorId: 'first', bookingId: booking.id, reason: 'cancelled' },
    ]);
    expect(harness.statusOf('first')).toBe('available');
    expect(await codeOf(harness.dispatcher.get('00000000-0000-4000-8000-00000000dead'))).toBe(
      'DISPATCH_BOOKING_NOT_FOUND',
    );
  });

  it('lets a dispatcher assign a doctor by hand, and refuses one who is busy', async () => {
    const { harness, booking } = await offeredToFirst();
    const other = await harness.dispatcher.create(harness.request(3, 0, { patientId: 'p2' }), PATIENT);
    expect(await codeOf(harness.dispatcher.assign(other.id, 'first', { id: 'x', role: 'dispatcher' }))).toBe(
      'DISPATCH_DOCTOR_UNAVAILABLE',
    );
    expect(await codeOf(harness.dispatcher.assign(other.id, 'nobody', { id: 'x', role: 'dispatcher' }))).toBe(
      'DISPATCH_DOCTOR_UNAVAILABLE',
    );
    const assigned = await harness.dispatcher.assign(other.id, 'second', { id: 'x', role: 'dispatcher' });
    expect(assigned).toMatchObject({ status: 'en_route', doctorId: 'second' });
    expect(harness.channel.assignments.map((entry) => entry.doctorId)).toEqual(['second']);
    expect(harness.statusOf('second')).toBe('en_route');
    // Taking the doctor off again: the booking searches without them.
    const reassigned = await harness.dispatcher.reassign(
      other.id,
      { id: 'x', role: 'dispatcher' },
      'wrong_doctor',
    );
    expect(reassigned).toMatchObject({ status: 'searching', declinedBy: ['second'] });
    expect(harness.statusOf('second')).toBe('available');
    expect((await harness.dispatcher.get(booking.id)).doctorId).toBe('first');
  });
});

describe('a doctor going offline', () => {
  it('releases the booking of a doctor gone off duty at the next tick', async () => {
    const { harness, booking } = await offeredToFirst();
    await harness.dispatcher.accept(booking.id, 'first', doctorActor('first'));
    harness.advance(60_000);
    await harness.tick();
    harness.moveDoctor('second', 2);
    harness.live.fleet.setDuty('first', false, harness.now());
    harness.advance(100);
    expect((await harness.tick()).offlineReleased).toBe(1);
    expect((await harness.dispatcher.get(booking.id)).status).not.toBe('en_route');
  });

  it('reads every held doctor again after a stop: a doctor gone meanwhile loses the booking', async () => {
    const { harness, booking } = await offeredToFirst();
    await harness.dispatcher.accept(booking.id, 'first', doctorActor('first'));
    harness.advance(1_000);
    expect((await harness.tick()).offlineReleased).toBe(0);
    await harness.dispatcher.stop();
    // Not heard while stopped: only reading every held doctor finds it.
    harness.live.fleet.setDuty('first', false, harness.now());
    harness.advance(100);
    expect((await harness.tick()).offlineReleased).toBe(1);
    expect((await harness.dispatcher.get(booking.id)).status).toBe('searching');
  });

  it('re-dispatches the booking of a doctor who went silent while en route', async () => {
    const { harness, booking } = await offeredToFirst();
    await harness.dispatcher.accept(booking.id, 'first', doctorActor('first'));
    // The second doctor keeps sending fixes; the first falls silent past the offline timeout.
    harness.advance(30_000);
    harness.moveDoctor('second', 2);
    harness.advance(30_000);
    harness.moveDoctor('second', 2);
    const wentOffline = harness.live.fleet.sweepOffline(harness.now());
    expect(wentOffline.map((event) => [event.doctorId, event.previousStatus])).toEqual([
      ['first', 'en_route'],
    ]);
    const summary = await harness.tick();
    expect(summary.offlineReleased).toBe(1);
    const released = await harness.dispatcher.get(booking.id);
    expect(released.status).toBe('searching');
    const last = (await harness.dispatcher.history(booking.id)).at(-1);
    expect(last).toMatchObject({
      from: 'en_route',
      to: 'searching',
      reason: 'reassigned:doctor_offline',
      doctorId: 'first',
    });
    expect(harness.channel.withdrawals.at(-1)).toEqual({
      doctorId: 'first',
      bookingId: booking.id,
      reason: 'doctor_offline',
    });
    harness.advance(1_000);
    await harness.tick();
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'second' });
    // Back online, the first doctor gets the status the fleet kept (en_route) and is put back to available.
    harness.moveDoctor('first', 1);
    expect(harness.statusOf('first')).toBe('en_route');
    await harness.tick();
    expect(harness.statusOf('first')).toBe('available');
  });
});
