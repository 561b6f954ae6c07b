/**
 * Per-doctor data of the fleet beside what the spatial index holds (position, status, tags): the fix fields, the
 * offline timer's clock, the profile's clinic and rating, and why the doctor is offline. Placed doctors live in
 * typed arrays indexed by the index's slot, one 64-byte record of numbers per doctor so that building a view touches
 * one cache line; doctors without a position yet live in a small object each ({@link UnplacedDoctor}).
 */
import type { FleetColumns } from './fleet-snapshot.ts';
import type { Fix, OfflineReason } from './fleet-types.ts';

/** Offline reason codes. */
export const REASON_NONE = 0;
export const REASON_TIMEOUT = 1;
export const REASON_OFF_DUTY = 2;
/** Names of the reason codes (none → undefined). */
export const REASON_NAMES: readonly (OfflineReason | undefined)[] = [undefined, 'timeout', 'off_duty'];

/** "No clinic" clinic code. */
export const NO_CLINIC = -1;

/** Profile and status of a doctor with no fix yet (not in the spatial index). */
export interface UnplacedDoctor {
  status: number;
  offlineReason: number;
  statusBeforeOffline: number;
  tags: number;
  clinic: number;
  /** NaN when unknown. */
  rating: number;
}

/** A new doctor's unplaced record. */
export function unplacedDoctor(status: number, offlineReason = REASON_NONE): UnplacedDoctor {
  return {
    status,
    offlineReason,
    statusBeforeOffline: status,
    tags: 0,
    clinic: NO_CLINIC,
    rating: Number.NaN,
  };
}

// Record layout: numbers (NaN = unknown) …
const HEADING = 0;
const SPEED = 1;
const ACCURACY = 2;
const BATTERY = 3;
const LAST_FIX_AT = 4;
const LAST_SEEN_AT = 5;
const SEQ = 6;
const RATING = 7;
const STRIDE = 8;
// … and integers: clinic code, then offline reason | status before offline << 8.
const META_CLINIC = 0;
const META_OFFLINE = 1;
const META_STRIDE = 2;

/**
 * The doctor table's storage, as {@link DoctorTable.storage} hands it out for a bulk copy (engine/fleet-capture.ts);
 * the copy is read back by the table's own code (engine/fleet-columns.ts), so the record layout stays the table's.
 * The arrays are the table's own, not copies: read only for the caller, and valid until the next write to the table
 * (a table that grows replaces them).
 */
export interface DoctorStorage {
  /** The number records, `numbersPerSlot` per slot from slot 0. */
  readonly numbers: Float64Array;
  readonly numbersPerSlot: number;
  /** The integer records, `integersPerSlot` per slot from slot 0. */
  readonly integers: Int32Array;
  readonly integersPerSlot: number;
}

/** Per-slot data of placed doctors. */
export class DoctorTable {
  private data = new Float64Array(0);
  private meta = new Int32Array(0);
  private capacity = 0;

  /**
   * A table over storage captured from another (its `numbers` and `integers`, as {@link storage} gave them), to read
   * the rows back; the table uses the arrays themselves, not copies.
   */
  static over(numbers: Float64Array<ArrayBuffer>, integers: Int32Array<ArrayBuffer>): DoctorTable {
    const table = new DoctorTable();
    table.data = numbers;
    table.meta = integers;
    table.capacity = Math.floor(numbers.length / STRIDE);
    return table;
  }

  /** The table's storage (see {@link DoctorStorage}): its own arrays, not copies. */
  storage(): DoctorStorage {
    return { numbers: this.data, numbersPerSlot: STRIDE, integers: this.meta, integersPerSlot: META_STRIDE };
  }

  /** Makes room for slots below `capacity`. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.capacity) return;
    const data = new Float64Array(capacity * STRIDE).fill(Number.NaN);
    data.set(this.data);
    const meta = new Int32Array(capacity * META_STRIDE);
    meta.set(this.meta);
    this.data = data;
    this.meta = meta;
    this.capacity = capacity;
  }

  /** Initialises a slot for a doctor entering the index at `now` (no fix fields yet). */
  place(slot: number, doctor: UnplacedDoctor, now: number): void {
    const at = slot * STRIDE;
    this.data.fill(Number.NaN, at, at + STRIDE);
    this.data[at + LAST_FIX_AT] = Number.NEGATIVE_INFINITY;
    this.data[at + LAST_SEEN_AT] = now;
    this.data[at + RATING] = doctor.rating;
    this.meta[slot * META_STRIDE + META_CLINIC] = doctor.clinic;
    this.setOffline(slot, doctor.offlineReason, doctor.statusBeforeOffline);
  }

  /** Stores an applied fix: every optional field is replaced (absent → unknown). */
  writeFix(slot: number, fix: Fix, now: number): void {
    const data = this.data;
    const at = slot * STRIDE;
    data[at + HEADING] = fix.heading ?? Number.NaN;
    data[at + SPEED] = fix.speed ?? Number.NaN;
    data[at + ACCURACY] = fix.accuracy ?? Number.NaN;
    data[at + BATTERY] = fix.battery ?? Number.NaN;
    data[at + LAST_FIX_AT] = fix.ts;
    data[at + SEQ] = fix.seq ?? Number.NaN;
    data[at + LAST_SEEN_AT] = now;
  }

  /** Restores the fix fields of a slot from row `i` of snapshot columns. */
  restoreFix(slot: number, columns: FleetColumns, i: number): void {
    const data = this.data;
    const at = slot * STRIDE;
    data[at + HEADING] = columns.heading[i] as number;
    data[at + SPEED] = columns.speed[i] as number;
    data[at + ACCURACY] = columns.accuracy[i] as number;
    data[at + BATTERY] = columns.battery[i] as number;
    data[at + LAST_FIX_AT] = columns.lastFixAt[i] as number;
    data[at + LAST_SEEN_AT] = columns.lastSeenAt[i] as number;
    data[at + SEQ] = columns.seq[i] as number;
  }

  /** Writes the fields of a slot into row `i` of snapshot columns. */
  exportRow(slot: number, columns: FleetColumns, i: number): void {
    const data = this.data;
    const at = slot * STRIDE;
    columns.heading[i] = data[at + HEADING] as number;
    columns.speed[i] = data[at + SPEED] as number;
    columns.accuracy[i] = data[at + ACCURACY] as number;
    columns.battery[i] = data[at + BATTERY] as number;
    columns.lastFixAt[i] = data[at + LAST_FIX_AT] as number;
    columns.lastSeenAt[i] = data[at + LAST_SEEN_AT] as number;
    columns.seq[i] = data[at + SEQ] as number;
    columns.rating[i] = data[at + RATING] as number;
    const meta = slot * META_STRIDE;
    columns.clinic[i] = this.meta[meta + META_CLINIC] as number;
    const offline = this.meta[meta + META_OFFLINE] as number;
    columns.offlineReason[i] = offline & 0xff;
    columns.statusBeforeOffline[i] = offline >>> 8;
  }

  heading(slot: number): number {
    return this.data[slot * STRIDE + HEADING] as number;
  }

  speed(slot: number): number {
    return this.data[slot * STRIDE + SPEED] as number;
  }

  accuracy(slot: number): number {
    return this.data[slot * STRIDE + ACCURACY] as number;
  }

  battery(slot: number): number {
    return this.data[slot * STRIDE + BATTERY] as number;
  }

  /** Phone time of the last applied fix; −∞ before the first. */
  lastFixAt(slot: number): number {
    return this.data[slot * STRIDE + LAST_FIX_AT] as number;
  }

  /** Engine time of the last sign of life (applied fix or going on duty). */
  lastSeenAt(slot: number): number {
    return this.data[slot * STRIDE + LAST_SEEN_AT] as number;
  }

  setLastSeenAt(slot: number, now: number): void {
    this.data[slot * STRIDE + LAST_SEEN_AT] = now;
  }

  seq(slot: number): number {
    return this.data[slot * STRIDE + SEQ] as number;
  }

  rating(slot: number): number {
    return this.data[slot * STRIDE + RATING] as number;
  }

  setRating(slot: number, rating: number): void {
    this.data[slot * STRIDE + RATING] = rating;
  }

  clinic(slot: number): number {
    return this.meta[slot * META_STRIDE + META_CLINIC] as number;
  }

  setClinic(slot: number, clinic: number): void {
    this.meta[slot * META_STRIDE + META_CLINIC] = clinic;
  }

  offlineReason(slot: number): number {
    return (this.meta[slot * META_STRIDE + META_OFFLINE] as number) & 0xff;
  }

  statusBeforeOffline(slot: number): number {
    return (this.meta[slot * META_STRIDE + META_OFFLINE] as number) >>> 8;
  }

  setOffline(slot: number, reason: number, statusBefore: number): void {
    this.meta[slot * META_STRIDE + META_OFFLINE] = reason | (statusBefore << 8);
  }
}
