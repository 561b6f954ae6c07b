import { describe, expect, it } from 'vitest';
import { LiveState, type LiveBooking } from '../../../web/console/live-state.ts';

const booking = (overrides: Partial<LiveBooking> = {}): LiveBooking => ({
  id: 'b-1',
  status: 'searching',
  priority: 3,
  emergency: false,
  lat: 55.75,
  lng: 37.61,
  createdAt: 1_000,
  ...overrides,
});

const snapshot = (seq: number, extra: Record<string, unknown> = {}) => ({
  type: 'snapshot',
  seq,
  at: 5_000,
  mode: 'doctors',
  resolution: 9,
  doctors: [{ id: 'doc-1', lat: 55.7, lng: 37.6, status: 'available' }],
  counts: [],
  bookings: [],
  traffic: [{ cell: '891181b6d8bffff', speedKmh: 12, level: 2 }],
  ...extra,
});

describe('LiveState', () => {
  it('a snapshot replaces the view; deltas in sequence move, add and remove doctors', () => {
    const state = new LiveState();
    expect(state.apply(snapshot(7))).toBe('applied');
    expect(state.doctorCount()).toBe(1);
    expect(state.traffic.get('891181b6d8bffff')?.level).toBe(2);
    expect(
      state.apply({
        type: 'delta',
        seq: 8,
        at: 5_100,
        doctors: [
          { id: 'doc-1', lat: 55.71, lng: 37.6, status: 'en_route' },
          { id: 'doc-2', lat: 55.72, lng: 37.62, status: 'available' },
        ],
      }),
    ).toBe('applied');
    expect(state.doctors.get('doc-1')).toMatchObject({ lat: 55.71, status: 'en_route' });
    expect(state.apply({ type: 'delta', seq: 9, at: 5_200, removed: ['doc-2'] })).toBe('applied');
    expect([...state.doctors.keys()]).toEqual(['doc-1']);
    expect(state.seq).toBe(9);
  });

  it('a delta out of sequence is a gap and changes nothing, so the console resubscribes', () => {
    const state = new LiveState();
    state.apply(snapshot(3));
    expect(
      state.apply({
        type: 'delta',
        seq: 5,
        at: 1,
        doctors: [{ id: 'doc-9', lat: 1, lng: 1, status: 'available' }],
      }),
    ).toBe('gap');
    expect(state.doctors.has('doc-9')).toBe(false);
    expect(state.seq).toBe(3);
    expect(new LiveState().apply({ type: 'delta', seq: 1, at: 1 })).toBe('gap');
  });

  it('ignores frames that are not snapshot or delta (pong, error, garbage)', () => {
    const state = new LiveState();
    expect(state.apply({ type: 'pong' })).toBe('ignored');
    expect(state.apply({ type: 'error', code: 'API_VALIDATION_FAILED' })).toBe('ignored');
    expect(state.apply('snapshot')).toBe('ignored');
    expect(state.frames).toBe(0);
  });

  it('counts mode sums the cells, and a cell falling to zero leaves', () => {
    const state = new LiveState();
    state.apply(
      snapshot(1, {
        mode: 'counts',
        doctors: [],
        counts: [
          { cell: 'a', total: 40, available: 10 },
          { cell: 'b', total: 2, available: 2 },
        ],
      }),
    );
    expect(state.doctorCount()).toBe(42);
    state.apply({ type: 'delta', seq: 2, at: 1, counts: [{ cell: 'b', total: 0, available: 0 }] });
    expect(state.doctorCount()).toBe(40);
    expect(state.counts.has('b')).toBe(false);
  });

  it('queues open bookings by priority then age; closed ones leave; a booking update replaces the old one', () => {
    const state = new LiveState();
    state.mergeBookings([
      booking({ id: 'routine-old', priority: 4, createdAt: 1 }),
      booking({ id: 'urgent', priority: 2, createdAt: 9, doctorId: 'doc-1', status: 'assigned' }),
      booking({ id: 'routine-new', priority: 4, createdAt: 5 }),
      booking({ id: 'done', priority: 1, status: 'completed' }),
    ]);
    expect(state.queue().map((item) => item.id)).toEqual(['urgent', 'routine-old', 'routine-new']);
    state.mergeBookings([booking({ id: 'urgent', priority: 2, createdAt: 9, status: 'searching' })]);
    expect(state.bookings.get('urgent')?.doctorId).toBeUndefined();
    state.mergeBookings([booking({ id: 'urgent', status: 'cancelled' })]);
    expect(state.bookings.has('urgent')).toBe(false);
  });

  it('raises one alert per emergency, from alert frames or from an emergency booking seen first, newest first', () => {
    const state = new LiveState(2);
    state.apply(snapshot(1));
    state.apply({
      type: 'delta',
      seq: 2,
      at: 10,
      alerts: [{ kind: 'emergency', bookingId: 'e-1', priority: 1, lat: 55.7, lng: 37.6, at: 10 }],
      bookings: [booking({ id: 'e-1', priority: 1, emergency: true })],
    });
    expect(state.alerts.map((alert) => alert.bookingId)).toEqual(['e-1']);
    state.mergeBookings([booking({ id: 'e-2', priority: 2, emergency: true, createdAt: 20 })]);
    state.apply({
      type: 'delta',
      seq: 3,
      at: 30,
      alerts: [{ kind: 'sla_breach', bookingId: 'b-7', priority: 3, lat: 1, lng: 1, at: 30 }],
    });
    // Bounded at 2: the oldest went.
    expect(state.alerts.map((alert) => `${alert.kind}:${alert.bookingId}`)).toEqual([
      'sla_breach:b-7',
      'emergency:e-2',
    ]);
  });
});
