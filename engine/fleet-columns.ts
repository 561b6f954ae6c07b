/**
 * Step 2 of the fleet's snapshot (step 1 is engine/fleet-capture.ts): a capture turned into the snapshot's columns
 * (engine/fleet-snapshot.ts), in the order the format has always had — placed doctors grouped by cell, in cell-slot
 * order, then the doctors without a position in the fleet's map order. It reads nothing of the fleet, so it runs
 * wherever the capture was sent: the snapshot worker (engine/snapshot-worker.ts), while fixes keep arriving.
 *
 * The doctor records are read back through DoctorTable's own `exportRow`, the capture holding them in the table's
 * layout; the cell records through geo/fleet-index-cells.ts's constants.
 */
import * as cellLayout from '../geo/fleet-index-cells.ts';
import type { FleetCapture } from './fleet-capture.ts';
import { DoctorTable } from './fleet-doctors.ts';
import type { FleetColumns } from './fleet-snapshot.ts';
import { type CaptureDictionary, applyStringUpdates } from './snapshot-strings.ts';

// The cell record layout as local constants: the worker, started under tsx, loads these files as CommonJS, where an
// imported binding is read through a getter at every use; local copies keep those calls out of the per-doctor loop.
const RECORD_STRIDE = cellLayout.RECORD_STRIDE;
const RECORD_LAT = cellLayout.RECORD_LAT;
const RECORD_LNG = cellLayout.RECORD_LNG;
const RECORD_ENTRY = cellLayout.RECORD_ENTRY;
const STATUS_BITS = cellLayout.STATUS_BITS;
const STATUS_MASK = cellLayout.STATUS_MASK;

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
  const table = DoctorTable.over(capture.doctorData, capture.doctorMeta);
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
