/**
 * Keeps the fleet's doctor statuses in step with the bookings: a doctor holding a booking has the status that booking
 * implies (offered, assigned, en_route, on_site), a doctor holding none is available. The fleet only allows the moves
 * of its transition table, so a change walks the shortest path through it (available → assigned goes through
 * offered). A doctor who is offline or not in the fleet (yet) cannot be moved: they are remembered and put in step at
 * a later tick, once they are back.
 */
import { DOCTOR_STATUS_TRANSITIONS, type DoctorStatus } from '../engine/fleet-types.ts';
import type { Logger } from '../engine/logger.ts';
import { TotError } from '../geo/errors.ts';
import type { ActiveBookings } from './active-bookings.ts';
import { doctorStatusFor } from './booking-lifecycle.ts';
import type { LiveState } from './candidates.ts';

/** Statuses only the dispatcher gives: a doctor in one of them who holds no booking is put back to available. */
const DISPATCH_STATUSES: readonly DoctorStatus[] = ['offered', 'assigned', 'en_route', 'on_site'];

/**
 * The shortest path of fleet statuses from `from` to `to` (excluding `from`) that never passes through offline, or
 * undefined when there is none. Empty when they are equal.
 */
export function statusPath(from: DoctorStatus, to: DoctorStatus): DoctorStatus[] | undefined {
  if (from === to) return [];
  const previous = new Map<DoctorStatus, DoctorStatus>([[from, from]]);
  const queue: DoctorStatus[] = [from];
  while (queue.length > 0) {
    const current = queue.shift() as DoctorStatus;
    for (const next of DOCTOR_STATUS_TRANSITIONS[current]) {
      if (next === 'offline' || previous.has(next)) continue;
      previous.set(next, current);
      if (next === to) {
        const path: DoctorStatus[] = [];
        for (let at: DoctorStatus = to; at !== from; at = previous.get(at) as DoctorStatus) path.unshift(at);
        return path;
      }
      queue.push(next);
    }
  }
  return undefined;
}

/** Puts doctors' fleet statuses in step with the bookings. */
export class DoctorSync {
  /** Doctors who could not be put in step (offline, unknown) and are tried again. */
  private readonly pending = new Set<string>();

  constructor(
    private readonly live: LiveState,
    private readonly bookings: ActiveBookings,
    private readonly logger: Logger,
  ) {}

  /** Doctors waiting to be put in step. */
  get waiting(): number {
    return this.pending.size;
  }

  /** The status the bookings imply for the doctor. */
  desired(doctorId: string): DoctorStatus {
    const holder = this.bookings.holderOf(doctorId);
    return (holder && doctorStatusFor(holder.status)) ?? 'available';
  }

  /**
   * Moves the doctor to {@link desired} at time `now`; returns whether they are in step now. A doctor off duty or
   * offline on timeout, or unknown to the fleet, is kept for {@link retry}. A doctor off duty who holds no booking is
   * in step (off duty wins over available).
   */
  sync(doctorId: string, now: number): boolean {
    const fleet = this.live.fleet;
    const view = fleet.get(doctorId);
    const desired = this.desired(doctorId);
    if (view === undefined) {
      this.pending.add(doctorId);
      return false;
    }
    if (view.status === 'offline') {
      // Off duty and free is a settled state; anything else waits for the doctor to come back.
      const settled =
        desired === 'available' &&
        (view.offlineReason === 'off_duty' ||
          !DISPATCH_STATUSES.includes(view.statusBeforeOffline ?? 'available'));
      if (settled) this.pending.delete(doctorId);
      else this.pending.add(doctorId);
      return settled;
    }
    const path = statusPath(view.status, desired);
    try {
      for (const status of path ?? []) fleet.setStatus(doctorId, status, now, 'dispatch');
    } catch (error) {
      if (!(error instanceof TotError)) throw error;
      this.logger.warn({ err: error, doctorId, desired }, 'doctor status not put in step with the bookings');
      this.pending.add(doctorId);
      return false;
    }
    this.pending.delete(doctorId);
    return true;
  }

  /** Tries the doctors left out of step again. */
  retry(now: number): void {
    for (const doctorId of [...this.pending]) this.sync(doctorId, now);
  }

  /**
   * Puts every held doctor in step, and sends back to available every doctor in a dispatch status who holds no
   * booking (a fleet restored from a snapshot older than the store still shows visits that have ended since).
   * Returns how many doctors it changed or queued.
   */
  syncAll(now: number): number {
    let touched = 0;
    for (const [doctorId] of this.bookings.holdings()) {
      this.sync(doctorId, now);
      touched++;
    }
    const fleet = this.live.fleet;
    const inDispatch = DISPATCH_STATUSES.reduce((sum, status) => sum + fleet.countByStatus(status), 0);
    if (inDispatch === 0) return touched;
    for (const doctorId of fleet.ids()) {
      const status = fleet.statusOf(doctorId);
      if (status === undefined || !DISPATCH_STATUSES.includes(status) || this.bookings.holderOf(doctorId))
        continue;
      this.sync(doctorId, now);
      touched++;
    }
    return touched;
  }
}
