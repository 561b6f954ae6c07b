import { describe, expect, it } from 'vitest';
import { Tracking } from '../../../web/patient/tracking.ts';

const booking = (status: string, doctorId?: string) => ({
  id: 'b-1',
  status,
  priority: 4,
  lat: 55.75,
  lng: 37.61,
  address: 'Tverskaya 1',
  ...(doctorId ? { doctorId } : {}),
});

describe('Tracking', () => {
  it('takes the state frame, then positions in time order with their ETA', () => {
    const tracking = new Tracking();
    expect(
      tracking.apply({
        type: 'state',
        booking: booking('en_route', 'doc-1'),
        doctor: { lat: 55.7, lng: 37.5 },
        etaSeconds: 600,
      }),
    ).toBe(true);
    expect(tracking.booking).toMatchObject({ status: 'en_route', doctorId: 'doc-1', address: 'Tverskaya 1' });
    expect(tracking.etaSeconds).toBe(600);
    expect(tracking.apply({ type: 'position', lat: 55.72, lng: 37.55, etaSeconds: 420, at: 2_000 })).toBe(
      true,
    );
    expect(tracking.doctor).toEqual({ lat: 55.72, lng: 37.55 });
    // A position older than the last one arrived late: dropped.
    expect(tracking.apply({ type: 'position', lat: 55.71, lng: 37.52, etaSeconds: 500, at: 1_000 })).toBe(
      false,
    );
    expect(tracking.etaSeconds).toBe(420);
    expect(tracking.positions).toBe(1);
  });

  it('a status frame with another doctor (reassignment) forgets the old position and ETA', () => {
    const tracking = new Tracking();
    tracking.apply({
      type: 'state',
      booking: booking('en_route', 'doc-1'),
      doctor: { lat: 55.7, lng: 37.5 },
      etaSeconds: 600,
    });
    tracking.apply({ type: 'status', booking: booking('searching') });
    expect(tracking.doctor).toBeUndefined();
    expect(tracking.etaSeconds).toBeUndefined();
    tracking.apply({ type: 'status', booking: booking('completed') });
    expect(tracking.finished).toBe(true);
  });

  it('ignores unknown frames and positions without coordinates', () => {
    const tracking = new Tracking();
    expect(tracking.apply({ type: 'hello' })).toBe(false);
    expect(tracking.apply(null)).toBe(false);
    expect(tracking.apply({ type: 'position', lat: 'north', lng: 37, at: 1 })).toBe(false);
    expect(tracking.doctor).toBeUndefined();
  });
});
