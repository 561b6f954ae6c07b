/**
 * Batched matching's coverage term (dispatch/coverage.ts) and rematching of en-route bookings (dispatch/rematch.ts).
 */
import { describe, expect, it } from 'vitest';
import type { DispatchSettingsInput } from '../../../dispatch/dispatch-settings.ts';
import { REMATCH_EVERY_MS } from '../../../dispatch/rematch.ts';
import { dispatchHarness, doctorActor, PATIENT, type DispatchHarness } from './dispatch-harness.ts';

const MINUTE = 60_000;

/** The reasons recorded with the booking's changes, in order, as `to:reason`. */
function reasons(harness: DispatchHarness, bookingId: string): string[] {
  return harness.changes
    .filter((change) => change.booking.id === bookingId)
    .map((change) => `${change.update.to}:${change.update.reason ?? ''}`);
}

describe('coverage', () => {
  async function firstOffer(settings: DispatchSettingsInput): Promise<string | undefined> {
    const harness = dispatchHarness({ settings });
    // East: 2 km (260 s), alone. West: 2.1 km (273 s), with a colleague 0.4 km further west.
    harness.addDoctor('a-east', 0, 2);
    harness.addDoctor('b-west', 0, -2.1);
    harness.addDoctor('c-west-colleague', 0, -2.5);
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    harness.advance(1_000);
    await harness.tick();
    return (await harness.dispatcher.get(booking.id)).doctorId;
  }

  it('takes a doctor from where another stays free rather than the last one of an area, when about as near', async () => {
    expect(await firstOffer({ coverageWeight: 0 })).toBe('a-east');
    // a-east leaves nobody within 4.1 km (533 s, half counted); b-west leaves a colleague 0.4 km away (52 s).
    expect(await firstOffer({ coverageWeight: 0.5 })).toBe('b-west');
  });
});

describe('rematch', () => {
  /** A routine booking at the centre accepted by a doctor 10 km away (1 300 s), who is now on the way. */
  async function farDoctorOnTheWay(settings: DispatchSettingsInput = {}, priority: 1 | 2 | 3 | 4 = 4) {
    const harness = dispatchHarness({ settings: { rematchSavingMs: 5 * MINUTE, ...settings } });
    harness.addDoctor('far', 10);
    const booking = await harness.dispatcher.create(harness.request(0, 0, { priority }), PATIENT);
    harness.advance(1_000);
    await harness.tick();
    await harness.dispatcher.accept(booking.id, 'far', doctorActor('far'));
    expect((await harness.dispatcher.get(booking.id)).status).toBe('en_route');
    return { harness, booking };
  }

  it('gives an en-route booking to a doctor who came free much nearer, and frees the far doctor', async () => {
    const { harness, booking } = await farDoctorOnTheWay();
    harness.advance(REMATCH_EVERY_MS);
    harness.moveDoctor('far', 10);
    harness.addDoctor('near', 1);
    const summary = await harness.tick();
    expect(summary.rematched).toBe(1);
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'near' });
    expect(reasons(harness, booking.id).slice(-2)).toEqual([
      'searching:reassigned:nearer_doctor',
      'offered:matched:rematch',
    ]);
    expect(harness.channel.withdrawals).toContainEqual({
      doctorId: 'far',
      bookingId: booking.id,
      reason: 'reassigned',
    });
    expect(harness.statusOf('far')).toBe('available');
  });

  it('rematches a booking once at most', async () => {
    const { harness, booking } = await farDoctorOnTheWay();
    harness.advance(REMATCH_EVERY_MS);
    harness.addDoctor('near', 1);
    await harness.tick();
    await harness.dispatcher.decline(booking.id, 'near', doctorActor('near'));
    // The far doctor, not declined, gets it back at the next batch and sets off again.
    harness.advance(1_000);
    await harness.tick();
    await harness.dispatcher.accept(booking.id, 'far', doctorActor('far'));
    harness.advance(REMATCH_EVERY_MS);
    harness.addDoctor('nearer-still', 0.5);
    const summary = await harness.tick();
    expect(summary.rematched).toBe(0);
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'en_route', doctorId: 'far' });
  });

  it('leaves the booking alone when the saving is below the threshold, for emergencies, and in greedy matching', async () => {
    const small = await farDoctorOnTheWay();
    small.harness.advance(REMATCH_EVERY_MS);
    // 8 km: 1 040 s against 1 300 s: 260 s saved, under 5 min.
    small.harness.addDoctor('a-little-nearer', 8);
    expect((await small.harness.tick()).rematched).toBe(0);

    const emergency = await farDoctorOnTheWay({}, 2);
    emergency.harness.advance(REMATCH_EVERY_MS);
    emergency.harness.addDoctor('near', 1);
    expect((await emergency.harness.tick()).rematched).toBe(0);
    expect((await emergency.harness.dispatcher.get(emergency.booking.id)).doctorId).toBe('far');

    const greedy = await farDoctorOnTheWay({ matching: 'greedy' });
    greedy.harness.advance(REMATCH_EVERY_MS);
    greedy.harness.addDoctor('near', 1);
    expect((await greedy.harness.tick()).rematched).toBe(0);
    expect((await greedy.harness.dispatcher.get(greedy.booking.id)).doctorId).toBe('far');
  });
});
