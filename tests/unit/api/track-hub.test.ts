import { afterEach, describe, expect, it } from 'vitest';
import {
  TrackHub,
  type TrackFrame,
  type TrackHubOptions,
  type TrackWatcher,
} from '../../../api/tracking/track-hub.ts';
import type { Booking, BookingRequest } from '../../../dispatch/booking-types.ts';
import type { DoctorView } from '../../../engine/fleet.ts';
import { etaSeconds } from '../../../geo/eta.ts';
import { TrafficField } from '../../../geo/traffic-field.ts';
import { BOOKING_BODY, BOOKING_NOW, USERS } from '../../support/booking-fixture.ts';
import { FakeDispatch } from '../../support/fake-dispatch.ts';

const SYSTEM = { id: 'system', role: 'system' } as const;

/** A watcher that records frames and how it ended. */
class RecordingWatcher implements TrackWatcher {
  frames: TrackFrame[] = [];
  done = false;
  error: unknown;
  send(frame: TrackFrame): void {
    this.frames.push(frame);
  }
  finished(): void {
    this.done = true;
  }
  failed(error: unknown): void {
    this.error = error;
  }
  types(): string[] {
    return this.frames.map((frame) => frame.type);
  }
}

/** A fleet of doctors the test moves by hand, counting lookups. */
class FakeFleet {
  readonly doctors = new Map<string, DoctorView>();
  lookups: string[] = [];
  get(id: string): DoctorView | undefined {
    this.lookups.push(id);
    return this.doctors.get(id);
  }
  move(id: string, lat: number, lng: number, lastFixAt: number, extra: Partial<DoctorView> = {}): void {
    this.doctors.set(id, { id, status: 'en_route', specializations: [], lat, lng, lastFixAt, ...extra });
  }
}

const hubs: TrackHub[] = [];
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.stop();
});

/**
 * `readOf` replaces the hub's read of a booking (to hold it back); the dispatcher's own `get` by default. `eta`
 * replaces the ETA function.
 */
function setup(
  options: {
    readOf?: (dispatch: FakeDispatch) => (id: string) => Promise<Booking>;
    eta?: TrackHubOptions['eta'];
  } = {},
) {
  const dispatch = new FakeDispatch(() => BOOKING_NOW);
  const get = options.readOf?.(dispatch);
  const fleet = new FakeFleet();
  const traffic = new TrafficField();
  let wall = 1_000_000;
  const hub = new TrackHub({
    dispatch: () => (get ? { get, onChange: (listener) => dispatch.onChange(listener) } : dispatch),
    fleet: () => fleet,
    traffic: () => traffic,
    clock: () => BOOKING_NOW,
    wallClock: () => wall,
    tickMs: 0,
    ...(options.eta ? { eta: options.eta } : {}),
  });
  hubs.push(hub);
  const book = () =>
    dispatch.create({ ...BOOKING_BODY, patientId: USERS.alice.userId } as BookingRequest, {
      id: USERS.alice.userId,
      role: 'patient',
    });
  /** Lets the hub's read of the booking finish. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const advance = (ms: number) => {
    wall += ms;
  };
  return { dispatch, fleet, traffic, hub, book, settle, advance };
}

const expectedEta = (traffic: TrafficField, doctor: { lat: number; lng: number }) =>
  Math.round(etaSeconds(traffic, doctor, { lat: BOOKING_BODY.lat, lng: BOOKING_BODY.lng }, BOOKING_NOW));

describe('TrackHub', () => {
  it("opens with the state: the booking, the assigned doctor's position and the ETA", async () => {
    const { dispatch, fleet, traffic, hub, book, settle } = setup();
    const booking = await book();
    await dispatch.assign(booking.id, 'doc-1', SYSTEM);
    fleet.move('doc-1', 55.74, 37.6, BOOKING_NOW - 500, { heading: 90, speed: 8 });
    const watcher = new RecordingWatcher();
    hub.watch(booking.id, watcher);
    await settle();
    expect(watcher.frames).toEqual([
      {
        type: 'state',
        booking: expect.objectContaining({
          id: booking.id,
          status: 'assigned',
          doctorId: 'doc-1',
        }) as Booking,
        doctor: { lat: 55.74, lng: 37.6, heading: 90, speed: 8 },
        etaSeconds: expectedEta(traffic, { lat: 55.74, lng: 37.6 }),
      },
    ]);
    expect(expectedEta(traffic, { lat: 55.74, lng: 37.6 })).toBeGreaterThan(60);
  });

  it('shows no doctor while searching or offered, even if the offered doctor moves', async () => {
    const { dispatch, fleet, hub, book, settle } = setup();
    const booking = await book();
    const watcher = new RecordingWatcher();
    hub.watch(booking.id, watcher);
    await settle();
    dispatch.offerTo(booking.id, 'doc-1');
    fleet.move('doc-1', 55.74, 37.6, BOOKING_NOW);
    hub.tick();
    expect(watcher.frames).toEqual([
      { type: 'state', booking: expect.objectContaining({ status: 'searching' }) as Booking },
      { type: 'status', booking: expect.objectContaining({ status: 'offered' }) as Booking },
    ]);
  });

  it('sends a status frame for every change of the booking, and none for other bookings', async () => {
    const { dispatch, hub, book, settle } = setup();
    const booking = await book();
    const other = await book();
    const watcher = new RecordingWatcher();
    hub.watch(booking.id, watcher);
    await settle();
    dispatch.offerTo(other.id, 'doc-2');
    dispatch.offerTo(booking.id, 'doc-1');
    await dispatch.accept(booking.id, 'doc-1', SYSTEM);
    dispatch.setOff(booking.id);
    expect(watcher.types()).toEqual(['state', 'status', 'status', 'status']);
    expect(watcher.frames.slice(1).map((frame) => frame.type === 'status' && frame.booking.status)).toEqual([
      'offered',
      'assigned',
      'en_route',
    ]);
  });

  it('sends a position when the assigned doctor has a new fix, with the ETA from it', async () => {
    const { dispatch, fleet, traffic, hub, book, settle, advance } = setup();
    const booking = await book();
    await dispatch.assign(booking.id, 'doc-1', SYSTEM);
    const watcher = new RecordingWatcher();
    hub.watch(booking.id, watcher);
    await settle();
    hub.tick();
    expect(watcher.types()).toEqual(['state']);
    fleet.move('doc-1', 55.75, 37.61, BOOKING_NOW + 1000, { speed: 6 });
    hub.tick();
    expect(watcher.frames.at(-1)).toEqual({
      type: 'position',
      lat: 55.75,
      lng: 37.61,
      speed: 6,
      etaSeconds: expectedEta(traffic, { lat: 55.75, lng: 37.61 }),
      at: BOOKING_NOW + 1000,
    });
    advance(5000);
    hub.tick();
    expect(watcher.types()).toEqual(['state', 'position']);
  });

  it('sends at most one position per second per socket, the latest position winning', async () => {
    const { dispatch, fleet, hub, book, settle, advance } = setup();
    const booking = await book();
    await dispatch.assign(booking.id, 'doc-1', SYSTEM);
    fleet.move('doc-1', 55.7, 37.5, BOOKING_NOW);
    const early = new RecordingWatcher();
    hub.watch(booking.id, early);
    await settle();
    // The state frame carried a position: the next one waits a second.
    fleet.move('doc-1', 55.71, 37.51, BOOKING_NOW + 1);
    hub.tick();
    advance(400);
    fleet.move('doc-1', 55.72, 37.52, BOOKING_NOW + 2);
    hub.tick();
    expect(early.types()).toEqual(['state']);

    const late = new RecordingWatcher();
    hub.watch(booking.id, late);
    await settle();
    advance(600);
    fleet.move('doc-1', 55.73, 37.53, BOOKING_NOW + 3);
    hub.tick();
    const positions = (watcher: RecordingWatcher) =>
      watcher.frames.flatMap((frame) => (frame.type === 'position' ? [frame.lat] : []));
    expect(positions(early)).toEqual([55.73]);
    // The late socket had its state 600 ms ago: its own second has not passed.
    expect(positions(late)).toEqual([]);
    advance(400);
    hub.tick();
    expect(positions(late)).toEqual([55.73]);
    expect(positions(early)).toEqual([55.73]);
  });

  it('follows the new doctor after a reassignment and drops the old one’s pending position', async () => {
    const { dispatch, fleet, hub, book, settle, advance } = setup();
    const booking = await book();
    await dispatch.assign(booking.id, 'doc-1', SYSTEM);
    fleet.move('doc-1', 55.7, 37.5, BOOKING_NOW);
    fleet.move('doc-2', 55.8, 37.7, BOOKING_NOW);
    const watcher = new RecordingWatcher();
    hub.watch(booking.id, watcher);
    await settle();
    fleet.move('doc-1', 55.71, 37.51, BOOKING_NOW + 1);
    hub.tick();
    await dispatch.reassign(booking.id, SYSTEM, 'closer doctor');
    advance(1000);
    hub.tick();
    const positions = () => watcher.frames.flatMap((frame) => (frame.type === 'position' ? [frame.lat] : []));
    // Searching again: the old doctor's position, held back by the rate, is not sent.
    expect(positions()).toEqual([]);
    await dispatch.assign(booking.id, 'doc-2', SYSTEM);
    hub.tick();
    expect(positions()).toEqual([55.8]);
  });

  it('computes the ETA only for frames it sends, once per fix for all the sockets of a booking', async () => {
    // Regression: the ETA was computed on every new fix, though the throttle sends at most one position a second.
    const etaCalls: { lat: number }[] = [];
    const eta: NonNullable<TrackHubOptions['eta']> = (traffic, from, to, now) => {
      etaCalls.push({ lat: from.lat });
      return etaSeconds(traffic, from, to, now);
    };
    const { dispatch, fleet, traffic, hub, book, settle, advance } = setup({ eta });
    const booking = await book();
    await dispatch.assign(booking.id, 'doc-1', SYSTEM);
    fleet.move('doc-1', 55.7, 37.5, BOOKING_NOW);
    const first = new RecordingWatcher();
    const second = new RecordingWatcher();
    hub.watch(booking.id, first);
    hub.watch(booking.id, second);
    await settle();
    // One ETA per state frame.
    expect(etaCalls).toHaveLength(2);

    // A new fix every 200 ms for two seconds: ten fixes, a frame a second to each socket.
    const lats = Array.from({ length: 10 }, (_, index) => 55.7 + (index + 1) / 1000);
    lats.forEach((lat, index) => {
      advance(200);
      fleet.move('doc-1', lat, 37.5, BOOKING_NOW + (index + 1) * 200);
      hub.tick();
    });
    const positions = (watcher: RecordingWatcher) =>
      watcher.frames.flatMap((frame) => (frame.type === 'position' ? [frame] : []));
    expect(positions(first).map((frame) => frame.lat)).toEqual([lats[4], lats[9]]);
    expect(positions(second)).toEqual(positions(first));
    for (const frame of positions(first)) {
      expect(frame.etaSeconds).toBe(expectedEta(traffic, { lat: frame.lat, lng: 37.5 }));
    }
    // The two frames sent, each computed once for both sockets; none for the eight fixes that were overtaken.
    expect(etaCalls.slice(2)).toEqual([{ lat: lats[4] }, { lat: lats[9] }]);

    // Fixes while no socket is due cost no ETA at all.
    advance(200);
    fleet.move('doc-1', 55.8, 37.5, BOOKING_NOW + 3000);
    hub.tick();
    expect(etaCalls).toHaveLength(4);
  });

  it('sends the final status, then finishes the watcher and stops tracking the booking', async () => {
    const { dispatch, hub, book, settle } = setup();
    const booking = await book();
    const watcher = new RecordingWatcher();
    hub.watch(booking.id, watcher);
    await settle();
    expect(hub.trackedBookings).toBe(1);
    await dispatch.cancel(booking.id, SYSTEM, 'patient_cancelled');
    expect(watcher.types()).toEqual(['state', 'status']);
    expect(watcher.done).toBe(true);
    expect(hub.trackedBookings).toBe(0);
  });

  it('looks up only the doctors of tracked bookings, and stops when the watcher leaves', async () => {
    const { dispatch, fleet, hub, book, settle } = setup();
    const tracked = await book();
    const untracked = await book();
    await dispatch.assign(tracked.id, 'doc-1', SYSTEM);
    await dispatch.assign(untracked.id, 'doc-2', SYSTEM);
    const stop = hub.watch(tracked.id, new RecordingWatcher());
    await settle();
    fleet.lookups = [];
    hub.tick();
    hub.tick();
    expect(fleet.lookups).toEqual(['doc-1', 'doc-1']);
    stop();
    hub.tick();
    expect(fleet.lookups).toHaveLength(2);
    expect(hub.trackedBookings).toBe(0);
  });

  it.each([
    ['an older copy', false],
    ['the changed copy', true],
  ])('misses no change made while the booking is being read (the read returns %s)', async (_, readsNew) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let snapshot: Booking | undefined;
    const { dispatch, hub, book, settle } = setup({
      readOf: (fake) => async (id) => {
        snapshot ??= await fake.get(id);
        await gate;
        return readsNew ? fake.get(id) : snapshot;
      },
    });
    const booking = await book();
    const watcher = new RecordingWatcher();
    hub.watch(booking.id, watcher);
    await settle();
    dispatch.offerTo(booking.id, 'doc-1');
    release();
    await settle();
    await settle();
    expect(
      watcher.frames.map((frame) => `${frame.type}:${'booking' in frame ? frame.booking.status : ''}`),
    ).toEqual(readsNew ? ['state:offered'] : ['state:searching', 'status:offered']);
  });

  it('tells the watcher when the booking cannot be read, and tracks nothing', async () => {
    const { hub, settle } = setup();
    const watcher = new RecordingWatcher();
    hub.watch('booking-404', watcher);
    await settle();
    expect(watcher.error).toMatchObject({ code: 'DISPATCH_BOOKING_NOT_FOUND' });
    expect(watcher.frames).toEqual([]);
    expect(hub.trackedBookings).toBe(0);
  });
});
