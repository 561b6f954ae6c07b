import { describe, expect, it } from 'vitest';
import {
  applyPriority,
  applyTransition,
  canTransition,
  doctorStatusFor,
  holdsDoctor,
} from '../../../dispatch/booking-lifecycle.ts';
import {
  BOOKING_STATUSES,
  BOOKING_TRANSITIONS,
  DOCTOR_HOLDING_STATUSES,
  FINAL_STATUSES,
  type Booking,
  type BookingStatus,
} from '../../../dispatch/booking-types.ts';
import { TotError } from '../../../geo/errors.ts';

const created = Date.UTC(2026, 10, 22, 9);

/** A booking in `status`, with a doctor and an offer deadline when the status needs them. */
function bookingIn(status: BookingStatus): Booking {
  const booking: Booking = {
    id: '00000000-0000-4000-8000-000000000001',
    patientId: 'patient-1',
    callType: 'home_visit',
    symptoms: 'fever',
    address: 'Tverskaya 1',
    lat: 55.76,
    lng: 37.61,
    priority: 4,
    originalPriority: 4,
    emergency: false,
    status,
    declinedBy: ['doctor-0'],
    estimatedPrice: 3000,
    estimatedDurationMinutes: 40,
    createdAt: created,
    searchingAt: created + 1,
    version: 7,
  };
  if (holdsDoctor(status)) booking.doctorId = 'doctor-1';
  if (status === 'offered') booking.offerExpiresAt = created + 20_000;
  return booking;
}

/** What a transition into `to` needs besides the status. */
function changesFor(to: BookingStatus) {
  return { doctorId: 'doctor-2', ...(to === 'offered' ? { offerExpiresAt: created + 60_000 } : {}) };
}

const pairs = BOOKING_STATUSES.flatMap((from) => BOOKING_STATUSES.map((to) => [from, to] as const));
const illegal = pairs.filter(([from, to]) => !BOOKING_TRANSITIONS[from].includes(to));
const legal = pairs.filter(([from, to]) => BOOKING_TRANSITIONS[from].includes(to));

describe('booking lifecycle', () => {
  it('covers every pair of statuses exactly once between the legal and the illegal lists', () => {
    expect(illegal.length + legal.length).toBe(BOOKING_STATUSES.length ** 2);
    expect(legal.length).toBe(Object.values(BOOKING_TRANSITIONS).reduce((sum, to) => sum + to.length, 0));
  });

  it.each(illegal)(
    'refuses %s → %s with DISPATCH_INVALID_TRANSITION naming both, changing nothing',
    (from, to) => {
      const booking = bookingIn(from);
      const before = structuredClone(booking);
      let thrown: unknown;
      try {
        applyTransition(booking, to, created + 5_000, changesFor(to));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TotError);
      expect((thrown as TotError).code).toBe('DISPATCH_INVALID_TRANSITION');
      expect((thrown as TotError).message).toContain(`from ${from} to ${to}`);
      expect((thrown as TotError).details).toMatchObject({ from, to });
      expect(booking).toEqual(before);
      expect(canTransition(from, to)).toBe(false);
    },
  );

  it.each(legal)('allows %s → %s: new object, version + 1, doctor fields consistent', (from, to) => {
    const booking = bookingIn(from);
    const before = structuredClone(booking);
    const next = applyTransition(booking, to, created + 5_000, changesFor(to));
    expect(booking).toEqual(before);
    expect(next).not.toBe(booking);
    expect(next.status).toBe(to);
    expect(next.version).toBe(booking.version + 1);
    // Holding statuses have a doctor; a final booking keeps the doctor it had (who visited, or was on the way);
    // searching and no_doctor_found have none.
    const keepsDoctor = FINAL_STATUSES.includes(to) && booking.doctorId !== undefined;
    // Absent, not merely undefined: a released doctor or a past deadline leaves no key behind.
    expect('doctorId' in next).toBe(DOCTOR_HOLDING_STATUSES.includes(to) || keepsDoctor);
    if (keepsDoctor) expect(next.doctorId).toBe(booking.doctorId);
    expect('offerExpiresAt' in next).toBe(to === 'offered');
    expect(canTransition(from, to)).toBe(true);
  });

  it('stamps the timestamp of the stage entered', () => {
    const at = created + 9_000;
    const stamps: [BookingStatus, BookingStatus, keyof Booking][] = [
      ['searching', 'offered', 'offeredAt'],
      ['offered', 'assigned', 'assignedAt'],
      ['assigned', 'en_route', 'enRouteAt'],
      ['en_route', 'arrived', 'arrivedAt'],
      ['arrived', 'in_progress', 'startedAt'],
      ['in_progress', 'completed', 'completedAt'],
      ['created', 'cancelled', 'cancelledAt'],
      ['created', 'searching', 'searchingAt'],
      ['en_route', 'searching', 'searchingAt'],
    ];
    for (const [from, to, field] of stamps) {
      expect(applyTransition(bookingIn(from), to, at, changesFor(to))[field]).toBe(at);
    }
  });

  it('keeps the search start when a declined or lapsed offer goes back to searching', () => {
    const next = applyTransition(bookingIn('offered'), 'searching', created + 30_000, {
      declinedBy: ['doctor-0', 'doctor-1'],
    });
    expect(next.searchingAt).toBe(created + 1);
    expect(next.doctorId).toBeUndefined();
    expect(next.offerExpiresAt).toBeUndefined();
    expect(next.declinedBy).toEqual(['doctor-0', 'doctor-1']);
  });

  it('refuses to offer without a doctor or a deadline, and to assign without a doctor', () => {
    const searching = bookingIn('searching');
    expect(() => applyTransition(searching, 'offered', created, { offerExpiresAt: created })).toThrow(
      /without a doctor/,
    );
    expect(() => applyTransition(searching, 'offered', created, { doctorId: 'd' })).toThrow(/offer deadline/);
    expect(() => applyTransition(searching, 'assigned', created)).toThrow(/without a doctor/);
  });

  it('changes the priority and the emergency flag with it, at the same status', () => {
    const raised = applyPriority(bookingIn('searching'), 2);
    expect(raised).toMatchObject({ priority: 2, emergency: true, status: 'searching', version: 8 });
    expect(applyPriority(raised, 3)).toMatchObject({ priority: 3, emergency: false, version: 9 });
  });

  it('maps booking statuses to the doctor statuses of the fleet', () => {
    expect(BOOKING_STATUSES.map((status) => doctorStatusFor(status))).toEqual([
      undefined,
      undefined,
      'offered',
      'assigned',
      'en_route',
      'on_site',
      'on_site',
      undefined,
      undefined,
      undefined,
    ]);
  });
});
