/**
 * Doctors joining and leaving the fleet: `Fleet.register` and `Fleet.remove` (engine/fleet.ts), and the doctors known
 * without a position yet ({@link UnplacedDoctors}), who stay out of the spatial index until their first fix.
 */
import { AVAILABLE, OFFLINE, checkProfile, checkTransition, statusName } from './fleet-checks.ts';
import { REASON_NONE, REASON_OFF_DUTY, type UnplacedDoctor, unplacedDoctor } from './fleet-doctors.ts';
import type { FleetState } from './fleet-state.ts';
import { setStatus } from './fleet-status.ts';
import { DOCTOR_STATUSES, type DoctorProfile } from './fleet-types.ts';

/** Doctors without a position, by id in the order they were added, with a count per status code. */
export class UnplacedDoctors {
  private readonly doctors = new Map<string, UnplacedDoctor>();
  private readonly countByStatus = new Int32Array(DOCTOR_STATUSES.length);

  /** Number of doctors without a position. */
  get size(): number {
    return this.doctors.size;
  }

  /** The doctors by id, in the order they were added; live, read only for the caller. */
  get byId(): ReadonlyMap<string, UnplacedDoctor> {
    return this.doctors;
  }

  /** Whether a doctor without a position has this id. */
  has(id: string): boolean {
    return this.doctors.has(id);
  }

  /** The record of a doctor without a position (live, owned by this table), or undefined. */
  get(id: string): UnplacedDoctor | undefined {
    return this.doctors.get(id);
  }

  /** Adds a doctor not held yet (the caller checks). */
  add(id: string, doctor: UnplacedDoctor): void {
    this.doctors.set(id, doctor);
    this.count(doctor.status, 1);
  }

  /** Takes a doctor out (placed or forgotten); returns the record, or undefined when the id is not held. */
  delete(id: string): UnplacedDoctor | undefined {
    const doctor = this.doctors.get(id);
    if (doctor === undefined) return undefined;
    this.count(doctor.status, -1);
    this.doctors.delete(id);
    return doctor;
  }

  /** Sets the status code of a doctor held here, keeping the counts. */
  setStatus(doctor: UnplacedDoctor, status: number): void {
    this.count(doctor.status, -1);
    this.count(status, 1);
    doctor.status = status;
  }

  /** Number of doctors without a position with a status code. */
  countWithStatus(status: number): number {
    return this.countByStatus[status] as number;
  }

  private count(status: number, delta: number): void {
    this.countByStatus[status] = (this.countByStatus[status] as number) + delta;
  }
}

/** `Fleet.register` (engine/fleet.ts has the promises and throws). */
export function register(state: FleetState, profile: DoctorProfile, now: number): boolean {
  const status = checkProfile(profile);
  const id = profile.id;
  const { index, unplaced } = state;
  const known = index.slotOf(id) >= 0 || unplaced.has(id);
  if (known && status !== undefined) checkTransition(id, state.statusCodeOf(id), status);
  if (!known) {
    unplaced.add(id, unplacedDoctor(status ?? AVAILABLE, status === OFFLINE ? REASON_OFF_DUTY : REASON_NONE));
  }
  const slot = index.slotOf(id);
  const doctor = slot >= 0 ? undefined : (unplaced.get(id) as UnplacedDoctor);
  if (profile.specializations !== undefined) {
    const tags = state.specializations.assign(id, profile.specializations);
    if (doctor === undefined) index.setTagsAt(slot, tags);
    else doctor.tags = tags;
  }
  if (profile.clinicId !== undefined) {
    const clinic = state.clinicCode(profile.clinicId);
    if (doctor === undefined) state.doctors.setClinic(slot, clinic);
    else doctor.clinic = clinic;
  }
  if (profile.rating !== undefined) {
    if (doctor === undefined) state.doctors.setRating(slot, profile.rating);
    else doctor.rating = profile.rating;
  }
  if (known && status !== undefined) setStatus(state, id, statusName(status), now, 'profile');
  return !known;
}

/** `Fleet.remove` (engine/fleet.ts has the promises). */
export function remove(state: FleetState, id: string): boolean {
  const slot = state.index.slotOf(id);
  state.specializations.forget(id);
  if (slot >= 0) {
    state.offlineQueue.cancel(slot);
    state.index.remove(id);
    state.changes.markRemoved(id);
    return true;
  }
  return state.unplaced.delete(id) !== undefined;
}
