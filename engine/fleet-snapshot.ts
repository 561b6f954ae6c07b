/**
 * The fleet's snapshot format: one msgpack map of columns. Numeric columns are raw little-endian typed-array bytes
 * (msgpack `bin`), so a million doctors encode and decode as a handful of memory copies; strings (ids, clinics,
 * specializations) are msgpack arrays, and repeated strings (clinics, specializations, cells) are stored once in a
 * dictionary and referenced by index.
 *
 * Version 1 columns, n = doctors, p = doctors with a position (the first p of the n):
 *   format 'tot.fleet', version 1, littleEndian true, resolution, offlineAfterMs, placed p,
 *   ids string[n], specializations string[≤32] (bit i of tags ↔ name i), clinics string[],
 *   status, offlineReason, statusBeforeOffline: u8[n]; tags: u32[n]; clinic: i32[n] (−1 none); rating: f64[n],
 *   lat, lng, heading, speed, accuracy, battery, lastFixAt, lastSeenAt, seq: f64[p] (NaN = unknown),
 *   cells string[] and cell: i32[p] (each doctor's H3 cell, a hint that spares most cell computations on restore),
 *   overflow [doctor index, names[]][] (specializations beyond the 32 with a bit), counters {name: number}.
 *
 * Who writes it: the columns are built from a capture of the fleet (engine/fleet-capture.ts, then
 * engine/fleet-columns.ts), in the calling thread for Fleet.toSnapshot and on the snapshot worker for the engine's
 * periodic snapshots (engine/snapshot-encoder.ts). Both give the same bytes as the first version-1 writer did, which
 * tests/unit/engine/fleet-snapshot-v1.test.ts pins with golden bytes: moving the work off the event loop needed no new
 * version. A version 2, if one comes, must leave this reader accepting version 1 (snapshot files of it exist).
 */
import { Packr } from 'msgpackr';
import { TotError } from '../geo/errors.ts';

/** Value of the snapshot's `format` field. */
export const FLEET_SNAPSHOT_FORMAT = 'tot.fleet';
/** The version this code writes; it reads only this one. */
export const FLEET_SNAPSHOT_VERSION = 1;

/** The fleet's state as columns: what a snapshot holds. */
export interface FleetColumns {
  resolution: number;
  offlineAfterMs: number;
  placed: number;
  ids: string[];
  specializations: string[];
  clinics: string[];
  status: Uint8Array;
  offlineReason: Uint8Array;
  statusBeforeOffline: Uint8Array;
  tags: Uint32Array;
  clinic: Int32Array;
  rating: Float64Array;
  lat: Float64Array;
  lng: Float64Array;
  heading: Float64Array;
  speed: Float64Array;
  accuracy: Float64Array;
  battery: Float64Array;
  lastFixAt: Float64Array;
  lastSeenAt: Float64Array;
  seq: Float64Array;
  cells: string[];
  cell: Int32Array;
  overflow: [number, string[]][];
  counters: Record<string, number>;
}

const PER_DOCTOR_U8 = ['status', 'offlineReason', 'statusBeforeOffline'] as const;
const PER_PLACED_F64 = [
  'lat',
  'lng',
  'heading',
  'speed',
  'accuracy',
  'battery',
  'lastFixAt',
  'lastSeenAt',
  'seq',
] as const;

const PACKR_OPTIONS = { useRecords: false, variableMapSize: true } as const;
const packr = new Packr(PACKR_OPTIONS);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** Encodes the columns as snapshot bytes. */
export function encodeFleetSnapshot(columns: FleetColumns): Uint8Array {
  const record: Record<string, unknown> = {
    format: FLEET_SNAPSHOT_FORMAT,
    version: FLEET_SNAPSHOT_VERSION,
    littleEndian: LITTLE_ENDIAN,
    resolution: columns.resolution,
    offlineAfterMs: columns.offlineAfterMs,
    placed: columns.placed,
    ids: columns.ids,
    specializations: columns.specializations,
    clinics: columns.clinics,
    tags: bytesOf(columns.tags),
    clinic: bytesOf(columns.clinic),
    rating: bytesOf(columns.rating),
    cells: columns.cells,
    cell: bytesOf(columns.cell),
    overflow: columns.overflow,
    counters: columns.counters,
  };
  for (const name of PER_DOCTOR_U8) record[name] = columns[name];
  for (const name of PER_PLACED_F64) record[name] = bytesOf(columns[name]);
  // Pack into a buffer sized up front: growing msgpackr's buffer copies ~100 MB several times for a million doctors.
  let estimate = 64 * 1024;
  for (const value of Object.values(record))
    if (value instanceof Uint8Array) estimate += value.byteLength + 8;
  for (const list of [columns.ids, columns.specializations, columns.clinics, columns.cells]) {
    for (const text of list) estimate += 3 * text.length + 5;
  }
  for (const [, names] of columns.overflow) for (const name of names) estimate += 3 * name.length + 10;
  return packInto(new Packr(PACKR_OPTIONS), record, new ArrayBuffer(estimate));
}

/** Size of the buffer msgpackr is handed back after {@link packInto}: its own default. */
const DEFAULT_PACK_BUFFER_BYTES = 8192;

/**
 * Packs `value` with `packr` into `memory` (msgpackr moves to a larger buffer of its own if it does not fit) and
 * returns the bytes. msgpackr's target buffer is one per thread, shared by every Packr: it must be a Buffer (string
 * packing calls its utf8Write — a plain Uint8Array breaks the next pack of a long string anywhere in the thread), and
 * it is handed a small fresh one afterwards, so that the thread does not keep `memory` alive or write into it.
 */
export function packInto(packr: Packr, value: unknown, memory: ArrayBuffer): Uint8Array<ArrayBuffer> {
  packr.useBuffer(Buffer.from(memory));
  try {
    const packed = packr.pack(value);
    // A plain Uint8Array over the same memory, as callers and the bytes' readers expect.
    return new Uint8Array(packed.buffer as ArrayBuffer, packed.byteOffset, packed.byteLength);
  } finally {
    packr.useBuffer(Buffer.allocUnsafeSlow(DEFAULT_PACK_BUFFER_BYTES));
  }
}

function invalid(message: string, details: Record<string, unknown> = {}): TotError {
  return new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: ${message}`, details);
}

function column<T extends ArrayBufferView>(
  raw: Record<string, unknown>,
  field: string,
  length: number,
  make: (n: number) => T,
): T {
  const value = raw[field];
  if (!(value instanceof Uint8Array)) throw invalid(`${field} must be binary`, { field });
  const target = make(length);
  if (value.byteLength !== target.byteLength) {
    throw invalid(`${field} has ${value.byteLength} bytes, expected ${target.byteLength}`, { field });
  }
  // Copy: the decoded bytes may be unaligned views into the input.
  bytesOf(target).set(value);
  return target;
}

function stringArray(raw: Record<string, unknown>, field: string, maxLength?: number): string[] {
  const value = raw[field];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalid(`${field} must be an array of strings`, { field });
  }
  if (maxLength !== undefined && value.length > maxLength) {
    throw invalid(`${field} has ${value.length} entries, at most ${maxLength} allowed`, { field });
  }
  return value as string[];
}

function count(raw: Record<string, unknown>, field: string): number {
  const value = raw[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalid(`${field} must be a non-negative integer, got ${String(value)}`, { field, value });
  }
  return value;
}

/**
 * Decodes and checks snapshot bytes: structure, version, column lengths. Values (coordinates, statuses, unique ids)
 * are checked by the fleet as it rebuilds itself.
 * @throws TotError `ENGINE_INVALID_SNAPSHOT` naming the offending field.
 */
export function decodeFleetSnapshot(bytes: Uint8Array): FleetColumns {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0)
    throw invalid('bytes must be a non-empty Uint8Array');
  let decoded: unknown;
  try {
    decoded = packr.unpack(bytes);
  } catch (error) {
    throw invalid(`not valid msgpack: ${(error as Error).message}`);
  }
  if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded))
    throw invalid('not a msgpack map');
  const raw = decoded as Record<string, unknown>;
  if (raw['format'] !== FLEET_SNAPSHOT_FORMAT) {
    throw invalid(`format must be ${FLEET_SNAPSHOT_FORMAT}, got ${String(raw['format'])}`, {
      field: 'format',
    });
  }
  if (raw['version'] !== FLEET_SNAPSHOT_VERSION) {
    throw invalid(
      `version ${String(raw['version'])} is not supported (this build reads ${FLEET_SNAPSHOT_VERSION})`,
      {
        field: 'version',
        value: raw['version'],
      },
    );
  }
  if (raw['littleEndian'] !== LITTLE_ENDIAN)
    throw invalid('byte order differs from this machine', { field: 'littleEndian' });
  const ids = stringArray(raw, 'ids');
  const n = ids.length;
  const placed = count(raw, 'placed');
  if (placed > n)
    throw invalid(`placed (${placed}) exceeds the number of doctors (${n})`, { field: 'placed' });
  const overflow = raw['overflow'];
  if (
    !Array.isArray(overflow) ||
    overflow.some(
      (entry) =>
        !Array.isArray(entry) ||
        typeof entry[0] !== 'number' ||
        !Number.isInteger(entry[0]) ||
        entry[0] < 0 ||
        entry[0] >= n ||
        !Array.isArray(entry[1]) ||
        (entry[1] as unknown[]).some((name) => typeof name !== 'string'),
    )
  ) {
    throw invalid('overflow must be an array of [doctor index, names[]]', { field: 'overflow' });
  }
  const counters = raw['counters'];
  if (counters === null || typeof counters !== 'object' || Array.isArray(counters)) {
    throw invalid('counters must be a map', { field: 'counters' });
  }
  const columns: FleetColumns = {
    resolution: count(raw, 'resolution'),
    offlineAfterMs: count(raw, 'offlineAfterMs'),
    placed,
    ids,
    specializations: stringArray(raw, 'specializations', 32),
    clinics: stringArray(raw, 'clinics'),
    status: column(raw, 'status', n, (k) => new Uint8Array(k)),
    offlineReason: column(raw, 'offlineReason', n, (k) => new Uint8Array(k)),
    statusBeforeOffline: column(raw, 'statusBeforeOffline', n, (k) => new Uint8Array(k)),
    tags: column(raw, 'tags', n, (k) => new Uint32Array(k)),
    clinic: column(raw, 'clinic', n, (k) => new Int32Array(k)),
    rating: column(raw, 'rating', n, (k) => new Float64Array(k)),
    lat: column(raw, 'lat', placed, (k) => new Float64Array(k)),
    lng: column(raw, 'lng', placed, (k) => new Float64Array(k)),
    heading: column(raw, 'heading', placed, (k) => new Float64Array(k)),
    speed: column(raw, 'speed', placed, (k) => new Float64Array(k)),
    accuracy: column(raw, 'accuracy', placed, (k) => new Float64Array(k)),
    battery: column(raw, 'battery', placed, (k) => new Float64Array(k)),
    lastFixAt: column(raw, 'lastFixAt', placed, (k) => new Float64Array(k)),
    lastSeenAt: column(raw, 'lastSeenAt', placed, (k) => new Float64Array(k)),
    seq: column(raw, 'seq', placed, (k) => new Float64Array(k)),
    cells: stringArray(raw, 'cells'),
    cell: column(raw, 'cell', placed, (k) => new Int32Array(k)),
    overflow: overflow as [number, string[]][],
    counters: Object.fromEntries(
      Object.entries(counters as Record<string, unknown>).filter(
        (entry): entry is [string, number] => typeof entry[1] === 'number',
      ),
    ),
  };
  for (const c of columns.clinic) {
    if (c < -1 || c >= columns.clinics.length)
      throw invalid(`clinic index ${c} out of range`, { field: 'clinic' });
  }
  for (const c of columns.cell) {
    if (c < -1 || c >= columns.cells.length) throw invalid(`cell index ${c} out of range`, { field: 'cell' });
  }
  return columns;
}
