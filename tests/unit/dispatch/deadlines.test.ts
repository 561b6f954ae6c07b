import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActiveBookings } from '../../../dispatch/active-bookings.ts';
import type { Booking, BookingStatus } from '../../../dispatch/booking-types.ts';
import { DeadlineQueue, deadlinesOf } from '../../../dispatch/deadlines.ts';
import { resolveDispatchSettings } from '../../../dispatch/dispatch-settings.ts';

describe('DeadlineQueue', () => {
  it('gives the entries due, earliest first, and keeps the others (against a sorted list)', () => {
    const operation = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 200 }), id: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ pop: fc.integer({ min: 0, max: 200 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 300 }), (operations) => {
        const queue = new DeadlineQueue();
        let model: { at: number; id: string }[] = [];
        for (const op of operations) {
          if ('push' in op) {
            queue.push(op.push, `b${op.id}`);
            model.push({ at: op.push, id: `b${op.id}` });
            continue;
          }
          const taken: { at: number; id: string }[] = [];
          queue.popDue(op.pop, (id, at) => taken.push({ at, id }));
          const expected = model.filter((entry) => entry.at <= op.pop);
          model = model.filter((entry) => entry.at > op.pop);
          // Earliest first; entries of equal times in any order.
          expect(taken.map((entry) => entry.at)).toEqual(
            expected.map((entry) => entry.at).sort((a, b) => a - b),
          );
          expect(taken.map((entry) => `${entry.at}/${entry.id}`).sort()).toEqual(
            expected.map((entry) => `${entry.at}/${entry.id}`).sort(),
          );
          expect(queue.size).toBe(model.length);
        }
      }),
    );
  });
});

const settings = resolveDispatchSettings({});
const deadlines = deadlinesOf(settings);

function booking(id: string, status: BookingStatus, offerExpiresAt: number, version: number): Booking {
  return {
    id,
    patientId: 'p',
    callType: 'home_visit',
    symptoms: 's',
    address: 'a',
    lat: 55.75,
    lng: 37.62,
    priority: 4,
    originalPriority: 4,
    emergency: false,
    status,
    declinedBy: [],
    estimatedPrice: 1,
    estimatedDurationMinutes: 30,
    createdAt: 0,
    version,
    ...(status === 'offered' ? { doctorId: `d-${id}`, offerExpiresAt } : {}),
  };
}

describe('ActiveBookings.due', () => {
  /**
   * The model: a booking is "armed" for the offer lapse at its expiry when it is put with an expiry other than its
   * previous version's; due(now) reports the armed bookings whose expiry has come, once, and disarms them; requeue
   * arms a booking again at its current expiry. This is what the dispatcher's tick relies on: no offer lapses twice
   * for one expiry, none is missed, none lapses before its time or after it changed.
   */
  it('reports each booking once when its current time comes, never a stale or a gone one (against a model)', () => {
    const operation = fc.oneof(
      fc.record({
        put: fc.integer({ min: 0, max: 9 }),
        status: fc.constantFrom<BookingStatus>('offered', 'offered', 'searching', 'assigned', 'completed'),
        expiry: fc.integer({ min: 0, max: 100 }),
      }),
      fc.record({ advance: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ requeue: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
        const bookings = new ActiveBookings(() => 0, deadlines);
        const current = new Map<string, Booking>();
        const armed = new Map<string, number>();
        let now = 0;
        let version = 1;
        for (const op of operations) {
          if ('put' in op) {
            const id = `b${op.put}`;
            const next = booking(id, op.status, op.expiry, version++);
            const previous = current.get(id);
            bookings.put(next, now);
            const at = deadlines.offerLapse(next);
            if (op.status === 'completed') {
              current.delete(id);
              armed.delete(id);
            } else {
              current.set(id, next);
              if (at === undefined) armed.delete(id);
              else if (previous === undefined || deadlines.offerLapse(previous) !== at) armed.set(id, at);
            }
          } else if ('requeue' in op) {
            const id = `b${op.requeue}`;
            bookings.requeue('offerLapse', id);
            const at = current.get(id) && deadlines.offerLapse(current.get(id) as Booking);
            if (at !== undefined) armed.set(id, at);
          } else {
            now += op.advance;
            const found = bookings.due('offerLapse', now);
            const expected = [...armed].filter(([, at]) => at <= now);
            for (const [id] of expected) armed.delete(id);
            expect(found.map((b) => b.id).sort()).toEqual(expected.map(([id]) => id).sort());
            // As they are now, earliest first.
            for (const b of found) expect(b).toBe(current.get(b.id));
            const times = found.map((b) => b.offerExpiresAt as number);
            expect(times).toEqual([...times].sort((a, b) => a - b));
          }
        }
      }),
    );
  });

  it('stays right when stale entries outgrow the queue and it is rebuilt', () => {
    const bookings = new ActiveBookings(() => 0, deadlines);
    bookings.put(booking('other', 'offered', 50_000, 1), 0);
    // 5 000 new expiries for one booking: the queue is rebuilt from the two active bookings more than once.
    for (let i = 1; i <= 5_000; i++) bookings.put(booking('b', 'offered', 10_000 + i, i + 1), 0);
    expect(bookings.due('offerLapse', 14_999)).toEqual([]);
    expect(bookings.due('offerLapse', 15_000).map((b) => b.offerExpiresAt)).toEqual([15_000]);
    expect(bookings.due('offerLapse', 40_000)).toEqual([]);
    expect(bookings.due('offerLapse', 50_000).map((b) => b.id)).toEqual(['other']);
  });

  it('answers the arrival target by the current priority, and nothing once arrived', () => {
    const bookings = new ActiveBookings(() => 0, deadlines);
    const routine = booking('r', 'searching', 0, 1);
    bookings.put(routine, 0);
    const target4 = settings.targetMinutes[4] * 60_000;
    const target2 = settings.targetMinutes[2] * 60_000;
    // Raised to category 2: due at its tighter target, not at the old one.
    bookings.put({ ...routine, priority: 2, version: 2 }, 0);
    expect(bookings.due('arrivalTarget', target2 - 1)).toEqual([]);
    expect(bookings.due('arrivalTarget', target2).map((b) => b.priority)).toEqual([2]);
    expect(bookings.due('arrivalTarget', target4)).toEqual([]);
    const other = booking('o', 'searching', 0, 1);
    bookings.put(other, 0);
    bookings.put({ ...other, status: 'arrived', arrivedAt: 5, version: 2 }, 5);
    expect(bookings.due('arrivalTarget', target4 * 10)).toEqual([]);
  });
});
