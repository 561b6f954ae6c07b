/**
 * The fleet's snapshot in two steps, so that only the first runs on the event loop:
 *
 * 1. {@link FleetSnapshotSource.capture} copies the state at one moment. Numbers are copied as the fleet stores them,
 *    whole typed arrays at once (memcpy speed): the doctor table's per-slot records, the index's per-slot tags and the
 *    index cells' member records (position, slot, status). Strings are not collected: doctor ids, cells and clinics
 *    are lists kept in step with the receiver (engine/snapshot-strings.ts), so only the entries that changed go with
 *    the capture. Doctors without a position are few and copied one by one.
 * 2. engine/fleet-columns.ts turns a capture into the snapshot's columns, wherever the capture is sent — the
 *    snapshot worker (engine/snapshot-worker.ts) — while fixes keep arriving.
 *
 * Step 1 reads the storage of FleetIndex (`slotIds`, `slotTags`, `cellMembers`, the last from its CellTable), of the
 * DoctorTable (`storage`) and of the SpecializationRegistry (`overflowByDoctor`) through their read accessors, which
 * hand out their own arrays, not copies: a bulk copy of that storage is what makes the capture cheap. The arrays are
 * only read, each within one synchronous call, never kept across a change of the fleet. The layouts stay theirs: the
 * doctor records are copied whole and read back by the table's own code (engine/fleet-columns.ts), the cell records
 * through geo/fleet-index-cells.ts's constants.
 */
import { RECORD_STRIDE } from '../geo/fleet-index-cells.ts';
import type { FleetIndex } from '../geo/fleet-index.ts';
import type { DoctorTable, UnplacedDoctor } from './fleet-doctors.ts';
import type { SpecializationRegistry } from './fleet-specializations.ts';
import type { CaptureBuffers } from './snapshot-buffers.ts';
import type { CaptureMirrors, StringUpdates } from './snapshot-strings.ts';

/** What the fleet hands to its snapshot source: its own parts, read only. */
export interface FleetParts {
  index: FleetIndex;
  doctors: DoctorTable;
  unplaced: ReadonlyMap<string, UnplacedDoctor>;
  specializations: SpecializationRegistry;
  clinicIds: readonly string[];
  counters: Readonly<Record<string, number>>;
  offlineAfterMs: number;
}

/** Doctors without a position, as columns in the fleet's map order. */
export interface UnplacedCapture {
  ids: string[];
  status: Uint8Array<ArrayBuffer>;
  offlineReason: Uint8Array<ArrayBuffer>;
  statusBeforeOffline: Uint8Array<ArrayBuffer>;
  tags: Uint32Array<ArrayBuffer>;
  clinic: Int32Array<ArrayBuffer>;
  rating: Float64Array<ArrayBuffer>;
}

/**
 * The fleet at one moment, as plain data a worker can receive: typed arrays (transferred, see
 * {@link transferablesOf}) and string updates relative to the receiver's lists (engine/snapshot-strings.ts).
 */
export interface FleetCapture {
  resolution: number;
  offlineAfterMs: number;
  /** Placed doctors. */
  placed: number;
  /** Index slots in use or freed (the length of the per-slot arrays). */
  slotLimit: number;
  /** The doctor table's numbers for slots below slotLimit, its own layout. */
  doctorData: Float64Array<ArrayBuffer>;
  doctorMeta: Int32Array<ArrayBuffer>;
  /** Index tags per slot. */
  tags: Uint32Array<ArrayBuffer>;
  /** Members per cell slot. */
  cellCounts: Int32Array<ArrayBuffer>;
  /** Member records of the non-empty cells in cell-slot order, RECORD_STRIDE numbers each. */
  records: Float64Array<ArrayBuffer>;
  ids: StringUpdates;
  cells: StringUpdates;
  clinics: StringUpdates;
  /** Clinics known to the fleet (the receiver's list may be longer: entries of a fleet replaced since). */
  clinicCount: number;
  unplaced: UnplacedCapture;
  specializations: string[];
  /** Overflow specializations by doctor id (only doctors that have some). */
  overflow: [string, string[]][];
  counters: Record<string, number>;
}

/** Slots scanned per chunk by {@link FleetSnapshotSource.idsAhead}'s callers. */
export const ID_CHUNK_SLOTS = 16_384;

const NO_STRING_UPDATES: StringUpdates = { at: [], values: [] };

/** Reads a fleet's parts for a snapshot; holds nothing of its own (make one per snapshot, it costs nothing). */
export class FleetSnapshotSource {
  constructor(private readonly parts: FleetParts) {}

  /** Index slots in use or freed. */
  get slotLimit(): number {
    return this.parts.index.slotLimit;
  }

  /**
   * Doctor ids of slots `from … to − 1` the receiver does not hold yet, recorded in `mirrors` as sent. Called for
   * consecutive chunks from slot 0, with the event loop running in between, it leaves {@link capture} nothing to send,
   * or when a slot was taken or freed meanwhile, only what changed.
   */
  idsAhead(mirrors: CaptureMirrors, from: number, to: number): StringUpdates {
    const index = this.parts.index;
    if (from === 0) mirrors.idsPass = { index, stamp: idStamp(index), complete: false };
    const updates = mirrors.ids.diff(index.slotIds(), from, Math.min(to, this.slotLimit));
    const pass = mirrors.idsPass;
    if (to >= this.slotLimit && pass?.index === index) pass.complete = true;
    return updates;
  }

  /** The bytes {@link capture} copies into each buffer of a {@link CaptureBuffers} now. */
  captureBytes(): Record<string, number> {
    const { index, doctors } = this.parts;
    const slots = index.slotLimit;
    const storage = doctors.storage();
    return {
      doctorData: 8 * slots * storage.numbersPerSlot,
      doctorMeta: 4 * slots * storage.integersPerSlot,
      tags: 4 * slots,
      records: 8 * index.size * RECORD_STRIDE,
    };
  }

  /**
   * A copy of the whole fleet at this moment, into `buffers` when given; the string updates are recorded in `mirrors`
   * as sent.
   */
  capture(mirrors: CaptureMirrors, buffers?: CaptureBuffers): FleetCapture {
    const { index, doctors, specializations } = this.parts;
    const slotLimit = index.slotLimit;
    const cells = index.cellMembers();
    const cellCounts = cells.count.slice(0, cells.slotLimit);
    const storage = doctors.storage();
    const pass = mirrors.idsPass;
    mirrors.idsPass = undefined;
    // An id changes only when its slot is taken or freed: if none was since a complete pass, the receiver has them all.
    const idsCurrent = pass?.complete === true && pass.index === index && pass.stamp === idStamp(index);
    const overflow = specializations.overflowByDoctor();
    return {
      resolution: index.resolution,
      offlineAfterMs: this.parts.offlineAfterMs,
      placed: index.size,
      slotLimit,
      doctorData: copyOf(
        storage.numbers,
        slotLimit * storage.numbersPerSlot,
        Float64Array,
        buffers,
        'doctorData',
      ),
      doctorMeta: copyOf(
        storage.integers,
        slotLimit * storage.integersPerSlot,
        Int32Array,
        buffers,
        'doctorMeta',
      ),
      tags: copyOf(index.slotTags(), slotLimit, Uint32Array, buffers, 'tags'),
      cellCounts,
      records: copyRecords(cells.records, cellCounts, index.size, buffers),
      ids: idsCurrent ? NO_STRING_UPDATES : mirrors.ids.diff(index.slotIds(), 0, slotLimit),
      cells: mirrors.cells.diff(cells.cellIds, 0, cellCounts.length, cellCounts),
      clinics: mirrors.clinics.diff(this.parts.clinicIds),
      clinicCount: this.parts.clinicIds.length,
      unplaced: this.captureUnplaced(),
      specializations: [...specializations.taggedNames],
      overflow: overflow.size === 0 ? [] : [...overflow],
      counters: { ...this.parts.counters },
    };
  }

  private captureUnplaced(): UnplacedCapture {
    const unplaced = this.parts.unplaced;
    const n = unplaced.size;
    const capture: UnplacedCapture = {
      ids: [],
      status: new Uint8Array(n),
      offlineReason: new Uint8Array(n),
      statusBeforeOffline: new Uint8Array(n),
      tags: new Uint32Array(n),
      clinic: new Int32Array(n),
      rating: new Float64Array(n),
    };
    let i = 0;
    for (const [id, doctor] of unplaced) {
      capture.ids.push(id);
      capture.status[i] = doctor.status;
      capture.offlineReason[i] = doctor.offlineReason;
      capture.statusBeforeOffline[i] = doctor.statusBeforeOffline;
      capture.tags[i] = doctor.tags;
      capture.clinic[i] = doctor.clinic;
      capture.rating[i] = doctor.rating;
      i++;
    }
    return capture;
  }
}

/** Slots taken plus slots freed so far: it changes whenever some slot's id does. */
function idStamp(index: FleetIndex): number {
  const writes = index.writeStats();
  return writes.inserts + writes.removes;
}

type TypedArrayOf<T> = T extends Float64Array
  ? Float64Array<ArrayBuffer>
  : T extends Int32Array
    ? Int32Array<ArrayBuffer>
    : Uint32Array<ArrayBuffer>;

/** The first `length` numbers of `source`, copied into a buffer of `buffers` (or a new one). */
function copyOf<T extends Float64Array | Int32Array | Uint32Array>(
  source: T,
  length: number,
  make: new (buffer: ArrayBuffer, byteOffset: number, length: number) => TypedArrayOf<T>,
  buffers: CaptureBuffers | undefined,
  role: string,
): TypedArrayOf<T> {
  const bytes = length * source.BYTES_PER_ELEMENT;
  const target = new make(buffers?.take(role, bytes) ?? new ArrayBuffer(bytes), 0, length);
  target.set(source.subarray(0, length) as never);
  return target;
}

/** The live member records of every non-empty cell, in cell-slot order, in one array. */
function copyRecords(
  records: readonly Float64Array[],
  counts: Int32Array,
  members: number,
  buffers: CaptureBuffers | undefined,
): Float64Array<ArrayBuffer> {
  const length = members * RECORD_STRIDE;
  const out = new Float64Array(
    buffers?.take('records', 8 * length) ?? new ArrayBuffer(8 * length),
    0,
    length,
  );
  let at = 0;
  // An element loop: no slower than a subarray view and set() per cell (measured), and it allocates nothing.
  for (let c = 0; c < counts.length; c++) {
    const numbers = (counts[c] as number) * RECORD_STRIDE;
    if (numbers === 0) continue;
    const source = records[c] as Float64Array;
    for (let k = 0; k < numbers; k++) out[at + k] = source[k] as number;
    at += numbers;
  }
  return out;
}

/** The pooled buffers of a capture, by role, for {@link CaptureBuffers.give} once the receiver is done with them. */
export function poolableBuffersOf(capture: FleetCapture): Record<string, ArrayBuffer> {
  return {
    doctorData: capture.doctorData.buffer,
    doctorMeta: capture.doctorMeta.buffer,
    tags: capture.tags.buffer,
    records: capture.records.buffer,
  };
}

/** The buffers of a capture's typed arrays, to transfer rather than copy when it is posted to a worker. */
export function transferablesOf(capture: FleetCapture): ArrayBuffer[] {
  const { unplaced } = capture;
  const arrays: ArrayBufferView<ArrayBuffer>[] = [
    capture.doctorData,
    capture.doctorMeta,
    capture.tags,
    capture.cellCounts,
    capture.records,
    unplaced.status,
    unplaced.offlineReason,
    unplaced.statusBeforeOffline,
    unplaced.tags,
    unplaced.clinic,
    unplaced.rating,
  ];
  return arrays.map((array) => array.buffer);
}
