/**
 * The fleet's snapshot in two steps, so that only the first runs on the event loop:
 *
 * 1. {@link FleetSnapshotSource.capture} copies the state at one moment. Numbers are copied as the fleet stores them,
 *    whole typed arrays at once (memcpy speed): the doctor table's per-slot records, the index's per-slot tags and the
 *    index cells' member records (position, slot, status). Strings are not collected: doctor ids, cells and clinics
 *    are lists kept in step with the receiver (engine/snapshot-strings.ts), so only the entries that changed go with
 *    the capture. Doctors without a position are few and copied one by one.
 * 2. {@link columnsOfCapture} turns a capture into the snapshot's columns (engine/fleet-snapshot.ts), in the order the
 *    format has always had: placed doctors grouped by cell, then the others. It reads nothing of the fleet, so it runs
 *    wherever the capture is sent — the snapshot worker (engine/snapshot-worker.ts) — while fixes keep arriving.
 *
 * Step 1 reads arrays that FleetIndex, its CellTable and the DoctorTable keep private (by `object['field']`, which
 * TypeScript checks against the declared fields): a bulk copy of their storage is what makes the capture cheap, and
 * those files belong to the index and the table. The field layouts are theirs too; step 2 reads the doctor records
 * back through DoctorTable's own `exportRow`, and the cell records through geo/fleet-index-cells.ts's constants.
 */
import {
  RECORD_ENTRY,
  RECORD_LAT,
  RECORD_LNG,
  RECORD_STRIDE,
  STATUS_BITS,
  STATUS_MASK,
} from '../geo/fleet-index-cells.ts';
import type { FleetIndex } from '../geo/fleet-index.ts';
import { DoctorTable, type UnplacedDoctor } from './fleet-doctors.ts';
import type { FleetColumns } from './fleet-snapshot.ts';
import type { SpecializationRegistry } from './fleet-specializations.ts';
import {
  type CaptureDictionary,
  type CaptureMirrors,
  type StringUpdates,
  applyStringUpdates,
} from './snapshot-strings.ts';

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
 * {@link transferablesOf}) and string updates relative to the receiver's {@link CaptureDictionary}.
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

/** Members of a cell up to which a loop copies faster than a subarray view plus `set`. */
const SMALL_CELL_NUMBERS = 64;

/** Reads a fleet's parts for a snapshot; holds nothing of its own (make one per snapshot, it costs nothing). */
export class FleetSnapshotSource {
  constructor(private readonly parts: FleetParts) {}

  /** Index slots in use or freed. */
  get slotLimit(): number {
    return this.parts.index.slotLimit;
  }

  /**
   * Doctor ids of slots `from … to − 1` the receiver does not hold yet, recorded in `mirrors` as sent: sending them
   * ahead, in chunks between which the event loop runs, leaves {@link capture} only the ids that changed since.
   */
  idsAhead(mirrors: CaptureMirrors, from: number, to: number): StringUpdates {
    return mirrors.ids.diff(this.parts.index['ids'], from, Math.min(to, this.slotLimit));
  }

  /** A copy of the whole fleet at this moment; the string updates are recorded in `mirrors` as sent. */
  capture(mirrors: CaptureMirrors): FleetCapture {
    const { index, doctors, specializations } = this.parts;
    const slotLimit = index.slotLimit;
    const cells = index['cells'];
    const cellCounts = cells.count.slice(0, cells.highWater);
    const dataPerSlot = doctors['data'].length / Math.max(1, doctors['capacity']);
    const metaPerSlot = doctors['meta'].length / Math.max(1, doctors['capacity']);
    const overflow = specializations['overflow'];
    return {
      resolution: index.resolution,
      offlineAfterMs: this.parts.offlineAfterMs,
      placed: index.size,
      slotLimit,
      doctorData: doctors['data'].slice(0, slotLimit * dataPerSlot),
      doctorMeta: doctors['meta'].slice(0, slotLimit * metaPerSlot),
      tags: index['tags'].slice(0, slotLimit),
      cellCounts,
      records: copyRecords(cells.records, cellCounts, index.size),
      ids: mirrors.ids.diff(index['ids'], 0, slotLimit),
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

/** The live member records of every non-empty cell, in cell-slot order, in one array. */
function copyRecords(
  records: readonly Float64Array[],
  counts: Int32Array,
  members: number,
): Float64Array<ArrayBuffer> {
  const out = new Float64Array(members * RECORD_STRIDE);
  let at = 0;
  for (let c = 0; c < counts.length; c++) {
    const length = (counts[c] as number) * RECORD_STRIDE;
    if (length === 0) continue;
    const source = records[c] as Float64Array;
    if (length <= SMALL_CELL_NUMBERS) {
      for (let k = 0; k < length; k++) out[at + k] = source[k] as number;
    } else out.set(source.subarray(0, length), at);
    at += length;
  }
  return out;
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

/** Brings the receiver's lists up to date with a capture's string updates. */
export function applyCaptureStrings(dictionary: CaptureDictionary, capture: FleetCapture): void {
  applyStringUpdates(dictionary.ids, capture.ids);
  applyStringUpdates(dictionary.cells, capture.cells);
  applyStringUpdates(dictionary.clinics, capture.clinics);
}

/**
 * The snapshot columns of a capture. `dictionary` must hold every string update handed out with this capture and
 * before it (see {@link applyCaptureStrings}, which this calls for the capture's own updates).
 */
export function columnsOfCapture(capture: FleetCapture, dictionary: CaptureDictionary): FleetColumns {
  applyCaptureStrings(dictionary, capture);
  const { placed, unplaced } = capture;
  const n = placed + unplaced.ids.length;
  const f64 = (length: number): Float64Array => new Float64Array(length);
  const columns: FleetColumns = {
    resolution: capture.resolution,
    offlineAfterMs: capture.offlineAfterMs,
    placed,
    // Filled by push: `new Array(n)` of a million would be a slow dictionary-mode array.
    ids: [],
    specializations: capture.specializations,
    clinics: dictionary.clinics.slice(0, capture.clinicCount),
    status: new Uint8Array(n),
    offlineReason: new Uint8Array(n),
    statusBeforeOffline: new Uint8Array(n),
    tags: new Uint32Array(n),
    clinic: new Int32Array(n),
    rating: f64(n),
    lat: f64(placed),
    lng: f64(placed),
    heading: f64(placed),
    speed: f64(placed),
    accuracy: f64(placed),
    battery: f64(placed),
    lastFixAt: f64(placed),
    lastSeenAt: f64(placed),
    seq: f64(placed),
    cells: [],
    cell: new Int32Array(placed),
    overflow: [],
    counters: capture.counters,
  };
  const overflow = capture.overflow.length === 0 ? undefined : new Map(capture.overflow);
  // The doctor table reads its own records back: the capture holds them in its layout.
  const table = new DoctorTable();
  table['data'] = capture.doctorData;
  table['meta'] = capture.doctorMeta;
  const { records, cellCounts, tags } = capture;
  const ids = dictionary.ids;
  let i = 0;
  let at = 0;
  for (let c = 0; c < cellCounts.length; c++) {
    const count = cellCounts[c] as number;
    if (count === 0) continue;
    const code = columns.cells.length;
    columns.cells.push(dictionary.cells[c] as string);
    for (let member = 0; member < count; member++, i++, at += RECORD_STRIDE) {
      const entry = records[at + RECORD_ENTRY] as number;
      const slot = entry >>> STATUS_BITS;
      columns.status[i] = entry & STATUS_MASK;
      columns.lat[i] = records[at + RECORD_LAT] as number;
      columns.lng[i] = records[at + RECORD_LNG] as number;
      columns.cell[i] = code;
      const id = ids[slot] as string;
      columns.ids.push(id);
      columns.tags[i] = tags[slot] as number;
      table.exportRow(slot, columns, i);
      const names = overflow?.get(id);
      if (names !== undefined) columns.overflow.push([i, names]);
    }
  }
  for (let k = 0; k < unplaced.ids.length; k++, i++) {
    const id = unplaced.ids[k] as string;
    columns.ids.push(id);
    columns.status[i] = unplaced.status[k] as number;
    columns.offlineReason[i] = unplaced.offlineReason[k] as number;
    columns.statusBeforeOffline[i] = unplaced.statusBeforeOffline[k] as number;
    columns.tags[i] = unplaced.tags[k] as number;
    columns.clinic[i] = unplaced.clinic[k] as number;
    columns.rating[i] = unplaced.rating[k] as number;
    const names = overflow?.get(id);
    if (names !== undefined) columns.overflow.push([i, names]);
  }
  return columns;
}
