import { describe, expect, it } from 'vitest';
import type { BookingChange } from '../../../dispatch/booking-types.ts';
import { dispatchHarness, DISPATCHER, doctorActor, PATIENT } from './dispatch-harness.ts';

describe('bookings for later, priorities and greedy matching', () => {
  it('keeps a booking for later in created until its search lead, then departs at scheduled time − ETA', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('first', 1); // 130 s away
    const visitAt = harness.now() + 2 * 3_600_000;
    const booking = await harness.dispatcher.create(harness.request(0, 0, { scheduledAt: visitAt }), PATIENT);
    expect(booking.status).toBe('created');
    await harness.tick();
    harness.advance(90 * 60_000 - 1);
    await harness.tick();
    expect((await harness.dispatcher.get(booking.id)).status).toBe('created');
    harness.advance(1);
    expect((await harness.tick()).scheduledStarted).toBe(1);
    expect((await harness.dispatcher.get(booking.id)).status).toBe('searching');
    harness.advance(1_000);
    await harness.tick();
    const accepted = await harness.dispatcher.accept(booking.id, 'first', doctorActor('first'));
    // Assigned, not yet on the way: the visit is in half an hour.
    expect(accepted).toMatchObject({ status: 'assigned', assignedEtaSeconds: 130 });
    expect(harness.statusOf('first')).toBe('assigned');
    harness.advance(visitAt - 130_000 - harness.now() - 1);
    await harness.tick();
    expect((await harness.dispatcher.get(booking.id)).status).toBe('assigned');
    harness.advance(1);
    expect((await harness.tick()).departed).toBe(1);
    expect((await harness.dispatcher.get(booking.id)).status).toBe('en_route');
    expect(harness.statusOf('first')).toBe('en_route');
  });

  it('keeps only the request of a request: a forged id, status, version or doctor is ignored', async () => {
    const harness = dispatchHarness();
    const forged = { ...harness.request(0), id: 'mine', status: 'completed', version: 99, doctorId: 'd1' };
    const booking = await harness.dispatcher.create(forged, PATIENT);
    expect(booking.id).not.toBe('mine');
    expect(booking).toMatchObject({ status: 'searching', version: 2 });
    expect(booking).not.toHaveProperty('doctorId');
    expect((await harness.dispatcher.get(booking.id)).status).toBe('searching');
  });

  it('gives every change listener the same frozen change, which no listener can alter', async () => {
    const harness = dispatchHarness();
    const seen: BookingChange[][] = [[], []];
    for (const list of seen) harness.dispatcher.onChange((change) => list.push(change));
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    const [first, second] = seen as [BookingChange[], BookingChange[]];
    expect(first.map((change) => change.update.to)).toEqual(['created', 'searching']);
    expect(second).toEqual(first);
    for (const [i, change] of first.entries()) {
      expect(second[i]).toBe(change);
      expect(Object.isFrozen(change.booking)).toBe(true);
      expect(Object.isFrozen(change.booking.declinedBy)).toBe(true);
      expect(Object.isFrozen(change.update)).toBe(true);
      expect(() => {
        change.booking.status = 'completed';
      }).toThrow(TypeError);
    }
    expect((await harness.dispatcher.get(booking.id)).status).toBe('searching');
  });

  it('matches a booking raised to an emergency at once, and records the priority change', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('first', 1);
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    const raised = await harness.dispatcher.changePriority(booking.id, 2, DISPATCHER);
    expect(raised).toMatchObject({ priority: 2, emergency: true, originalPriority: 4, status: 'searching' });
    // An emergency does not wait for the batch window.
    await harness.tick();
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'first' });
    const change = (await harness.dispatcher.history(booking.id)).find((update) => update.from === update.to);
    expect(change).toMatchObject({
      from: 'searching',
      to: 'searching',
      reason: 'priority:4->2',
      by: DISPATCHER,
    });
    await expect(harness.dispatcher.changePriority(booking.id, 7 as 1, DISPATCHER)).rejects.toMatchObject({
      code: 'DISPATCH_INVALID_BOOKING',
    });
  });

  it('offers at once in greedy mode, inside create', async () => {
    const harness = dispatchHarness({ settings: { matching: 'greedy' } });
    harness.addDoctor('first', 1);
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    expect(booking).toMatchObject({ status: 'offered', doctorId: 'first' });
  });

  it('ends a search without a doctor in no_doctor_found, tells the patient, and lets a dispatcher assign by hand', async () => {
    const harness = dispatchHarness();
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    harness.advance(600_000);
    expect((await harness.tick()).searchesExpired).toBe(1);
    expect((await harness.dispatcher.get(booking.id)).status).toBe('no_doctor_found');
    expect((await harness.store.notifications({ recipient: 'patient-1' })).map((note) => note.kind)).toEqual([
      'no_doctor_found',
    ]);
    harness.addDoctor('late', 1);
    const assigned = await harness.dispatcher.assign(booking.id, 'late', DISPATCHER);
    expect(assigned).toMatchObject({ status: 'en_route', doctorId: 'late' });
  });

  it('starts a new search for a booking without a doctor when a dispatcher reassigns it', async () => {
    const harness = dispatchHarness();
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    harness.advance(600_000);
    await harness.tick();
    expect((await harness.dispatcher.get(booking.id)).status).toBe('no_doctor_found');
    harness.advance(60_000);
    const again = await harness.dispatcher.reassign(booking.id, DISPATCHER, 'doctors back on duty');
    expect(again).toMatchObject({ status: 'searching', searchingAt: harness.now() });
    expect((await harness.dispatcher.history(booking.id)).at(-1)).toMatchObject({
      from: 'no_doctor_found',
      to: 'searching',
      reason: 'reassigned:doctors back on duty',
      by: DISPATCHER,
    });
    // Its new deadline counts from now: still searching just before it, then no doctor found again.
    harness.advance(600_000 - 1);
    expect((await harness.tick()).searchesExpired).toBe(0);
    harness.advance(1);
    expect((await harness.tick()).searchesExpired).toBe(1);
    // Searching again finds a doctor who has come on duty meanwhile.
    await harness.dispatcher.reassign(booking.id, DISPATCHER, 'one more try');
    harness.addDoctor('back', 1);
    harness.advance(1_000);
    await harness.tick();
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'back' });
  });

  it('cancels a booking left a day without a doctor and tells the patient; one assigned meanwhile stays', async () => {
    const harness = dispatchHarness();
    const forgotten = await harness.dispatcher.create(harness.request(0), PATIENT);
    const handled = await harness.dispatcher.create(harness.request(0, 0.01), PATIENT);
    harness.advance(600_000);
    expect((await harness.tick()).searchesExpired).toBe(2);
    // A dispatcher finds a doctor for one of them an hour later.
    harness.advance(3_600_000);
    harness.addDoctor('late', 1);
    await harness.dispatcher.assign(handled.id, 'late', DISPATCHER);
    // A day after the search ended: not a millisecond before.
    harness.advance(86_400_000 - 3_600_000 - 1);
    expect((await harness.tick()).unmatchedExpired).toBe(0);
    expect((await harness.dispatcher.get(forgotten.id)).status).toBe('no_doctor_found');
    harness.advance(1);
    expect((await harness.tick()).unmatchedExpired).toBe(1);
    expect((await harness.dispatcher.get(forgotten.id)).status).toBe('cancelled');
    expect((await harness.dispatcher.history(forgotten.id)).at(-1)).toMatchObject({
      from: 'no_doctor_found',
      to: 'cancelled',
      reason: 'no_doctor_found_expired',
    });
    // Newest first.
    const notes = await harness.store.notifications({ recipient: 'patient-1' });
    expect(notes.filter((note) => note.bookingId === forgotten.id).map((note) => note.kind)).toEqual([
      'booking_expired',
      'no_doctor_found',
    ]);
    expect((await harness.dispatcher.get(handled.id)).status).toBe('en_route');
    // Gone from the dispatcher's memory: later ticks do not see it again.
    harness.advance(86_400_000);
    expect((await harness.tick()).unmatchedExpired).toBe(0);
  });

  it('quotes a price from the nearest suitable doctor', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('general', 0.5);
    harness.addDoctor('pediatrician', 10, 0, { specializations: ['pediatrics'] });
    const general = harness.dispatcher.estimatePrice(harness.request(0));
    expect(general).toMatchObject({ price: 3_000, nearestDoctorKm: 0.5, etaSeconds: 65 });
    const child = harness.dispatcher.estimatePrice({ ...harness.request(0), specialization: 'pediatrics' });
    expect(child).toMatchObject({ price: 3_600, nearestDoctorKm: 10 });
    const booked = await harness.dispatcher.create(
      harness.request(0, 0, { specialization: 'pediatrics' }),
      PATIENT,
    );
    expect(booked.estimatedPrice).toBe(3_600);
  });
});
