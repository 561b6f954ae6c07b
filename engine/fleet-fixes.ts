/**
 * `Fleet.applyFix` (engine/fleet.ts has its promises and throws): a position fix on the hot path. A known placed doctor
 * costs one id lookup, an index move (usually without an H3 computation) and a few stores; a doctor's first fix puts
 * them into the index, registering an unknown doctor unless the fleet rejects them.
 */
import { AVAILABLE, checkFix } from './fleet-checks.ts';
import { unplacedDoctor } from './fleet-doctors.ts';
import type { FleetState } from './fleet-state.ts';
import { afterFixApplied } from './fleet-status.ts';
import type { Fix, FixOutcome } from './fleet-types.ts';

/** `Fleet.applyFix`. */
export function applyFix(state: FleetState, fix: Fix, now: number): FixOutcome {
  checkFix(fix);
  const id = fix.doctorId;
  const doctors = state.doctors;
  let slot = state.index.slotOf(id);
  if (slot >= 0) {
    const lastTs = doctors.lastFixAt(slot);
    const lastSeq = doctors.seq(slot);
    // Same ts: only a larger seq (or a seq where the last fix had none) is newer.
    const newerSeq = fix.seq !== undefined && (Number.isNaN(lastSeq) || fix.seq > lastSeq);
    if (fix.ts < lastTs || (fix.ts === lastTs && !newerSeq)) {
      state.counters.fixesStale++;
      return 'stale';
    }
    state.index.moveAt(slot, fix.lat, fix.lng, now);
  } else {
    let doctor = state.unplaced.delete(id);
    if (doctor === undefined) {
      if (state.rejectUnknown) {
        state.counters.fixesUnknownDoctor++;
        return 'unknown_doctor';
      }
      doctor = unplacedDoctor(AVAILABLE);
      state.counters.autoRegistered++;
      state.emit({ type: 'DoctorAutoRegistered', doctorId: id, at: now });
    }
    slot = state.place(id, fix.lat, fix.lng, doctor, now);
  }
  doctors.writeFix(slot, fix, now);
  state.changes.mark(slot);
  state.counters.fixesApplied++;
  afterFixApplied(state, id, slot, now);
  return 'applied';
}
