import { Packr } from 'msgpackr';
import type { z } from 'zod';
import { TIMESTAMP_WINDOW } from './schemas.ts';

/** Largest accepted value of one stream record, in bytes (a batch of ~5 000 fixes). */
export const MAX_RECORD_BYTES = 256 * 1024;

// Plain msgpack maps and arrays, no shared record structures: producers in other languages must be able to write it.
const packr = new Packr({ useRecords: false });

/** Encodes one record, or an array of records, as a stream message value. */
export function encodeRecords(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Why a record could not be applied, as it is written to tot.dlq and counted. */
export type DecodeFailure = { reason: 'too_large' | 'not_msgpack' | 'invalid' | 'timestamp_out_of_range'; detail: string };

/** The outcome of decoding one stream message: the valid items, and a failure per invalid item. */
export interface Decoded<Item> {
  items: Item[];
  /** Position of each item in the decoded value (a batch may have bad records between good ones). */
  indexes: number[];
  failures: (DecodeFailure & { index: number })[];
}

/**
 * Decodes a stream message value holding one record or an array of records (DESIGN.md: the gateway batches), and
 * validates each with `schema` and the timestamp window around `now`. Invalid items are reported one by one so that
 * one bad fix does not drop the good ones beside it.
 */
export function decodeRecords<Schema extends z.ZodType<{ ts: number }>>(
  bytes: Uint8Array,
  schema: Schema,
  now: number,
): Decoded<z.infer<Schema>> {
  if (bytes.byteLength > MAX_RECORD_BYTES) {
    return {
      items: [],
      indexes: [],
      failures: [{ index: -1, reason: 'too_large', detail: `value of ${bytes.byteLength} bytes exceeds ${MAX_RECORD_BYTES}` }],
    };
  }
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    return { items: [], indexes: [], failures: [{ index: -1, reason: 'not_msgpack', detail: (error as Error).message }] };
  }
  const candidates = Array.isArray(value) ? value : [value];
  const result: Decoded<z.infer<Schema>> = { items: [], indexes: [], failures: [] };
  candidates.forEach((candidate, index) => {
    const parsed = schema.safeParse(candidate);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`).join('; ');
      result.failures.push({ index, reason: 'invalid', detail });
      return;
    }
    const ts = parsed.data.ts;
    if (ts < now - TIMESTAMP_WINDOW.pastMs || ts > now + TIMESTAMP_WINDOW.futureMs) {
      result.failures.push({
        index,
        reason: 'timestamp_out_of_range',
        detail: `ts ${ts} is outside [now - ${TIMESTAMP_WINDOW.pastMs} ms, now + ${TIMESTAMP_WINDOW.futureMs} ms] (now ${now})`,
      });
      return;
    }
    result.items.push(parsed.data);
    result.indexes.push(index);
  });
  return result;
}
