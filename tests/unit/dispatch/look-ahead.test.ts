/**
 * Batched matching's look-ahead (dispatch/look-ahead.ts): a routine booking waits for a doctor about to finish a
 * visit nearby rather than taking a far free doctor, and is offered that doctor once the visit ends.
 */
import { describe, expect, it } from 'vitest';
import type { Booking, CallType } from '../../../dispatch/booking-types.ts';
import {
  DEFAULT_DISPATCH_SETTINGS,
  resolveDispatchSettings,
  type DispatchSettingsInput,
} from '../../../dispatch/dispatch-settings.ts';
import { dispatchHarness, doctorActor, PATIENT, type DispatchHarness } from './dispatch-harness.ts';

const MINUTE = 60_000;

/** A doctor at `north` km with a visit of `callType` under way there, begun `minutesAgo` ago. */
async function visitUnderWay(
  harness: DispatchHarness,
  doctorId: string,
  north: number,
  minutesAgo: number,
  callType: CallType = 'consultation',
): Promise<Booking> {
  harness.addDoctor(doctorId, north);
  const visit = await harness.dispatcher.create(
    harness.request(north, 0, { callType, patientId: `patient-of-${doctorId}` }),
    PATIENT,
  );
  harness.advance(1_000);
  await harness.tick();
  const by = doctorActor(doctorId);
  await harness.dispatcher.accept(visit.id, doctorId, by);
  await harness.dispatcher.arrived(visit.id, doctorId, by);
  await harness.dispatcher.start(visit.id, doctorId, by);
  harness.advance(minutesAgo * MINUTE);
  harness.moveDoctor(doctorId, north);
  return visit;
}

/**
 * A consultation (estimate 20 min, so 10–30 min until visits are known) begun 25 min ago 1 km north — expected free
 * in (30 − 25) / 2 = 2.5 min, then 130 s away — and a free doctor 8 km north (1 040 s away); then a routine booking at
 * the centre, matched by the first batch.
 */
async function scene(settings: DispatchSettingsInput = {}, minutesAgo = 25, priority: 1 | 2 | 3 | 4 = 4) {
  const harness = dispatchHarness({ settings });
  const visit = await visitUnderWay(harness, 'busy', 1, minutesAgo);
  harness.addDoctor('far', 8);
  const offersBefore = harness.channel.offers.length;
  const booking = await harness.dispatcher.create(harness.request(0, 0, { priority }), PATIENT);
  harness.advance(1_000);
  const summary = await harness.tick();
  const offers = harness.channel.offers
    .slice(offersBefore)
    .filter(({ offer }) => offer.bookingId === booking.id);
  return { harness, visit, booking, summary, offers };
}

/** The reason recorded with the booking's latest change to `offered`. */
function offerReason(harness: DispatchHarness, bookingId: string): string | undefined {
  return harness.changes
    .filter((change) => change.booking.id === bookingId && change.update.to === 'offered')
    .at(-1)?.update.reason;
}

/** Thirty consultations, each of 50 min, that end now; their doctors then go off duty. */
async function endFiftyMinuteConsultations(harness: DispatchHarness): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const visit = await visitUnderWay(harness, `learnt-${i}`, 20 + i, 50);
    await harness.dispatcher.complete(visit.id, `learnt-${i}`, doctorActor(`learnt-${i}`));
    harness.live.fleet.setStatus(`learnt-${i}`, 'offline', harness.now());
  }
}

/**
 * A consultation begun 25 min ago 1 km north, a free doctor 8 km north, and a routine booking at the centre, matched
 * by the next batch.
 */
async function bookBesideBusyAndFar(harness: DispatchHarness): Promise<Booking> {
  await visitUnderWay(harness, 'busy', 1, 25);
  harness.addDoctor('far', 8);
  const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
  harness.advance(1_000);
  await harness.tick();
  return booking;
}

describe('look-ahead', () => {
  it('keeps a routine booking for the doctor about to be free, then offers them that doctor once the visit ends', async () => {
    const { harness, visit, booking, summary, offers } = await scene();
    expect(summary.batch).toMatchObject({ rows: 1, offered: 0, planned: 1 });
    expect(offers).toEqual([]);
    expect((await harness.dispatcher.get(booking.id)).status).toBe('searching');
    expect(harness.statusOf('far')).toBe('available');
    // The planned doctor is offered nothing meanwhile: their visit stands.
    expect(harness.statusOf('busy')).toBe('on_site');

    harness.advance(2 * MINUTE);
    await harness.dispatcher.complete(visit.id, 'busy', doctorActor('busy'));
    // The freed doctor starts a batch at the next tick, without waiting for the booking's next try.
    harness.advance(100);
    const freed = await harness.tick();
    expect(freed.batch).toMatchObject({ offered: 1, planned: 0 });
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'busy' });
    expect(offerReason(harness, booking.id)).toBe('matched:look_ahead');
    expect(harness.channel.offers.at(-1)?.offer).toMatchObject({ bookingId: booking.id, etaSeconds: 130 });
  });

  it('offers the far free doctor at once when the look-ahead is off', async () => {
    const { harness, booking, summary, offers } = await scene({ lookAheadMs: 0 });
    expect(summary.batch).toMatchObject({ offered: 1, planned: 0 });
    expect(offers.map(({ doctorId }) => doctorId)).toEqual(['far']);
    expect(offerReason(harness, booking.id)).toBe('matched:batch');
  });

  it('prefers a free doctor who arrives sooner than the wait plus the drive', async () => {
    // Without the coverage term, which would count the last free doctor of this small city as leaving it uncovered.
    const harness = dispatchHarness({ settings: { coverageWeight: 0 } });
    await visitUnderWay(harness, 'busy', 1, 25);
    // 1.5 km: 195 s, against 150 s of visit left plus 130 s of drive.
    harness.addDoctor('near', -1.5);
    const booking = await harness.dispatcher.create(harness.request(0), PATIENT);
    harness.advance(1_000);
    const summary = await harness.tick();
    expect(summary.batch).toMatchObject({ offered: 1, planned: 0 });
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'near' });
  });

  it('does not count on a visit that has run past what such visits last', async () => {
    // 31 min into a consultation thought to last 10–30 min.
    const { offers } = await scene({}, 31);
    expect(offers.map(({ doctorId }) => doctorId)).toEqual(['far']);
  });

  it('does not plan past the search timeout, less room for a declined offer', async () => {
    // Searching ends after 4 min; a plan must leave two offer timeouts (40 s) and a window: the doctor free in
    // 2.5 min would be fine, one free in 3.5 min (begun 23 min ago: (30 − 23) / 2) is not.
    const fits = await scene({ searchTimeoutMs: 4 * MINUTE });
    expect(fits.summary.batch).toMatchObject({ planned: 1 });
    const late = await scene({ searchTimeoutMs: 4 * MINUTE }, 23);
    expect(late.offers.map(({ doctorId }) => doctorId)).toEqual(['far']);
  });

  it('never makes an emergency wait, and greedy matching never looks ahead', async () => {
    const emergency = await scene({}, 25, 2);
    expect(await emergency.harness.dispatcher.get(emergency.booking.id)).toMatchObject({
      status: 'offered',
      doctorId: 'far',
    });
    const greedy = await scene({ matching: 'greedy' });
    expect(await greedy.harness.dispatcher.get(greedy.booking.id)).toMatchObject({
      status: 'offered',
      doctorId: 'far',
    });
  });

  it('learns visit durations from the visits that end', async () => {
    // Thirty consultations that each lasted 50 min teach the matcher that a consultation begun 25 min ago has 25 min
    // left, not the 2.5 min the 20-minute estimate suggests: the booking is offered the far doctor at once.
    const harness = dispatchHarness();
    await harness.tick();
    await endFiftyMinuteConsultations(harness);
    const booking = await bookBesideBusyAndFar(harness);
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'far' });
  });

  it('reads the visit durations back from the store after a restart', async () => {
    // The thirty 50-min consultations end before the restart; the restarted dispatcher must not fall back to the
    // 20-minute estimate (which would make the booking wait 2.5 min for the busy doctor).
    const before = dispatchHarness();
    await before.tick();
    await endFiftyMinuteConsultations(before);
    await before.dispatcher.stop();
    const harness = dispatchHarness({ store: before.store, fleet: before.live.fleet, now: before.now() });
    expect(await harness.dispatcher.restore()).toMatchObject({ visitsLearnt: 30 });
    const booking = await bookBesideBusyAndFar(harness);
    expect(await harness.dispatcher.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'far' });
    // Greedy matching never looks ahead, so it reads nothing.
    const greedy = dispatchHarness({
      store: before.store,
      fleet: before.live.fleet,
      settings: { matching: 'greedy' },
    });
    expect(await greedy.dispatcher.restore()).toMatchObject({ visitsLearnt: 0 });
  });

  it('is on by default with rematching and the coverage term, and refuses negative settings naming them', () => {
    expect(DEFAULT_DISPATCH_SETTINGS).toMatchObject({
      lookAheadMs: 600_000,
      coverageWeight: 0.5,
      rematchSavingMs: 300_000,
    });
    expect(() => resolveDispatchSettings({ lookAheadMs: -1 })).toThrow(
      /lookAheadMs must be a finite number ≥ 0, got -1/,
    );
    expect(() => resolveDispatchSettings({ coverageWeight: Number.NaN })).toThrow(/coverageWeight/);
    expect(() => resolveDispatchSettings({ rematchSavingMs: -5 })).toThrow(/rematchSavingMs/);
    expect(resolveDispatchSettings({ lookAheadMs: 0, coverageWeight: 0, rematchSavingMs: 0 })).toMatchObject({
      lookAheadMs: 0,
    });
  });
});
