import { describe, expect, it } from 'vitest';
import type { LiveAlert } from '../../../api/live/protocol.ts';
import {
  AlertFeed,
  alertOfDispatchEvent,
  emergencyAlerts,
  type BookingFeed,
} from '../../../api/live/live-sources.ts';
import type { Booking, BookingChange, BookingStatus } from '../../../dispatch/booking-types.ts';
import { LIVE_NOW, liveFixture } from '../../support/live-fixture.ts';

const KREMLIN: [number, number, number, number] = [37.605, 55.745, 37.63, 55.757];
const EAST: [number, number, number, number] = [37.7, 55.745, 37.725, 55.757];

function booking(id: string, lat: number, lng: number, overrides: Partial<Booking> = {}): Booking {
  return {
    id,
    patientId: 'patient-1',
    callType: 'home_visit',
    symptoms: 'fever',
    address: 'Tverskaya 1',
    lat,
    lng,
    priority: 3,
    status: 'searching',
    emergency: false,
    originalPriority: 3,
    declinedBy: [],
    estimatedPrice: 2500,
    estimatedDurationMinutes: 45,
    createdAt: LIVE_NOW - 60_000,
    version: 1,
    ...overrides,
  };
}

/** The dispatcher's active bookings and change listeners, driven by hand. */
class Bookings implements BookingFeed {
  readonly current = new Map<string, Booking>();
  private readonly listeners = new Set<(change: BookingChange) => void>();

  active(): Booking[] {
    return [...this.current.values()].filter((b) => b.status !== 'completed' && b.status !== 'cancelled');
  }

  onChange(listener: (change: BookingChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  change(next: Booking, from: BookingStatus | null): void {
    this.current.set(next.id, next);
    const update = {
      bookingId: next.id,
      from,
      to: next.status,
      by: { id: 'system', role: 'system' as const },
      at: LIVE_NOW,
    };
    for (const listener of this.listeners) listener({ booking: next, update });
  }
}

describe('bookings and alerts on the live map', () => {
  it('lists active bookings in view in the snapshot and sends their changes in view', () => {
    const bookings = new Bookings();
    bookings.change(booking('in-view', 55.75, 37.615), 'created');
    bookings.change(booking('elsewhere', 55.6, 37.4), 'created');
    const live = liveFixture({ bookings });
    live.tick();
    const dispatcher = live.connect();
    dispatcher.subscribe(KREMLIN, 15);
    const [snapshot] = dispatcher.connection.take();
    expect(snapshot?.['bookings']).toEqual([
      {
        id: 'in-view',
        status: 'searching',
        priority: 3,
        emergency: false,
        lat: 55.75,
        lng: 37.615,
        createdAt: LIVE_NOW - 60_000,
      },
    ]);

    bookings.change(booking('in-view', 55.75, 37.615, { status: 'offered', doctorId: 'doc-1' }), 'searching');
    bookings.change(
      booking('in-view', 55.75, 37.615, { status: 'assigned', doctorId: 'doc-1', assignedEtaSeconds: 420 }),
      'offered',
    );
    bookings.change(booking('elsewhere', 55.6, 37.4, { status: 'cancelled' }), 'searching');
    live.tick();
    const [delta] = dispatcher.connection.take();
    expect(delta?.['bookings']).toEqual([
      {
        id: 'in-view',
        status: 'assigned',
        priority: 3,
        emergency: false,
        lat: 55.75,
        lng: 37.615,
        doctorId: 'doc-1',
        createdAt: LIVE_NOW - 60_000,
        etaSeconds: 420,
      },
    ]);
  });

  it('sends an alert to every view, wherever the emergency is, once per booking', () => {
    const bookings = new Bookings();
    const feed = new AlertFeed();
    const live = liveFixture({ bookings, alerts: [emergencyAlerts(bookings), feed] });
    const near = live.connect();
    const far = live.connect();
    near.subscribe(KREMLIN, 15);
    far.subscribe(EAST, 15);
    near.connection.take();
    far.connection.take();

    const emergency = booking('em-1', 55.751, 37.62, { status: 'created', priority: 1, emergency: true });
    bookings.change(emergency, null);
    bookings.change({ ...emergency, status: 'searching' }, 'created');
    live.tick();
    const alert: LiveAlert = {
      kind: 'emergency',
      bookingId: 'em-1',
      priority: 1,
      lat: 55.751,
      lng: 37.62,
      at: LIVE_NOW,
    };
    const [nearDelta] = near.connection.take();
    const [farDelta] = far.connection.take();
    expect(nearDelta?.['alerts']).toEqual([alert]);
    expect(farDelta?.['alerts']).toEqual([alert]);
    expect(nearDelta?.['bookings']).toMatchObject([{ id: 'em-1', status: 'searching', emergency: true }]);
    expect(farDelta?.['bookings']).toEqual([]);

    feed.push({ ...alert, kind: 'sla_breach', at: LIVE_NOW + 1 });
    live.tick();
    expect(far.connection.take()[0]?.['alerts']).toEqual([
      { ...alert, kind: 'sla_breach', at: LIVE_NOW + 1 },
    ]);
  });

  it('turns SlaBreached and EmergencyEscalated events into alerts at the booking, and ignores the rest', () => {
    const positions = new Map([['b-1', { lat: 55.7, lng: 37.6 }]]);
    const bookingOf = (id: string) => positions.get(id);
    expect(
      alertOfDispatchEvent(
        { type: 'SlaBreached', bookingId: 'b-1', priority: 2, targetMinutes: 30, status: 'searching', at: 5 },
        bookingOf,
      ),
    ).toEqual({ kind: 'sla_breach', bookingId: 'b-1', priority: 2, lat: 55.7, lng: 37.6, at: 5 });
    expect(
      alertOfDispatchEvent(
        { type: 'EmergencyEscalated', bookingId: 'b-1', priority: 1, reason: 'symptoms', at: 6 },
        bookingOf,
      ),
    ).toMatchObject({ kind: 'escalation', priority: 1 });
    expect(
      alertOfDispatchEvent(
        { type: 'BookingCreated', bookingId: 'b-1', priority: 3, emergency: false, at: 1 },
        bookingOf,
      ),
    ).toBeUndefined();
    expect(
      alertOfDispatchEvent(
        {
          type: 'SlaBreached',
          bookingId: 'gone',
          priority: 2,
          targetMinutes: 30,
          status: 'searching',
          at: 5,
        },
        bookingOf,
      ),
    ).toBeUndefined();
  });
});

describe('traffic on the live map', () => {
  it('sends the fresh cells in view in the snapshot, their changes, and free flow once a cell goes stale', () => {
    const live = liveFixture();
    const reading = (speedKmh: number, ts: number) =>
      live.world.traffic.apply({ detectorId: 'det-1', ts, speedKmh, lat: 55.75, lng: 37.615 });
    reading(10, LIVE_NOW - 1_000);
    live.tick();
    const dispatcher = live.connect();
    dispatcher.subscribe(KREMLIN, 15);
    const [snapshot] = dispatcher.connection.take();
    const traffic = snapshot?.['traffic'] as { cell: string; speedKmh: number; level: number }[];
    expect(traffic).toHaveLength(1);
    expect(traffic[0]).toMatchObject({ speedKmh: 10, level: 3 });
    const cell = traffic[0]?.cell;

    reading(30, LIVE_NOW + 10 * 60_000);
    live.tick(1_000);
    const [faster] = dispatcher.connection.take();
    expect((faster?.['traffic'] as { speedKmh: number }[])[0]?.speedKmh).toBeGreaterThan(10);

    // Past max age + fade (15 + 10 min) the cell answers free flow and leaves the field's fresh cells.
    live.tick(40 * 60_000);
    const [stale] = dispatcher.connection.take();
    expect(stale?.['traffic']).toEqual([{ cell, speedKmh: expect.any(Number), level: 0 }]);
    live.tick(1_000);
    expect(dispatcher.connection.take()).toEqual([]);
  });
});
