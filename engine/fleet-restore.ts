/**
 * The fleet's side of its snapshot (the format is engine/fleet-snapshot.ts): the parts handed to the capture
 * (engine/fleet-capture.ts) and the rebuild of a fleet from decoded columns (`Fleet.fromSnapshot`, engine/fleet.ts).
 * A restore of a million doctors allocates no per-doctor objects beyond the index's own, and sizes each cell once.
 */
import { TotError } from '../geo/errors.ts';
import { AVAILABLE, OFFLINE } from './fleet-checks.ts';
import type { FleetParts } from './fleet-capture.ts';
import { NO_CLINIC, REASON_NAMES, unplacedDoctor } from './fleet-doctors.ts';
import type { FleetColumns } from './fleet-snapshot.ts';
import { COUNTER_NAMES, type FleetState } from './fleet-state.ts';
import { DOCTOR_STATUSES, type FleetOptions } from './fleet-types.ts';

function snapshotError(message: string): TotError {
  return new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: ${message}`);
}

/** What the snapshot capture reads of the fleet: its own parts (live), read only. */
export function snapshotParts(state: FleetState): FleetParts {
  return {
    index: state.index,
    doctors: state.doctors,
    unplaced: state.unplaced.byId,
    specializations: state.specializations,
    clinicIds: state.clinicIds,
    counters: state.counters,
    offlineAfterMs: state.offlineAfterMs,
  };
}

/** The options of a fleet rebuilt from `columns`: the snapshot's resolution and offline delay unless `options` set them. */
export function restoredOptions(columns: FleetColumns, options: FleetOptions): FleetOptions {
  return {
    resolution: columns.resolution,
    offlineAfterMs: columns.offlineAfterMs,
    ...options,
    initialCapacity: Math.max(1, options.initialCapacity ?? columns.placed),
  };
}

/**
 * Fills a new, empty fleet with the doctors of `columns`; offline timers restart from each doctor's lastSeenAt.
 * @throws TotError `ENGINE_INVALID_SNAPSHOT` for a status, reason or fix time that is not valid, or an empty or
 * repeated id; any error of the index (a bad coordinate) as it is thrown.
 */
export function restoreColumns(state: FleetState, columns: FleetColumns): void {
  const { index, unplaced } = state;
  state.specializations.restoreTaggedNames(columns.specializations);
  const clinicCodes = columns.clinics.map((clinicId) => state.clinicCode(clinicId));
  // Size each cell once: doctors of a cell arrive spread over the snapshot.
  const perCell = new Int32Array(columns.cells.length);
  for (const c of columns.cell) if (c >= 0) perCell[c] = (perCell[c] as number) + 1;
  columns.cells.forEach((cell, c) => index.reserveCell(cell, perCell[c] as number));
  // One record reused for every placed doctor: a restore of a million doctors allocates no per-doctor objects.
  const scratch = unplacedDoctor(AVAILABLE);
  for (let i = 0; i < columns.ids.length; i++) {
    const id = columns.ids[i] as string;
    const status = columns.status[i] as number;
    const statusBefore = columns.statusBeforeOffline[i] as number;
    const reason = columns.offlineReason[i] as number;
    if (
      status >= DOCTOR_STATUSES.length ||
      statusBefore >= DOCTOR_STATUSES.length ||
      reason >= REASON_NAMES.length
    ) {
      throw snapshotError(`status of doctor ${JSON.stringify(id)} is not a known code`);
    }
    const clinicIndex = columns.clinic[i] as number;
    const placed = i < columns.placed;
    const doctor = placed ? scratch : unplacedDoctor(status);
    doctor.status = status;
    doctor.offlineReason = reason;
    doctor.statusBeforeOffline = statusBefore;
    doctor.tags = columns.tags[i] as number;
    doctor.clinic = clinicIndex < 0 ? NO_CLINIC : (clinicCodes[clinicIndex] as number);
    doctor.rating = columns.rating[i] as number;
    if (!placed) {
      if (id === '' || index.slotOf(id) >= 0 || unplaced.has(id)) {
        throw snapshotError(`doctor id ${JSON.stringify(id)} is empty or repeated`);
      }
      unplaced.add(id, doctor);
      continue;
    }
    const lastSeenAt = columns.lastSeenAt[i] as number;
    if (!Number.isFinite(lastSeenAt) || Number.isNaN(columns.lastFixAt[i] as number)) {
      throw snapshotError(`fix times of doctor ${JSON.stringify(id)} are not numbers`);
    }
    const cellIndex = columns.cell[i] as number;
    const hint = cellIndex < 0 ? undefined : columns.cells[cellIndex];
    const sizeBefore = index.size;
    const slot = state.place(
      id,
      columns.lat[i] as number,
      columns.lng[i] as number,
      doctor,
      lastSeenAt,
      hint,
    );
    // An id seen before moved its point instead of adding one (an empty id throws in the index).
    if (index.size === sizeBefore) throw snapshotError(`doctor id ${JSON.stringify(id)} is repeated`);
    state.doctors.restoreFix(slot, columns, i);
    if (status !== OFFLINE) state.offlineQueue.schedule(slot, lastSeenAt + state.offlineAfterMs);
  }
  for (const [i, names] of columns.overflow)
    state.specializations.setOverflow(columns.ids[i] as string, names);
  for (const name of COUNTER_NAMES) state.counters[name] = columns.counters[name] ?? 0;
}
