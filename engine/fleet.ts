/**
 * The live state of the doctors: profile, last fix, status with its lifecycle, and the spatial index the matcher and
 * the map query. Built on geo/fleet-index.ts: a placed doctor's data lives in typed arrays indexed by the index's
 * slot (engine/fleet-doctors.ts), so a fix costs one id lookup, an index move (usually without an H3 computation)
 * and a few stores.
 *
 * `Fleet` is the facade: its parts are one FleetState (engine/fleet-state.ts) and its methods are implemented by
 * concern in engine/fleet-registration.ts (register, remove, doctors without a position), engine/fleet-fixes.ts
 * (fixes), engine/fleet-status.ts (status changes, the offline timer and sweep), engine/fleet-queries.ts and
 * engine/fleet-views.ts (reads, spatial queries, doctor views) and engine/fleet-restore.ts (snapshot and restore).
 *
 * Time is an argument (`now`, ms since the epoch); nothing here reads a clock or does I/O.
 */
import { TotError } from '../geo/errors.ts';
import type { AreaInput } from '../geo/fleet-index.ts';
import type { H3Cell } from '../geo/h3.ts';
import { FleetSnapshotSource } from './fleet-capture.ts';
import { columnsOfCapture } from './fleet-columns.ts';
import { applyFix } from './fleet-fixes.ts';
import {
  countByStatus,
  countsByCell,
  doctorIds,
  doctorView,
  fleetStats,
  nearby,
  nearbyBrief,
  nearbyInto,
  type NearbyColumns,
  positionOf,
  statusOf,
  within,
} from './fleet-queries.ts';
import { register, remove } from './fleet-registration.ts';
import { restoreColumns, restoredOptions, snapshotParts } from './fleet-restore.ts';
import { decodeFleetSnapshot, encodeFleetSnapshot } from './fleet-snapshot.ts';
import { FleetState } from './fleet-state.ts';
import { setDuty, setStatus, sweepOffline } from './fleet-status.ts';
import type {
  BriefHit,
  DoctorChange,
  DoctorFilter,
  DoctorProfile,
  DoctorStatus,
  DoctorView,
  DoctorWentOffline,
  Fix,
  FixOutcome,
  FleetChanges,
  FleetEvent,
  FleetHit,
  FleetNearbyOptions,
  FleetOptions,
  FleetStats,
} from './fleet-types.ts';
import { changeAt } from './fleet-views.ts';
import { CaptureDictionary, CaptureMirrors } from './snapshot-strings.ts';

export * from './fleet-types.ts';
export { NearbyColumns } from './fleet-queries.ts';
export { COUNTER_NAMES } from './fleet-state.ts';

/** The fleet. One owner mutates it (the engine's event loop); queries return copies. */
export class Fleet {
  /** Silence after which a doctor goes offline, ms. */
  readonly offlineAfterMs: number;
  private readonly state: FleetState;

  /** @throws TotError `ENGINE_INVALID_ARGUMENT` for a bad option; `GEO_INVALID_RESOLUTION` for a bad resolution. */
  constructor(options: FleetOptions = {}) {
    this.state = new FleetState(options);
    this.offlineAfterMs = this.state.offlineAfterMs;
  }

  /** H3 resolution of the spatial index. */
  get resolution(): number {
    return this.state.index.resolution;
  }

  /** Number of doctors (with or without a position). */
  get size(): number {
    return this.state.index.size + this.state.unplaced.size;
  }

  /**
   * Adds a doctor or updates a known doctor's profile. Fields left out keep their value (a new doctor: no
   * specializations, no clinic, no rating, status available). A new doctor has no position, and so is not found by
   * spatial queries, until the first fix. For a known doctor, `status` (if it differs) goes through
   * {@link setStatus}. Returns whether the doctor was created.
   * @throws TotError `ENGINE_INVALID_ARGUMENT` for a bad id or field; `ENGINE_INVALID_TRANSITION` for a status
   * change the table forbids. Nothing changes on a throw.
   */
  register(profile: DoctorProfile, now: number): boolean {
    return register(this.state, profile, now);
  }

  /** Forgets a doctor (profile, position, timers). Returns whether the doctor was known. Emits nothing. */
  remove(id: string): boolean {
    return remove(this.state, id);
  }

  /**
   * Applies a fix. Idempotent: a fix older than the doctor's last one (by `ts`, then by `seq` when `ts` is equal)
   * is `stale` and changes nothing; replaying a fix gives `stale`. An applied fix sets the position and replaces
   * every optional field (absent ⇒ unknown), restarts the offline timer from `now`, and brings a doctor offline on
   * timeout back to their previous status (event DoctorBackOnline). A doctor off duty keeps `offline` but the
   * position is updated. An unknown doctor is auto-registered (event DoctorAutoRegistered) or, with
   * `unknownDoctors: 'reject'`, the fix is counted and dropped (`unknown_doctor`).
   * @throws TotError `ENGINE_INVALID_FIX` naming the bad field; nothing changes.
   */
  applyFix(fix: Fix, now: number): FixOutcome {
    return applyFix(this.state, fix, now);
  }

  /**
   * Changes a doctor's status along {@link DOCTOR_STATUS_TRANSITIONS}; returns false (and emits nothing) when the
   * doctor already has that status — except that setting `offline` on a doctor offline on timeout makes them off
   * duty. Going offline this way is off duty (no automatic return); offline → available restarts the offline timer
   * from `now`, the on-duty signal counting as a sign of life. Emits DoctorStatusChanged with `reason`.
   * @throws TotError `ENGINE_DOCTOR_NOT_FOUND`; `ENGINE_INVALID_ARGUMENT` for an unknown status name;
   * `ENGINE_INVALID_TRANSITION` for a change the table forbids. Nothing changes on a throw.
   */
  setStatus(id: string, status: DoctorStatus, now: number, reason?: string): boolean {
    return setStatus(this.state, id, status, now, reason);
  }

  /**
   * Goes on duty (offline → available; no change for a doctor already on duty) or off duty (any → offline).
   * @throws TotError `ENGINE_DOCTOR_NOT_FOUND`.
   */
  setDuty(id: string, onDuty: boolean, now: number): boolean {
    return setDuty(this.state, id, onDuty, now);
  }

  /**
   * Sends every doctor silent for at least `offlineAfterMs` (now − last sign of life) offline on timeout and
   * returns the events. Cost: the doctors whose deadline bucket has come (engine/fleet-offline-queue.ts), not the
   * fleet. These events are returned only, not repeated by {@link drainEvents}.
   */
  sweepOffline(now: number): DoctorWentOffline[] {
    return sweepOffline(this.state, now);
  }

  /**
   * Calls `listener` with the id of every doctor going offline from now on, off duty or on timeout, as it happens
   * (before the event is drained); returns the unsubscribe function. For whoever must react to a doctor gone without
   * reading every doctor to find them.
   */
  onWentOffline(listener: (doctorId: string) => void): () => void {
    const listeners = this.state.offlineListeners;
    listeners.push(listener);
    return () => {
      const at = listeners.indexOf(listener);
      if (at >= 0) listeners.splice(at, 1);
    };
  }

  /** Takes the events emitted since the last call (status changes, back online, auto-registrations). */
  drainEvents(): FleetEvent[] {
    return this.state.drainEvents();
  }

  /**
   * Takes what changed since the last call: every placed doctor whose position or status changed (once each, with
   * the current state), and the ids forgotten. Costs the doctors that changed, not the fleet. A fleet rebuilt from a
   * snapshot starts with an empty journal: a reader that finds a new Fleet object starts over from a full read.
   */
  drainChanged(): FleetChanges {
    const state = this.state;
    const changed: DoctorChange[] = [];
    const removed = state.changes.drain((slot) => {
      if (state.index.isLive(slot)) changed.push(changeAt(state, slot));
    });
    return { changed, removed };
  }

  /** A doctor's current state, or undefined. */
  get(id: string): DoctorView | undefined {
    return doctorView(this.state, id);
  }

  /** A doctor's last position, or undefined for an unknown id or a doctor without one: {@link get}'s lat/lng alone. */
  positionOf(id: string): { lat: number; lng: number } | undefined {
    return positionOf(this.state, id);
  }

  /** A doctor's status, or undefined for an unknown id: {@link get} without building the view (for hot loops). */
  statusOf(id: string): DoctorStatus | undefined {
    return statusOf(this.state, id);
  }

  /** Ids of every doctor, placed ones first (in slot order), then those without a position. */
  ids(): string[] {
    return doctorIds(this.state);
  }

  /** Number of doctors with a status. @throws TotError `ENGINE_INVALID_ARGUMENT` for an unknown status name. */
  countByStatus(status: DoctorStatus): number {
    return countByStatus(this.state, status);
  }

  /**
   * The k doctors nearest to (lat, lng) among those matching the filter, by haversine distance (ties by id), within
   * `maxKm` if given. Exact (see geo/fleet-index.ts).
   * @throws TotError `GEO_INVALID_COORDINATE`, `GEO_INVALID_ARGUMENT` (k, maxKm); `ENGINE_INVALID_ARGUMENT` for an
   * unknown status name.
   */
  nearby(lat: number, lng: number, options: FleetNearbyOptions): FleetHit[] {
    return nearby(this.state, lat, lng, options);
  }

  /**
   * {@link nearby}'s doctors in brief — id, position, rating — for loops that need no more (the matcher's candidates,
   * coverage and quotes): no view, no list of specialization names per doctor. Same order and throws.
   */
  nearbyBrief(lat: number, lng: number, options: FleetNearbyOptions): BriefHit[] {
    return nearbyBrief(this.state, lat, lng, options);
  }

  /**
   * {@link nearbyBrief}'s ids, positions and distances written into `into`'s columns (nearest first, overwriting the
   * last answer): no object per doctor. Returns the number of hits. Same order and throws.
   */
  nearbyInto(lat: number, lng: number, options: FleetNearbyOptions, into: NearbyColumns): number {
    return nearbyInto(this.state, lat, lng, options, into);
  }

  /**
   * Doctors inside a GeoJSON Polygon/MultiPolygon matching the filter, sorted by id.
   * @throws TotError `GEO_INVALID_POLYGON`; `ENGINE_INVALID_ARGUMENT` for an unknown status name.
   */
  within(area: AreaInput, filter: DoctorFilter = {}): DoctorView[] {
    return within(this.state, area, filter);
  }

  /**
   * Placed doctors matching the filter per H3 cell at a resolution no finer than the index's (the map at low zoom).
   * @throws TotError `GEO_INVALID_RESOLUTION`; `ENGINE_INVALID_ARGUMENT` for an unknown status name.
   */
  countsByCell(res: number, filter: DoctorFilter = {}): Map<H3Cell, number> {
    return countsByCell(this.state, res, filter);
  }

  /** Counters and index costs since construction (the fleet's own counters survive a snapshot round trip). */
  stats(): FleetStats {
    return fleetStats(this.state);
  }

  /**
   * The whole state as snapshot bytes (see engine/fleet-snapshot.ts), encoded in the calling thread. Pending events
   * are not included. The engine's periodic snapshot copies the state with {@link snapshotSource} instead and encodes
   * it in a worker (engine/snapshot-encoder.ts).
   */
  toSnapshot(): Uint8Array {
    const capture = this.snapshotSource().capture(new CaptureMirrors());
    return encodeFleetSnapshot(columnsOfCapture(capture, new CaptureDictionary()));
  }

  /** Copies of the state for a snapshot (engine/fleet-capture.ts); valid until the fleet changes. */
  snapshotSource(): FleetSnapshotSource {
    return new FleetSnapshotSource(snapshotParts(this.state));
  }

  /**
   * Rebuilds a fleet from {@link toSnapshot} bytes. `options` configure the new fleet as for the constructor; the
   * resolution and offline delay default to the snapshot's. Offline timers restart from each doctor's lastSeenAt.
   * @throws TotError `ENGINE_INVALID_SNAPSHOT` for bytes that are not a valid fleet snapshot (including bad
   * coordinates, statuses or duplicate ids inside it).
   */
  static fromSnapshot(bytes: Uint8Array, options: FleetOptions = {}): Fleet {
    const columns = decodeFleetSnapshot(bytes);
    try {
      const fleet = new Fleet(restoredOptions(columns, options));
      restoreColumns(fleet.state, columns);
      return fleet;
    } catch (error) {
      if (error instanceof TotError && error.code === 'ENGINE_INVALID_SNAPSHOT') throw error;
      throw new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: ${(error as Error).message}`, {
        cause: error instanceof TotError ? error.code : undefined,
      });
    }
  }
}
