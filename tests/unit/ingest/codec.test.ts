import { describe, expect, it } from 'vitest';
import { decodeRecords, encodeRecords, MAX_RECORD_BYTES } from '../../../ingest/codec.ts';
import { fixSchema, readingSchema } from '../../../ingest/schemas.ts';

const now = Date.UTC(2026, 10, 22, 9, 0, 0);
const fix = {
  doctorId: 'doc-1',
  lat: 55.75,
  lng: 37.61,
  ts: now - 1000,
  accuracy: 5,
  speed: 8.5,
  heading: 90,
  battery: 77,
  seq: 3,
};

describe('decodeRecords', () => {
  it('decodes a single record and a batch', () => {
    expect(decodeRecords(encodeRecords(fix), fixSchema, now)).toEqual({
      items: [fix],
      indexes: [0],
      failures: [],
    });
    const batch = decodeRecords(encodeRecords([fix, { ...fix, seq: 4 }]), fixSchema, now);
    expect(batch.items.map((item) => item.seq)).toEqual([3, 4]);
  });

  it('keeps the good records of a batch and reports each bad one with its index and field', () => {
    const result = decodeRecords(
      encodeRecords([fix, { ...fix, lat: 91 }, { ...fix, lng: Number.NaN }, fix]),
      fixSchema,
      now,
    );
    expect(result.items).toHaveLength(2);
    expect(result.failures.map((f) => [f.index, f.reason])).toEqual([
      [1, 'invalid'],
      [2, 'invalid'],
    ]);
    expect(result.failures[0]!.detail).toContain('lat');
    expect(result.failures[1]!.detail).toContain('lng');
  });

  it('rejects infinities, wrong types and missing fields', () => {
    for (const bad of [
      { ...fix, lat: Number.POSITIVE_INFINITY },
      { ...fix, lat: '55.7' },
      { ...fix, doctorId: '' },
      { lat: 1, lng: 2, ts: now },
      { ...fix, ts: 1.5 },
      null,
      'text',
    ]) {
      const result = decodeRecords(encodeRecords(bad), fixSchema, now);
      expect(result.items).toEqual([]);
      expect(result.failures[0]!.reason).toBe('invalid');
    }
  });

  it('sends timestamps far in the future or past to the dead letters', () => {
    for (const ts of [now + 10 * 60_000, now - 2 * 86_400_000]) {
      const result = decodeRecords(encodeRecords({ ...fix, ts }), fixSchema, now);
      expect(result.failures[0]!.reason).toBe('timestamp_out_of_range');
    }
  });

  it('rejects truncated msgpack and oversized values', () => {
    const bytes = encodeRecords([fix, fix]);
    expect(decodeRecords(bytes.subarray(0, bytes.length - 5), fixSchema, now).failures[0]!.reason).toBe(
      'not_msgpack',
    );
    expect(decodeRecords(new Uint8Array(MAX_RECORD_BYTES + 1), fixSchema, now).failures[0]!.reason).toBe(
      'too_large',
    );
  });

  it('validates readings', () => {
    const reading = {
      detectorId: 'det-1',
      ts: now,
      speedKmh: 31.5,
      volume: 12,
      occupancy: 40,
      lat: 55.7,
      lng: 37.6,
    };
    expect(decodeRecords(encodeRecords(reading), readingSchema, now).items).toEqual([reading]);
    expect(
      decodeRecords(encodeRecords({ ...reading, speedKmh: -1 }), readingSchema, now).failures[0]!.detail,
    ).toContain('speedKmh');
  });
});
