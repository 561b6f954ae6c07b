import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { DispatchEvent } from '../../../dispatch/booking-types.ts';
import { encodeDispatchEvent } from '../../../dispatch/dispatch-events.ts';

describe('encodeDispatchEvent', () => {
  it('packs a plain map and leaves the undefined fields out', () => {
    const event: DispatchEvent = {
      type: 'BookingStatusChanged',
      bookingId: 'b-1',
      from: 'offered',
      to: 'searching',
      at: 1_000,
      reason: undefined,
      doctorId: 'd-1',
    };
    const decoded = unpack(encodeDispatchEvent(event)) as Record<string, unknown>;
    expect(decoded).toEqual({
      type: 'BookingStatusChanged',
      bookingId: 'b-1',
      from: 'offered',
      to: 'searching',
      at: 1_000,
      doctorId: 'd-1',
    });
    expect(Object.keys(decoded)).not.toContain('reason');
    // A null is a value, not a missing field.
    const created = unpack(encodeDispatchEvent({ ...event, from: null })) as Record<string, unknown>;
    expect(created['from']).toBeNull();
  });
});
