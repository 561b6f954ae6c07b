import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryBookingStore } from '../../../dispatch/memory-booking-store.ts';
import { EMERGENCY_SERVICES, raisedPriority } from '../../../dispatch/emergency.ts';
import { Dispatcher } from '../../../dispatch/dispatcher.ts';
import { InThreadAssignmentSolver } from '../../../dispatch/assignment.ts';
import { urgentWork } from '../../../dispatch/time-slice.ts';
import { dispatchHarness, doctorActor, PATIENT } from './dispatch-harness.ts';

const EMERGENCY_PATIENT = { id: 'patient-e', role: 'patient' } as const;

describe('emergencies', () => {
  it('never raises a preempted booking into category 1', () => {
    expect([4, 3, 2, 1].map((priority) => raisedPriority(priority as 1 | 2 | 3 | 4))).toEqual([3, 2, 2, 1]);
  });

  it('offers an emergency at once, inside create, to the fastest doctor within the target', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('near', 2, 0, { rating: 3 });
    harness.addDoctor('rated-but-farther', 3, 0, { rating: 5 });
    const booking = await harness.dispatcher.create(
      harness.request(0, 0, { priority: 1, callType: 'emergency', emergencyType: 'cardiac' }),
      EMERGENCY_PATIENT,
    );
    // ETA alone counts for an emergency: the rating term would have preferred the 5-star doctor.
    expect(booking).toMatchObject({ status: 'offered', doctorId: 'near', emergency: true });
  });

  it('is urgent work from its request to its offer (long loops give way to it); a routine booking is not', async () => {
    const harness = dispatchHarness({ settings: { matching: 'greedy' } });
    harness.addDoctor('a', 1);
    harness.addDoctor('b', 2);
    const urgentAtOffer: boolean[] = [];
    harness.channel.onOffer = () => urgentAtOffer.push(urgentWork.pending);
    await harness.dispatcher.create(
      harness.request(0, 0, { priority: 1, callType: 'emergency', emergencyType: 'cardiac' }),
      EMERGENCY_PATIENT,
    );
    expect(urgentWork.pending).toBe(false);
    await harness.dispatcher.create(harness.request(0, 0), PATIENT);
    // Both were offered inside create (greedy matching offers a routine booking at once too).
    expect(urgentAtOffer).toEqual([true, false]);
  });

  it('is urgent work again when the tick offers it anew after a decline', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('a', 1);
    harness.addDoctor('b', 2);
    const emergency = await harness.dispatcher.create(
      harness.request(0, 0, { priority: 1, callType: 'emergency', emergencyType: 'cardiac' }),
      EMERGENCY_PATIENT,
    );
    const urgentAtOffer: boolean[] = [];
    harness.channel.onOffer = () => urgentAtOffer.push(urgentWork.pending);
    await harness.dispatcher.decline(emergency.id, 'a', doctorActor('a'));
    harness.advance(1_000);
    await harness.tick();
    expect(await harness.dispatcher.get(emergency.id)).toMatchObject({ status: 'offered', doctorId: 'b' });
    expect(urgentAtOffer).toEqual([true]);
  });

  it('stores a new emergency already offered, in one write; if the store refuses that doctor, it searches as usual', async () => {
    const store = new MemoryBookingStore();
    const calls: string[] = [];
    const counted = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(name));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const harness = dispatchHarness({ store: counted });
    harness.addDoctor('near', 2);
    harness.addDoctor('second', 4);
    const first = await harness.dispatcher.create(
      harness.request(0, 0, { priority: 1, callType: 'emergency' }),
      EMERGENCY_PATIENT,
    );
    expect(calls).toEqual(['create']);
    expect((await harness.dispatcher.history(first.id)).map((update) => update.to)).toEqual([
      'created',
      'searching',
      'offered',
    ]);
    expect(harness.channel.offers.map((offer) => [offer.doctorId, offer.offer.bookingId])).toEqual([
      ['near', first.id],
    ]);
    expect(harness.statusOf('near')).toBe('offered');
    expect(harness.events.filter((event) => event.type === 'DoctorOffered')).toEqual([
      expect.objectContaining({ bookingId: first.id, doctorId: 'near' }),
    ]);

    // The store knows 'second' is held (written by another process), the fleet still shows them available.
    const other = harness.request(9, 0);
    const held = { ...first, id: randomUUID(), doctorId: 'second', patientId: other.patientId };
    await store.create(held, [
      { bookingId: held.id, from: null, to: 'offered', by: PATIENT, at: harness.now() },
    ]);
    harness.addDoctor('third', 6);
    const second = await harness.dispatcher.create(
      harness.request(3, 0, { priority: 1, callType: 'emergency' }),
      EMERGENCY_PATIENT,
    );
    expect(second).toMatchObject({ status: 'offered', doctorId: 'third' });
    expect((await harness.dispatcher.history(second.id)).map((update) => update.to)).toEqual([
      'created',
      'searching',
      'offered',
    ]);
  });

  it('takes the doctor of a routine booking not yet started when nobody free can arrive in time', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('busy', 0);
    harness.addDoctor('free-but-far', 25);
    // The routine booking gets the only near doctor, who is on the way.
    const routine = await harness.dispatcher.create(harness.request(-1), PATIENT);
    harness.advance(1_000);
    await harness.tick();
    await harness.dispatcher.accept(routine.id, 'busy', doctorActor('busy'));
    expect(harness.statusOf('busy')).toBe('en_route');

    // A category-1 call 3 km away: the free doctor needs 25 km (3 250 s) > 15 min, the busy one 3 km (390 s).
    const emergency = await harness.dispatcher.create(
      harness.request(3, 0, { priority: 1, callType: 'emergency', patientId: 'patient-e' }),
      EMERGENCY_PATIENT,
    );
    expect(emergency).toMatchObject({ status: 'en_route', doctorId: 'busy', assignedEtaSeconds: 390 });
    expect(harness.statusOf('busy')).toBe('en_route');
    const bumped = await harness.dispatcher.get(routine.id);
    expect(bumped).toMatchObject({ status: 'searching', priority: 3, originalPriority: 4, emergency: false });
    expect(bumped.doctorId).toBeUndefined();
    expect(harness.dispatcher.bookingOfDoctor('busy')?.id).toBe(emergency.id);

    const notes = await harness.store.notifications({ recipient: 'patient-1' });
    expect(notes).toEqual([
      expect.objectContaining({
        kind: 'booking_preempted',
        bookingId: routine.id,
        payload: expect.objectContaining({ byBookingId: emergency.id, newPriority: 3, doctorId: 'busy' }),
      }),
    ]);
    const preempted = harness.bus.events().filter((event) => event.type === 'BookingPreempted');
    expect(preempted).toEqual([
      expect.objectContaining({
        key: routine.id,
        byBookingId: emergency.id,
        doctorId: 'busy',
        newPriority: 3,
      }),
    ]);
    expect(harness.events.some((event) => event.type === 'BookingPreempted')).toBe(true);
    expect(harness.channel.withdrawals).toEqual([
      { doctorId: 'busy', bookingId: routine.id, reason: 'preempted' },
    ]);
    expect(harness.channel.assignments.map((entry) => [entry.doctorId, entry.assignment.bookingId])).toEqual([
      ['busy', emergency.id],
    ]);
    const lastOfRoutine = (await harness.dispatcher.history(routine.id)).at(-1);
    expect(lastOfRoutine).toMatchObject({
      from: 'en_route',
      to: 'searching',
      reason: 'reassigned:preempted',
    });
    expect(await harness.metric('tot_preemptions_total', { priority: '1' })).toBe(1);
    expect(await harness.metric('tot_emergency_escalations_total', { priority: '1' })).toBe(0);
  });

  it('does not preempt a visit already under way, nor a booking as urgent', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('on-site', 0);
    harness.addDoctor('urgent-one', 0.5);
    const started = await harness.dispatcher.create(harness.request(0), PATIENT);
    harness.advance(1_000);
    await harness.tick();
    const offeredTo = (await harness.dispatcher.get(started.id)).doctorId as string;
    await harness.dispatcher.accept(started.id, offeredTo, doctorActor(offeredTo));
    await harness.dispatcher.arrived(started.id, offeredTo, doctorActor(offeredTo));
    const other = offeredTo === 'on-site' ? 'urgent-one' : 'on-site';
    const urgent = await harness.dispatcher.create(
      harness.request(0.5, 0, { priority: 1, patientId: 'p2' }),
      PATIENT,
    );
    expect(urgent).toMatchObject({ status: 'offered', doctorId: other });
    await harness.dispatcher.accept(urgent.id, other, doctorActor(other));

    const emergency = await harness.dispatcher.create(
      harness.request(1, 0, { priority: 1, patientId: 'p3' }),
      PATIENT,
    );
    expect(emergency.status).toBe('searching');
    expect(await harness.metric('tot_preemptions_total', { priority: '1' })).toBe(0);
    expect(await harness.metric('tot_emergency_escalations_total', { priority: '1' })).toBe(1);
  });

  it('escalates when nobody can arrive within the target, once, and keeps the booking searching', async () => {
    const harness = dispatchHarness();
    const emergency = await harness.dispatcher.create(
      harness.request(0, 0, { priority: 1, callType: 'emergency', emergencyType: 'stroke' }),
      EMERGENCY_PATIENT,
    );
    expect(emergency.status).toBe('searching');
    const escalated = harness.bus.events().filter((event) => event.type === 'EmergencyEscalated');
    expect(escalated).toEqual([
      expect.objectContaining({ key: emergency.id, priority: 1, reason: 'no_doctor_available' }),
    ]);
    const notes = await harness.store.notifications({ recipient: EMERGENCY_SERVICES });
    expect(notes).toEqual([
      expect.objectContaining({
        kind: 'emergency_escalated',
        bookingId: emergency.id,
        payload: expect.objectContaining({ emergencyType: 'stroke', priority: 1 }),
      }),
    ]);
    // Tried again each batch window, never escalated twice.
    for (let i = 0; i < 5; i++) {
      harness.advance(1_000);
      await harness.tick();
    }
    expect(harness.events.filter((event) => event.type === 'EmergencyEscalated')).toHaveLength(1);
    expect((await harness.dispatcher.get(emergency.id)).status).toBe('searching');

    // A doctor appears, too far for the target: the emergency is offered to them anyway (late beats nobody).
    harness.addDoctor('far', 20);
    harness.advance(1_000);
    await harness.tick();
    expect(await harness.dispatcher.get(emergency.id)).toMatchObject({ status: 'offered', doctorId: 'far' });
    expect(harness.events.filter((event) => event.type === 'EmergencyEscalated')).toHaveLength(1);
    expect(await harness.metric('tot_emergency_escalations_total', { priority: '1' })).toBe(1);
  });

  it('escalates an emergency whose search times out, then gives up with no_doctor_found', async () => {
    const harness = dispatchHarness({ settings: { searchTimeoutMs: 60_000, targetMinutes: { 2: 60 } } });
    harness.addDoctor('far', 20); // 2 600 s: within the 60-minute target of category 2 in this test
    const emergency = await harness.dispatcher.create(
      harness.request(0, 0, { priority: 2, patientId: 'patient-e' }),
      EMERGENCY_PATIENT,
    );
    await harness.dispatcher.decline(emergency.id, 'far', doctorActor('far'));
    harness.advance(60_000);
    await harness.tick();
    expect((await harness.dispatcher.get(emergency.id)).status).toBe('no_doctor_found');
    const escalated = harness.events.filter((event) => event.type === 'EmergencyEscalated');
    expect(escalated).toEqual([expect.objectContaining({ reason: 'search_timeout' })]);
    expect(await harness.store.notifications({ recipient: 'patient-e' })).toEqual([
      expect.objectContaining({ kind: 'no_doctor_found', bookingId: emergency.id }),
    ]);
  });
});

describe('SLA', () => {
  it('raises the breach exactly once when the target passes without the doctor, even across a restart', async () => {
    const harness = dispatchHarness({ settings: { searchTimeoutMs: 24 * 3_600_000 } });
    const booking = await harness.dispatcher.create(harness.request(0, 0, { priority: 3 }), PATIENT);
    harness.advance(60 * 60_000 - 1);
    await harness.tick();
    expect(harness.events.filter((event) => event.type === 'SlaBreached')).toHaveLength(0);
    harness.advance(1);
    expect((await harness.tick()).slaBreaches).toBe(1);
    harness.advance(60_000);
    await harness.tick();
    const breaches = harness.bus.events().filter((event) => event.type === 'SlaBreached');
    expect(breaches).toEqual([
      expect.objectContaining({ key: booking.id, priority: 3, targetMinutes: 60, status: 'searching' }),
    ]);
    expect(await harness.metric('tot_sla_breaches_total', { priority: '3' })).toBe(1);

    const restarted = new Dispatcher({
      store: harness.store,
      engine: harness.live,
      solver: new InThreadAssignmentSolver(),
      clock: harness.now,
    });
    const seen: string[] = [];
    restarted.onEvent((event) => seen.push(event.type));
    await restarted.restore();
    await restarted.tick(harness.advance(60_000));
    expect(seen).not.toContain('SlaBreached');
  });

  it('raises the breach at a late arrival that no tick saw coming', async () => {
    const harness = dispatchHarness({ settings: { targetMinutes: { 3: 30, 4: 30 } } });
    harness.addDoctor('slow', 1);
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    harness.advance(1_000);
    await harness.tick();
    await harness.dispatcher.accept(booking.id, 'slow', doctorActor('slow'));
    harness.advance(45 * 60_000);
    await harness.dispatcher.arrived(booking.id, 'slow', doctorActor('slow'));
    await harness.tick();
    expect(harness.events.filter((event) => event.type === 'SlaBreached')).toEqual([
      expect.objectContaining({ bookingId: booking.id, status: 'en_route' }),
    ]);
  });
});
