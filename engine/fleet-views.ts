/**
 * What the fleet hands out about a doctor: the full view (`Fleet.get`, the spatial queries) of a placed doctor, read
 * from the index and the doctor table, or of a doctor without a position, read from their record; and the short change
 * record of the live map's journal (`Fleet.drainChanged`). Each is a new object; nothing of the fleet's storage leaks.
 */
import { OFFLINE, statusName } from './fleet-checks.ts';
import { NO_CLINIC, REASON_NAMES, type UnplacedDoctor } from './fleet-doctors.ts';
import type { FleetState } from './fleet-state.ts';
import type { DoctorChange, DoctorView } from './fleet-types.ts';

/** The view of the placed doctor in `slot` (a live slot). */
export function viewAt(state: FleetState, slot: number): DoctorView {
  const { index, doctors } = state;
  const id = index.idAt(slot);
  const status = index.statusAt(slot);
  const reason = status === OFFLINE ? REASON_NAMES[doctors.offlineReason(slot)] : undefined;
  const clinic = doctors.clinic(slot);
  const lastFixAt = doctors.lastFixAt(slot);
  return {
    id,
    status: statusName(status),
    lat: index.latAt(slot),
    lng: index.lngAt(slot),
    heading: known(doctors.heading(slot)),
    speed: known(doctors.speed(slot)),
    accuracy: known(doctors.accuracy(slot)),
    battery: known(doctors.battery(slot)),
    lastFixAt: Number.isFinite(lastFixAt) ? lastFixAt : undefined,
    lastSeenAt: known(doctors.lastSeenAt(slot)),
    seq: known(doctors.seq(slot)),
    specializations: state.specializations.namesOf(id, index.tagsAt(slot)),
    clinicId: clinic === NO_CLINIC ? undefined : state.clinicIds[clinic],
    rating: known(doctors.rating(slot)),
    offlineReason: reason,
    statusBeforeOffline: reason === 'timeout' ? statusName(doctors.statusBeforeOffline(slot)) : undefined,
  };
}

/** The view of a doctor without a position. */
export function viewUnplaced(state: FleetState, id: string, doctor: UnplacedDoctor): DoctorView {
  const reason = doctor.status === OFFLINE ? REASON_NAMES[doctor.offlineReason] : undefined;
  return {
    id,
    status: statusName(doctor.status),
    specializations: state.specializations.namesOf(id, doctor.tags),
    clinicId: doctor.clinic === NO_CLINIC ? undefined : state.clinicIds[doctor.clinic],
    rating: known(doctor.rating),
    offlineReason: reason,
    statusBeforeOffline: reason === 'timeout' ? statusName(doctor.statusBeforeOffline) : undefined,
  };
}

/** The change record of the placed doctor in `slot` (a live slot). */
export function changeAt(state: FleetState, slot: number): DoctorChange {
  const index = state.index;
  const heading = state.doctors.heading(slot);
  const speed = state.doctors.speed(slot);
  // One object shape for every change (absent fields are undefined, not missing): drains stay monomorphic.
  return {
    id: index.idAt(slot),
    lat: index.latAt(slot),
    lng: index.lngAt(slot),
    status: statusName(index.statusAt(slot)),
    heading: Number.isNaN(heading) ? undefined : heading,
    speed: Number.isNaN(speed) ? undefined : speed,
  };
}

function known(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}
