import { Packr } from 'msgpackr';
import type { z } from 'zod';
import { invalidFixField, invalidReadingField, WHOLE_RECORD } from './record-checks.ts';
import {
  fixSchema,
  readingSchema,
  TIMESTAMP_WINDOW,
  type FixMessage,
  type ReadingMessage,
} from './schemas.ts';

/** Largest accepted value of one stream record, in bytes (a batch of ~5 000 fixes). */
export const MAX_RECORD_BYTES = 256 * 1024;

// Plain msgpack maps and arrays, no shared record structures: producers in other languages must be able to write it.
const packr = new Packr({ useRecords: false });

/** Encodes one record, or an array of records, as a stream message value. */
export function encodeRecords(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Why a record could not be applied, as it is written to tot.dlq and counted. */
export type DecodeFailure = {
  reason: 'too_large' | 'not_msgpack' | 'invalid' | 'timestamp_out_of_range';
  detail: string;
};

/** The outcome of decoding one stream message: the valid items, and a failure per invalid item. */
export interface Decoded<Item> {
  items: Item[];
  /** Position of each item in the decoded value (a batch may have bad records between good ones). */
  indexes: number[];
  failures: (DecodeFailure & { index: number })[];
}

/** One kind of stream record: its zod schema (the specification) and a fast check that agrees with it. */
export interface RecordKind<Item extends { ts: number }> {
  readonly schema: z.ZodType<Item>;
  /**
   * The first field of a value that fails `schema`, {@link WHOLE_RECORD} when the value is not an object, undefined
   * when it is valid. It decides alone when it accepts; when it rejects, `schema` writes the dead letter's detail.
   * Without it, `schema` parses every record.
   */
  readonly invalidField?: (value: unknown) => string | undefined;
}

/** Fixes of tot.fixes: {@link fixSchema} with its hand-written twin (ingest/record-checks.ts). */
export const FIX_RECORDS: RecordKind<FixMessage> = { schema: fixSchema, invalidField: invalidFixField };

/** Readings of tot.readings: {@link readingSchema} with its hand-written twin (ingest/record-checks.ts). */
export const READING_RECORDS: RecordKind<ReadingMessage> = {
  schema: readingSchema,
  invalidField: invalidReadingField,
};

/** Receives, in order, each record of a message that passed and each failure. */
export interface RecordVisitor<Item> {
  /** A valid record at `index` of the value (0 for a value that is a single record). */
  item(item: Item, index: number): void;
  /** A record that failed, or the whole value (`index` -1: too large, not msgpack, an empty batch). */
  failure(index: number, reason: DecodeFailure['reason'], detail: string): void;
}

/**
 * Decodes a stream message value holding one record or an array of records (DESIGN.md: the gateway batches), and
 * validates each with `kind` and the timestamp window around `now`, calling `visitor` once per record (or once with
 * index -1 when the value as a whole is unusable). Invalid items are reported one by one so that one bad fix does not
 * drop the good ones beside it. Allocates nothing per record beyond what msgpack decoding creates.
 */
export function visitRecords<Item extends { ts: number }>(
  bytes: Uint8Array,
  kind: RecordKind<Item>,
  now: number,
  visitor: RecordVisitor<Item>,
): void {
  if (bytes.byteLength > MAX_RECORD_BYTES) {
    visitor.failure(-1, 'too_large', `value of ${bytes.byteLength} bytes exceeds ${MAX_RECORD_BYTES}`);
    return;
  }
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    visitor.failure(-1, 'not_msgpack', (error as Error).message);
    return;
  }
  if (!Array.isArray(value)) {
    visitRecord(value, 0, kind, now, visitor);
    return;
  }
  // An empty batch carries nothing to apply, but something produced it: it is counted, not dropped silently.
  if (value.length === 0) visitor.failure(-1, 'invalid', `${WHOLE_RECORD}: an empty array holds no record`);
  for (let index = 0; index < value.length; index++) visitRecord(value[index], index, kind, now, visitor);
}

function visitRecord<Item extends { ts: number }>(
  candidate: unknown,
  index: number,
  kind: RecordKind<Item>,
  now: number,
  visitor: RecordVisitor<Item>,
): void {
  let item: Item;
  const check = kind.invalidField;
  if (check !== undefined && check(candidate) === undefined) {
    item = candidate as Item;
  } else {
    const parsed = kind.schema.safeParse(candidate);
    if (!parsed.success) {
      visitor.failure(index, 'invalid', describeIssues(parsed.error.issues));
      return;
    }
    // The schema is the specification (and its output may differ from its input when it has no fast check).
    item = parsed.data;
  }
  const ts = item.ts;
  if (ts < now - TIMESTAMP_WINDOW.pastMs || ts > now + TIMESTAMP_WINDOW.futureMs) {
    visitor.failure(
      index,
      'timestamp_out_of_range',
      `ts ${ts} is outside [now - ${TIMESTAMP_WINDOW.pastMs} ms, now + ${TIMESTAMP_WINDOW.futureMs} ms] (now ${now})`,
    );
    return;
  }
  visitor.item(item, index);
}

/** `field: message; field: message` — every issue, naming its field (the whole record as {@link WHOLE_RECORD}). */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issue.path.join('.') || WHOLE_RECORD}: ${issue.message}`).join('; ');
}

/**
 * Decodes a stream message value into its valid items and its failures: {@link visitRecords} collecting into arrays.
 * `schema` is any zod schema of records with a `ts`; the stream's own two schemas use their fast checks.
 */
export function decodeRecords<Schema extends z.ZodType<{ ts: number }>>(
  bytes: Uint8Array,
  schema: Schema,
  now: number,
): Decoded<z.infer<Schema>> {
  const result: Decoded<z.infer<Schema>> = { items: [], indexes: [], failures: [] };
  visitRecords(bytes, kindOf(schema), now, {
    item: (item, index) => {
      result.items.push(item);
      result.indexes.push(index);
    },
    failure: (index, reason, detail) => void result.failures.push({ index, reason, detail }),
  });
  return result;
}

function kindOf<Schema extends z.ZodType<{ ts: number }>>(schema: Schema): RecordKind<z.infer<Schema>> {
  if ((schema as z.ZodType) === fixSchema) return FIX_RECORDS as unknown as RecordKind<z.infer<Schema>>;
  if ((schema as z.ZodType) === readingSchema)
    return READING_RECORDS as unknown as RecordKind<z.infer<Schema>>;
  return { schema: schema as unknown as z.ZodType<z.infer<Schema>> };
}
