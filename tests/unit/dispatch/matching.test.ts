import { describe, expect, it } from 'vitest';
import type { Booking } from '../../../dispatch/booking-types.ts';
import { findCandidates } from '../../../dispatch/candidates.ts';
import { unassignedCost } from '../../../dispatch/matching.ts';
import { Scorer } from '../../../dispatch/scoring.ts';
import { dispatchHarness, PATIENT, START } from './dispatch-harness.ts';

/** Total ETA (s) of the offers the channel received, by booking id. */
function offerEtas(
  harness: ReturnType<typeof dispatchHarness>,
): Map<string, { doctorId: string; eta: number }> {
  return new Map(
    harness.channel.offers.map(({ doctorId, offer }) => [
      offer.bookingId,
      { doctorId, eta: offer.etaSeconds },
    ]),
  );
}

describe('candidates', () => {
  it('keeps the specialization, leaves out declined doctors and those beyond the maximum ETA, cheapest first', () => {
    const harness = dispatchHarness();
    harness.addDoctor('general-near', 0.5);
    harness.addDoctor('pediatrician-declined', 1, 0, { specializations: ['pediatrics'] });
    harness.addDoctor('pediatrician-2km', 2, 0, { specializations: ['pediatrics'] });
    harness.addDoctor('pediatrician-3km', 0, 3, { specializations: ['pediatrics'] });
    harness.addDoctor('pediatrician-far', 20, 0, { specializations: ['pediatrics'] });
    const booking = {
      ...harness.request(0, 0, { specialization: 'pediatrics' }),
      id: 'b',
      declinedBy: ['pediatrician-declined'],
      emergency: false,
    } as unknown as Booking;
    const candidates = findCandidates(harness.live, new Scorer(), booking, START, {
      k: 10,
      maxKm: 30,
      maxEtaSeconds: 1_000,
    });
    expect(candidates.map((candidate) => candidate.doctorId)).toEqual([
      'pediatrician-2km',
      'pediatrician-3km',
    ]);
    // 2 km straight × 1.3 detour at 36 km/h = 260 s.
    expect(candidates[0]?.etaSeconds).toBeCloseTo(260, 0);
    const excluded = findCandidates(
      harness.live,
      new Scorer(),
      booking,
      START,
      { k: 10, maxKm: 30, maxEtaSeconds: 1_000 },
      (doctorId) => doctorId === 'pediatrician-2km',
    );
    expect(excluded.map((candidate) => candidate.doctorId)).toEqual(['pediatrician-3km']);
  });

  it('offers nobody beyond the maximum ETA and nobody without the specialization', async () => {
    const harness = dispatchHarness({ settings: { maxEtaSeconds: 600 } });
    harness.addDoctor('far', 5); // 650 s
    harness.addDoctor('general', 0.2);
    const far = await harness.dispatcher.create(harness.request(0), PATIENT);
    const special = await harness.dispatcher.create(
      harness.request(0, 0, { specialization: 'cardiology', patientId: 'patient-2' }),
      PATIENT,
    );
    harness.advance(1_000);
    await harness.tick();
    expect(harness.channel.offers.map(({ offer }) => offer.bookingId)).toEqual([far.id]);
    expect(harness.channel.offers[0]?.doctorId).toBe('general');
    expect((await harness.dispatcher.get(special.id)).status).toBe('searching');
  });
});

describe('batch matching', () => {
  it('costs leaving a more urgent booking out one full unit more than a routine one', () => {
    expect(unassignedCost(3, 999) - unassignedCost(4, 999)).toBe(1_000);
    expect(unassignedCost(4, 999)).toBeGreaterThan(999);
  });

  it('beats first come first served on a contested instance', async () => {
    // Doctors at 0 and 10 km north; booking A at 4.9 km (nearest: the first doctor, by 0.2 km), then B at 1 km south
    // (only the first doctor is near). Greedy gives A the first doctor and sends the second 11 km to B.
    const totals: Record<string, number> = {};
    const pairs: Record<string, string[]> = {};
    for (const matching of ['greedy', 'batched'] as const) {
      const harness = dispatchHarness({ settings: { matching } });
      harness.addDoctor('south', 0);
      harness.addDoctor('north', 10);
      const a = await harness.dispatcher.create(harness.request(4.9), PATIENT);
      const b = await harness.dispatcher.create(harness.request(-1, 0, { patientId: 'patient-2' }), PATIENT);
      harness.advance(1_000);
      await harness.tick();
      const offers = offerEtas(harness);
      expect(offers.size).toBe(2);
      totals[matching] = [...offers.values()].reduce((sum, offer) => sum + offer.eta, 0);
      pairs[matching] = [offers.get(a.id)?.doctorId ?? '', offers.get(b.id)?.doctorId ?? ''];
    }
    expect(pairs['greedy']).toEqual(['south', 'north']);
    expect(pairs['batched']).toEqual(['north', 'south']);
    expect(totals['batched']).toBeLessThanOrEqual(totals['greedy'] as number);
    // (5.1 + 1) km against (4.9 + 11) km, × 130 s/km.
    expect(totals['batched']).toBeCloseTo(793, -1);
    expect(totals['greedy']).toBeCloseTo(2067, -1);
  });

  it('gathers bookings for the batch window, then gives a contested doctor to the more urgent booking', async () => {
    const harness = dispatchHarness();
    harness.addDoctor('only', 0);
    const routine = await harness.dispatcher.create(harness.request(0.5), PATIENT);
    const soon = await harness.dispatcher.create(
      harness.request(3, 0, { priority: 3, patientId: 'p2' }),
      PATIENT,
    );
    await harness.tick();
    expect(harness.channel.offers).toHaveLength(0);
    harness.advance(999);
    await harness.tick();
    expect(harness.channel.offers).toHaveLength(0);
    harness.advance(1);
    const summary = await harness.tick();
    expect(summary.batch).toMatchObject({ rows: 2, cols: 1, offered: 1 });
    expect(harness.channel.offers.map(({ offer }) => offer.bookingId)).toEqual([soon.id]);
    expect((await harness.dispatcher.get(routine.id)).status).toBe('searching');
    expect(await harness.metric('tot_matching_batch_size')).toBe(1);
  });
});
