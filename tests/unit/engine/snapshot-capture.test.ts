import { afterEach, describe, expect, it } from 'vitest';
import { ID_CHUNK_SLOTS } from '../../../engine/fleet-capture.ts';
import { CaptureBuffers } from '../../../engine/snapshot-buffers.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { SnapshotEncoder, type SnapshotSubject } from '../../../engine/snapshot-encoder.ts';
import { StringMirror, applyStringUpdates } from '../../../engine/snapshot-strings.ts';
import { seededRandom } from './snapshot-fleets.ts';

describe('StringMirror', () => {
  it('sends what the receiver lacks, only once, and everything again after a reset', () => {
    const mirror = new StringMirror();
    const received: string[] = [];
    const source = ['a', 'b', '', 'd'];
    applyStringUpdates(received, mirror.diff(source));
    expect(received).toEqual(source);
    expect(mirror.diff(source)).toEqual({ at: [], values: [] });
    source[1] = 'B';
    source.push('e');
    const updates = mirror.diff(source);
    expect(updates).toEqual({ at: [1, 4], values: ['B', 'e'] });
    applyStringUpdates(received, updates);
    expect(received).toEqual(source);
    mirror.reset();
    expect(mirror.diff(source, 1, 3).at).toEqual([1, 2]);
  });

  it('skips the entries marked 0, which the receiver never reads', () => {
    const mirror = new StringMirror();
    expect(mirror.diff(['x', 'y', 'z'], 0, 3, new Int32Array([1, 0, 2])).at).toEqual([0, 2]);
  });
});

describe('CaptureBuffers', () => {
  it('gives a buffer back for the next capture while it is large enough, with room to grow', () => {
    const buffers = new CaptureBuffers();
    const first = buffers.take('records', 800);
    expect(first.byteLength).toBe(1_000);
    buffers.give({ records: first });
    expect(buffers.take('records', 1_000)).toBe(first);
    buffers.give({ records: first });
    const larger = buffers.take('records', 1_008);
    expect(larger).not.toBe(first);
    expect(larger.byteLength).toBeGreaterThanOrEqual(1_008);
    // Taken means in use: a second take of the role does not hand out the same buffer.
    expect(buffers.take('records', 8)).not.toBe(larger);
  });
});

describe('ids sent ahead of the capture', () => {
  const encoders: SnapshotEncoder[] = [];
  afterEach(async () => {
    await Promise.all(encoders.splice(0).map((encoder) => encoder.close()));
  });

  it('stay right when doctors come and go while they are being sent', async () => {
    const r = seededRandom(5);
    const fleet = new Fleet();
    const size = 2 * ID_CHUNK_SLOTS + 500;
    for (let i = 0; i < size; i++)
      fleet.applyFix({ doctorId: `d-${i}`, lat: 55.6 + r() * 0.3, lng: 37.4 + r() * 0.4, ts: 1 }, 1);
    // The expected bytes are taken in the capture's own synchronous step and travel as the traffic part.
    const subject: SnapshotSubject = {
      fleet: () => fleet,
      envelopeParts: () => ({ takenAt: 1, positions: {}, traffic: fleet.toSnapshot() }),
    };
    const encoder = new SnapshotEncoder();
    encoders.push(encoder);
    await encoder.encode(subject);
    let next = size;
    for (let round = 0; round < 3; round++) {
      let encoding = true;
      const encoded = encoder.encode(subject).finally(() => {
        encoding = false;
      });
      // Every turn while ids are sent ahead: a doctor leaves (freeing a slot, maybe one already scanned) and another
      // arrives (taking it), so slots change ids behind the pass.
      let turns = 0;
      while (encoding) {
        fleet.remove(`d-${Math.floor(r() * next)}`);
        fleet.applyFix({ doctorId: `d-${next++}`, lat: 55.7, lng: 37.6, ts: 2 }, 2);
        turns++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const { envelope } = await encoded;
      expect(turns).toBeGreaterThan(2);
      // Buffer.equals: a deep equality over megabytes, element by element, would take seconds.
      expect(Buffer.from(envelope.fleet).equals(envelope.traffic as Uint8Array)).toBe(true);
    }
  });
});
