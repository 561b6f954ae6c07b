import { describe, expect, it } from 'vitest';
import { FixOutbox, fixOf, MAX_PENDING_FIXES } from '../../../web/doctor/phone-link.ts';

const fix = (ts: number) => ({ lat: 55.75, lng: 37.61, ts });

describe('FixOutbox', () => {
  it('sends each fix as a batch with an id and keeps it until its ack', () => {
    const outbox = new FixOutbox();
    const frames: unknown[] = [];
    outbox.add(fix(1), (frame) => frames.push(frame) > 0);
    expect(frames).toEqual([{ type: 'fixes', batchId: 'f-1', fixes: [fix(1)] }]);
    expect(outbox.waiting).toBe(1);
    expect(outbox.acknowledge({ type: 'ack', batchId: 'f-1', accepted: 1, rejected: [] })).toBe(true);
    expect(outbox.waiting).toBe(0);
    expect(outbox.acknowledged).toBe(1);
    expect(outbox.acknowledge({ type: 'ack', batchId: 'f-1', accepted: 1 })).toBe(false);
    expect(outbox.acknowledge({ type: 'ack', action: 'accept', bookingId: 'b-1' })).toBe(false);
  });

  it('resends what was not acknowledged after a reconnect, and keeps only the newest past its bound', () => {
    const outbox = new FixOutbox();
    for (let index = 0; index < MAX_PENDING_FIXES + 5; index++) outbox.add(fix(index), () => false);
    expect(outbox.sent).toBe(0);
    expect(outbox.waiting).toBe(MAX_PENDING_FIXES);
    const resent: { fixes: { ts: number }[] }[] = [];
    outbox.resend((frame) => resent.push(frame as { fixes: { ts: number }[] }) > 0);
    expect(resent).toHaveLength(MAX_PENDING_FIXES);
    expect(resent[0]!.fixes[0]!.ts).toBe(5);
  });

  it('a geolocation position becomes a fix; unknown speed and heading are left out', () => {
    expect(
      fixOf({
        timestamp: 1_000.4,
        coords: { latitude: 55.7, longitude: 37.6, accuracy: 12, speed: null, heading: Number.NaN },
      }),
    ).toEqual({ lat: 55.7, lng: 37.6, ts: 1_000, accuracy: 12 });
    expect(
      fixOf({ timestamp: 5, coords: { latitude: 1, longitude: 2, accuracy: 3, speed: 4.5, heading: 90 } }),
    ).toMatchObject({
      speed: 4.5,
      heading: 90,
    });
  });
});
