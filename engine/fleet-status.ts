/**
 * A doctor's status along its lifecycle and the offline timer: `Fleet.setStatus`, `Fleet.setDuty` and
 * `Fleet.sweepOffline` (engine/fleet.ts has their promises and throws), and a fix's return from an offline timeout.
 * The timer itself is engine/fleet-offline-queue.ts; a placed doctor's offline reason and status before going offline
 * live in the doctor table, an unplaced doctor's in their record.
 */
import { OFFLINE, checkTransition, statusCode, statusName } from './fleet-checks.ts';
import { REASON_NONE, REASON_OFF_DUTY, REASON_TIMEOUT, type UnplacedDoctor } from './fleet-doctors.ts';
import type { FleetState } from './fleet-state.ts';
import type { DoctorStatus, DoctorStatusChanged, DoctorWentOffline } from './fleet-types.ts';

/** `Fleet.setStatus`. */
export function setStatus(
  state: FleetState,
  id: string,
  status: DoctorStatus,
  now: number,
  reason?: string,
): boolean {
  const { index, doctors } = state;
  const to = statusCode(status);
  const from = state.statusCodeOf(id);
  const slot = index.slotOf(id);
  if (from === to) {
    if (to === OFFLINE) {
      if (slot >= 0) doctors.setOffline(slot, REASON_OFF_DUTY, doctors.statusBeforeOffline(slot));
      else (state.unplaced.get(id) as UnplacedDoctor).offlineReason = REASON_OFF_DUTY;
    }
    return false;
  }
  checkTransition(id, from, to);
  if (slot >= 0) {
    index.setStatusAt(slot, to);
    state.changes.mark(slot);
    if (to === OFFLINE) {
      doctors.setOffline(slot, REASON_OFF_DUTY, from);
      state.offlineQueue.cancel(slot);
    } else if (from === OFFLINE) {
      doctors.setOffline(slot, REASON_NONE, to);
      doctors.setLastSeenAt(slot, now);
      state.offlineQueue.schedule(slot, now + state.offlineAfterMs);
    }
  } else {
    const doctor = state.unplaced.get(id) as UnplacedDoctor;
    state.unplaced.setStatus(doctor, to);
    doctor.offlineReason = to === OFFLINE ? REASON_OFF_DUTY : REASON_NONE;
    if (to === OFFLINE) doctor.statusBeforeOffline = from;
  }
  state.counters.statusChanges++;
  if (to === OFFLINE) state.notifyWentOffline(id);
  const event: DoctorStatusChanged = {
    type: 'DoctorStatusChanged',
    doctorId: id,
    at: now,
    from: statusName(from),
    to: status,
  };
  if (reason !== undefined) event.reason = reason;
  state.emit(event);
  return true;
}

/** `Fleet.setDuty`. */
export function setDuty(state: FleetState, id: string, onDuty: boolean, now: number): boolean {
  const current = state.statusCodeOf(id);
  if (onDuty) return current === OFFLINE ? setStatus(state, id, 'available', now, 'on_duty') : false;
  return setStatus(state, id, 'offline', now, 'off_duty');
}

/**
 * After an applied fix: a placed doctor offline on timeout gets the status they had before it back (event
 * DoctorBackOnline) and, unless off duty, the offline timer restarts from `now`.
 */
export function afterFixApplied(state: FleetState, id: string, slot: number, now: number): void {
  const { index, doctors } = state;
  if (index.statusAt(slot) === OFFLINE) {
    if (doctors.offlineReason(slot) !== REASON_TIMEOUT) return;
    const restored = doctors.statusBeforeOffline(slot);
    index.setStatusAt(slot, restored);
    doctors.setOffline(slot, REASON_NONE, restored);
    state.counters.backOnline++;
    state.emit({ type: 'DoctorBackOnline', doctorId: id, at: now, status: statusName(restored) });
  }
  state.offlineQueue.schedule(slot, now + state.offlineAfterMs);
}

/** `Fleet.sweepOffline`. */
export function sweepOffline(state: FleetState, now: number): DoctorWentOffline[] {
  const wentOffline: DoctorWentOffline[] = [];
  const { index, doctors } = state;
  state.offlineQueue.due(now, (slot) => {
    if (!index.isLive(slot) || index.statusAt(slot) === OFFLINE) return Number.NaN;
    const deadline = doctors.lastSeenAt(slot) + state.offlineAfterMs;
    if (deadline > now) return deadline;
    const previous = index.statusAt(slot);
    index.setStatusAt(slot, OFFLINE);
    state.changes.mark(slot);
    doctors.setOffline(slot, REASON_TIMEOUT, previous);
    state.counters.offlineTimeouts++;
    state.notifyWentOffline(index.idAt(slot));
    wentOffline.push({
      type: 'DoctorWentOffline',
      doctorId: index.idAt(slot),
      at: now,
      lastFixAt: doctors.lastFixAt(slot),
      lastSeenAt: doctors.lastSeenAt(slot),
      previousStatus: statusName(previous),
      reason: 'timeout',
    });
    return Number.NaN;
  });
  return wentOffline;
}
