/**
 * Hand-written equivalents of the zod schemas of ingest/schemas.ts, for the stream's hot path. The zod schemas stay
 * the specification: these checks must accept exactly what the schemas accept and, on a reject, name the field of the
 * schema's first issue (fields are checked in the schema's order). tests/unit/ingest/record-checks.test.ts proves it
 * with generated records. A rejected record is parsed again with zod to write the dead letter's detail, so these
 * checks never have to produce a message.
 *
 * What zod does that they copy: an object is anything `typeof 'object'`, not null and not an array (a Map or a Date is
 * an object with missing fields); fields are read as `value[key]`, inherited ones included; unknown fields are allowed
 * (zod strips them from its output, these checks leave them on the object, where nothing reads them); a number is a
 * `typeof 'number'` that is neither NaN nor ±Infinity; `int()` is a safe integer; string lengths count code points.
 */

/** The name {@link invalidFixField} and {@link invalidReadingField} give a value that is not an object at all. */
export const WHOLE_RECORD = '(record)';

/** Longest id in code points (the schemas' `max(64)`). */
const MAX_ID = 64;

/**
 * The first field of `value` that fails `fixSchema` (doctorId, lat, lng, ts, accuracy, speed, heading, battery, seq),
 * {@link WHOLE_RECORD} when `value` is not an object, undefined when `value` is a valid fix.
 */
export function invalidFixField(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return WHOLE_RECORD;
  const record = value as Record<string, unknown>;
  if (!isId(record.doctorId)) return 'doctorId';
  if (!isBetween(record.lat, -90, 90)) return 'lat';
  if (!isBetween(record.lng, -180, 180)) return 'lng';
  if (!isTimestamp(record.ts)) return 'ts';
  const { accuracy, speed, heading, battery, seq } = record;
  if (accuracy !== undefined && !isBetween(accuracy, 0, 100_000)) return 'accuracy';
  if (speed !== undefined && !isBetween(speed, 0, 150)) return 'speed';
  if (heading !== undefined && !isBetween(heading, 0, 360)) return 'heading';
  if (battery !== undefined && !isBetween(battery, 0, 100)) return 'battery';
  if (seq !== undefined && !(Number.isSafeInteger(seq) && (seq as number) >= 0)) return 'seq';
  return undefined;
}

/**
 * The first field of `value` that fails `readingSchema` (detectorId, ts, speedKmh, volume, occupancy, lat, lng),
 * {@link WHOLE_RECORD} when `value` is not an object, undefined when `value` is a valid reading.
 */
export function invalidReadingField(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return WHOLE_RECORD;
  const record = value as Record<string, unknown>;
  if (!isId(record.detectorId)) return 'detectorId';
  if (!isTimestamp(record.ts)) return 'ts';
  if (!isBetween(record.speedKmh, 0, 250)) return 'speedKmh';
  const { volume, occupancy, lat, lng } = record;
  if (volume !== undefined && !isBetween(volume, 0, Number.MAX_VALUE)) return 'volume';
  if (occupancy !== undefined && !isBetween(occupancy, 0, 100)) return 'occupancy';
  if (lat !== undefined && !isBetween(lat, -90, 90)) return 'lat';
  if (lng !== undefined && !isBetween(lng, -180, 180)) return 'lng';
  return undefined;
}

/** A finite number in [min, max]; NaN fails both comparisons, and the bounds are finite, so ±Infinity fails one. */
function isBetween(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && value >= min && value <= max;
}

/** A positive safe integer (`int().positive()`). */
function isTimestamp(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

/** A string of 1 to 64 code points (`string().min(1).max(64)`). */
function isId(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const units = value.length;
  // A code point is one or two UTF-16 units: only a string over the limit in units needs counting.
  return units >= 1 && (units <= MAX_ID || codePoints(value) <= MAX_ID);
}

/** Code points of `text`, a lone surrogate counting as one (as zod counts). */
function codePoints(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    if ((text.charCodeAt(i) & 0xfc00) === 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}
