import { describe, expect, it } from 'vitest';
import { doctorStatusFor, holdsDoctor } from '../../../dispatch/booking-lifecycle.ts';
import type { Booking, TriageCategory } from '../../../dispatch/booking-types.ts';
import { TotError } from '../../../geo/errors.ts';
import {
  dispatchHarness,
  DISPATCHER,
  doctorActor,
  PATIENT,
  type DispatchHarness,
} from './dispatch-harness.ts';

/** A small seeded generator (mulberry32), so that a failure replays exactly. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Codes a random day legitimately meets: an answer after the lapse, a step the lifecycle refuses, a busy doctor. */
const EXPECTED = new Set([
  'DISPATCH_OFFER_NOT_OPEN',
  'DISPATCH_INVALID_TRANSITION',
  'DISPATCH_DOCTOR_UNAVAILABLE',
]);

async function tolerated(work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    if (!(error instanceof TotError) || !EXPECTED.has(error.code)) throw error;
  }
}

/** No doctor held twice; every doctor's fleet status is what the bookings imply (offline ones excepted). */
function checkInvariants(harness: DispatchHarness, doctors: readonly string[], step: number): void {
  const active = harness.dispatcher.active();
  const held = new Map<string, Booking>();
  for (const booking of active) {
    if (booking.doctorId === undefined || !holdsDoctor(booking.status)) continue;
    expect(held.has(booking.doctorId), `step ${step}: ${booking.doctorId} held twice`).toBe(false);
    held.set(booking.doctorId, booking);
    expect(harness.dispatcher.bookingOfDoctor(booking.doctorId)?.id).toBe(booking.id);
  }
  for (const doctorId of doctors) {
    const status = harness.statusOf(doctorId);
    if (status === 'offline') continue;
    const booking = held.get(doctorId);
    const expected = booking ? doctorStatusFor(booking.status) : 'available';
    expect(status, `step ${step}: ${doctorId} (booking ${booking?.status ?? 'none'})`).toBe(expected);
  }
}

describe('dispatch invariants over random days', () => {
  it.each([
    [1, 'batched'],
    [2, 'greedy'],
    [3, 'batched'],
    [4, 'greedy'],
  ] as const)(
    'seed %i, %s: no doctor held twice, fleet statuses in step with the bookings',
    async (seed, matching) => {
      const random = seeded(seed);
      const harness = dispatchHarness({ settings: { matching, searchTimeoutMs: 120_000 } });
      const doctors = Array.from({ length: 12 }, (_, i) => `doctor-${i}`);
      const position = () => [random() * 8 - 4, random() * 8 - 4] as const;
      for (const doctorId of doctors) harness.addDoctor(doctorId, ...position());
      let patients = 0;
      for (let step = 0; step < 300; step++) {
        const roll = random();
        const active = harness.dispatcher.active();
        const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
        if (roll < 0.2) {
          const priority = (
            random() < 0.15 ? 1 + Math.floor(random() * 2) : 3 + Math.floor(random() * 2)
          ) as TriageCategory;
          const [north, east] = position();
          await harness.dispatcher.create(
            harness.request(north, east, { priority, patientId: `patient-${patients++}` }),
            PATIENT,
          );
        } else if (roll < 0.45) {
          const booking = pick(active.filter((candidate) => candidate.status === 'offered'));
          if (booking?.doctorId) {
            const doctor = doctorActor(booking.doctorId);
            await tolerated(
              random() < 0.7
                ? harness.dispatcher.accept(booking.id, booking.doctorId, doctor)
                : harness.dispatcher.decline(booking.id, booking.doctorId, doctor),
            );
          }
        } else if (roll < 0.65) {
          const booking = pick(
            active.filter((candidate) => ['en_route', 'arrived', 'in_progress'].includes(candidate.status)),
          );
          if (booking?.doctorId) {
            const doctor = doctorActor(booking.doctorId);
            const next =
              booking.status === 'en_route'
                ? harness.dispatcher.arrived(booking.id, booking.doctorId, doctor)
                : booking.status === 'arrived'
                  ? harness.dispatcher.start(booking.id, booking.doctorId, doctor)
                  : harness.dispatcher.complete(booking.id, booking.doctorId, doctor);
            await tolerated(next);
          }
        } else if (roll < 0.7) {
          const doctorId = pick(doctors) as string;
          harness.live.fleet.setDuty(doctorId, harness.statusOf(doctorId) === 'offline', harness.now());
        } else if (roll < 0.74) {
          const booking = pick(active);
          if (booking) await tolerated(harness.dispatcher.cancel(booking.id, PATIENT, 'changed_mind'));
        } else if (roll < 0.77) {
          const booking = pick(
            active.filter((candidate) => ['offered', 'assigned', 'en_route'].includes(candidate.status)),
          );
          if (booking) await tolerated(harness.dispatcher.reassign(booking.id, DISPATCHER, 'test'));
        } else if (roll < 0.8) {
          const booking = pick(
            active.filter((candidate) => ['searching', 'no_doctor_found'].includes(candidate.status)),
          );
          const doctorId = pick(doctors) as string;
          if (booking) await tolerated(harness.dispatcher.assign(booking.id, doctorId, DISPATCHER));
        }
        harness.advance(Math.floor(random() * 6_000));
        // Doctors on duty keep sending fixes, so nobody goes offline on timeout in this test.
        for (const doctorId of doctors) {
          const view = harness.live.fleet.get(doctorId);
          if (view?.lat !== undefined && view.lng !== undefined && view.status !== 'offline') {
            harness.live.fleet.applyFix(
              { doctorId, lat: view.lat, lng: view.lng, ts: harness.now() },
              harness.now(),
            );
          }
        }
        await harness.tick();
        checkInvariants(harness, doctors, step);
      }
      expect(patients).toBeGreaterThan(30);
      const history = await harness.store.list({ limit: 500 });
      expect(history.some((booking) => booking.status === 'completed')).toBe(true);
    },
  );
});
