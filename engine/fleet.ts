/**
 * The live state of the doctors: profile, last fix, status with its lifecycle, and the spatial index the matcher and
 * the map query. Built on geo/fleet-index.ts: a placed doctor's data lives in typed arrays indexed by the index's
 * slot (engine/fleet-doctors.ts), so a fix costs one id lookup, an index move (usually without an H3 computation)
 * and a few stores.
 *
 * Time is an argument (`now`, ms since the epoch); nothing here reads a clock or does I/O.
 */
import { TotError } from '../geo/errors.ts';
import {
  ALL_STATUSES,
  FleetIndex,
  type AreaInput,
  type NearbyOptions,
  type PointFilter,
} from '../geo/fleet-index.ts';
import type { H3Cell } from '../geo/h3.ts';
import {
  AVAILABLE,
  OFFLINE,
  checkFix,
  checkProfile,
  checkTransition,
  invalidArgument,
  statusCode,
  statusName,
} from './fleet-checks.ts';
import {
  DoctorTable,
  NO_CLINIC,
  REASON_NAMES,
  REASON_NONE,
  REASON_OFF_DUTY,
  REASON_TIMEOUT,
  type UnplacedDoctor,
  unplacedDoctor,
} from './fleet-doctors.ts';
import { FleetSnapshotSource } from './fleet-capture.ts';
import { columnsOfCapture } from './fleet-columns.ts';
import { ChangeJournal } from './fleet-changes.ts';
import { OfflineQueue } from './fleet-offline-queue.ts';
import { type FleetColumns, decodeFleetSnapshot, encodeFleetSnapshot } from './fleet-snapshot.ts';
import { SpecializationRegistry } from './fleet-specializations.ts';
import { CaptureDictionary, CaptureMirrors } from './snapshot-strings.ts';
import {
  DEFAULT_OFFLINE_AFTER_MS,
  DOCTOR_STATUSES,
  type DoctorFilter,
  type DoctorProfile,
  type DoctorStatus,
  type DoctorStatusChanged,
  type DoctorChange,
  type DoctorView,
  type DoctorWentOffline,
  type Fix,
  type FixOutcome,
  type FleetChanges,
  type FleetEvent,
  type FleetHit,
  type FleetNearbyOptions,
  type FleetOptions,
  type FleetStats,
} from './fleet-types.ts';

export * from './fleet-types.ts';

/** The fleet's counters (stats() and the snapshot keep each of them). */
export const COUNTER_NAMES = [
  'fixesApplied',
  'fixesStale',
  'fixesUnknownDoctor',
  'autoRegistered',
  'offlineTimeouts',
  'backOnline',
  'statusChanges',
  'eventsDropped',
] as const;
type CounterName = (typeof COUNTER_NAMES)[number];

function snapshotError(message: string): TotError {
  return new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: ${message}`);
}

/** The fleet. One owner mutates it (the engine's event loop); queries return copies. */
export class Fleet {
  /** Silence after which a doctor goes offline, ms. */
  readonly offlineAfterMs: number;
  private readonly index: FleetIndex;
  private readonly doctors = new DoctorTable();
  private readonly rejectUnknown: boolean;
  private readonly maxPendingEvents: number;
  private readonly unplaced = new Map<string, UnplacedDoctor>();
  private readonly unplacedByStatus = new Int32Array(DOCTOR_STATUSES.length);
  private readonly specializations = new SpecializationRegistry();
  private readonly clinicIds: string[] = [];
  private readonly clinicCodes = new Map<string, number>();
  private readonly offlineQueue: OfflineQueue;
  private readonly changes = new ChangeJournal();
  private readonly offlineListeners: ((doctorId: string) => void)[] = [];
  private events: FleetEvent[] = [];
  private readonly counters: Record<CounterName, number> = {
    fixesApplied: 0,
    fixesStale: 0,
    fixesUnknownDoctor: 0,
    autoRegistered: 0,
    offlineTimeouts: 0,
    backOnline: 0,
    statusChanges: 0,
    eventsDropped: 0,
  };
  private capacity = 0;
  private readonly placeAttributes = { status: 0, tags: 0 };
  private scratchSlots = new Int32Array(16);
  private scratchDistances = new Float64Array(16);

  /** @throws TotError `ENGINE_INVALID_ARGUMENT` for a bad option; `GEO_INVALID_RESOLUTION` for a bad resolution. */
  constructor(options: FleetOptions = {}) {
    const offlineAfterMs = options.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS;
    if (!(Number.isFinite(offlineAfterMs) && offlineAfterMs > 0)) {
      throw invalidArgument('offlineAfterMs', 'a positive number', offlineAfterMs);
    }
    const bucketMs = options.sweepBucketMs ?? 1000;
    if (!(Number.isFinite(bucketMs) && bucketMs > 0))
      throw invalidArgument('sweepBucketMs', 'a positive number', bucketMs);
    const unknownDoctors = options.unknownDoctors ?? 'register';
    if (unknownDoctors !== 'register' && unknownDoctors !== 'reject') {
      throw invalidArgument('unknownDoctors', "'register' or 'reject'", unknownDoctors);
    }
    const maxPendingEvents = options.maxPendingEvents ?? 100_000;
    if (!(Number.isInteger(maxPendingEvents) && maxPendingEvents >= 0)) {
      throw invalidArgument('maxPendingEvents', 'a non-negative integer', maxPendingEvents);
    }
    this.offlineAfterMs = offlineAfterMs;
    this.rejectUnknown = unknownDoctors === 'reject';
    this.maxPendingEvents = maxPendingEvents;
    this.index = new FleetIndex({
      ...(options.resolution === undefined ? {} : { resolution: options.resolution }),
      ...(options.initialCapacity === undefined ? {} : { initialCapacity: options.initialCapacity }),
    });
    this.offlineQueue = new OfflineQueue(bucketMs);
    this.ensureCapacity();
  }

  /** H3 resolution of the spatial index. */
  get resolution(): number {
    return this.index.resolution;
  }

  /** Number of doctors (with or without a position). */
  get size(): number {
    return this.index.size + this.unplaced.size;
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
    const status = checkProfile(profile);
    const id = profile.id;
    const known = this.index.slotOf(id) >= 0 || this.unplaced.has(id);
    if (known && status !== undefined) checkTransition(id, this.statusCodeOf(id), status);
    if (!known) {
      const doctor = unplacedDoctor(status ?? AVAILABLE, status === OFFLINE ? REASON_OFF_DUTY : REASON_NONE);
      this.unplaced.set(id, doctor);
      this.countUnplaced(doctor.status, 1);
    }
    const slot = this.index.slotOf(id);
    const doctor = slot >= 0 ? undefined : (this.unplaced.get(id) as UnplacedDoctor);
    if (profile.specializations !== undefined) {
      const tags = this.specializations.assign(id, profile.specializations);
      if (doctor === undefined) this.index.setTagsAt(slot, tags);
      else doctor.tags = tags;
    }
    if (profile.clinicId !== undefined) {
      const clinic = this.clinicCode(profile.clinicId);
      if (doctor === undefined) this.doctors.setClinic(slot, clinic);
      else doctor.clinic = clinic;
    }
    if (profile.rating !== undefined) {
      if (doctor === undefined) this.doctors.setRating(slot, profile.rating);
      else doctor.rating = profile.rating;
    }
    if (known && status !== undefined) this.setStatus(id, statusName(status), now, 'profile');
    return !known;
  }

  /** Forgets a doctor (profile, position, timers). Returns whether the doctor was known. Emits nothing. */
  remove(id: string): boolean {
    const slot = this.index.slotOf(id);
    this.specializations.forget(id);
    if (slot >= 0) {
      this.offlineQueue.cancel(slot);
      this.index.remove(id);
      this.changes.markRemoved(id);
      return true;
    }
    const doctor = this.unplaced.get(id);
    if (doctor === undefined) return false;
    this.countUnplaced(doctor.status, -1);
    this.unplaced.delete(id);
    return true;
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
    checkFix(fix);
    const id = fix.doctorId;
    const doctors = this.doctors;
    let slot = this.index.slotOf(id);
    if (slot >= 0) {
      const lastTs = doctors.lastFixAt(slot);
      const lastSeq = doctors.seq(slot);
      // Same ts: only a larger seq (or a seq where the last fix had none) is newer.
      const newerSeq = fix.seq !== undefined && (Number.isNaN(lastSeq) || fix.seq > lastSeq);
      if (fix.ts < lastTs || (fix.ts === lastTs && !newerSeq)) {
        this.counters.fixesStale++;
        return 'stale';
      }
      this.index.moveAt(slot, fix.lat, fix.lng, now);
    } else {
      let doctor = this.unplaced.get(id);
      if (doctor === undefined) {
        if (this.rejectUnknown) {
          this.counters.fixesUnknownDoctor++;
          return 'unknown_doctor';
        }
        doctor = unplacedDoctor(AVAILABLE);
        this.counters.autoRegistered++;
        this.emit({ type: 'DoctorAutoRegistered', doctorId: id, at: now });
      } else {
        this.countUnplaced(doctor.status, -1);
        this.unplaced.delete(id);
      }
      slot = this.place(id, fix.lat, fix.lng, doctor, now);
    }
    doctors.writeFix(slot, fix, now);
    this.changes.mark(slot);
    this.counters.fixesApplied++;
    if (this.index.statusAt(slot) === OFFLINE) {
      if (doctors.offlineReason(slot) !== REASON_TIMEOUT) return 'applied';
      const restored = doctors.statusBeforeOffline(slot);
      this.index.setStatusAt(slot, restored);
      doctors.setOffline(slot, REASON_NONE, restored);
      this.counters.backOnline++;
      this.emit({ type: 'DoctorBackOnline', doctorId: id, at: now, status: statusName(restored) });
    }
    this.offlineQueue.schedule(slot, now + this.offlineAfterMs);
    return 'applied';
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
    const to = statusCode(status);
    const from = this.statusCodeOf(id);
    const slot = this.index.slotOf(id);
    if (from === to) {
      if (to === OFFLINE) {
        if (slot >= 0) this.doctors.setOffline(slot, REASON_OFF_DUTY, this.doctors.statusBeforeOffline(slot));
        else (this.unplaced.get(id) as UnplacedDoctor).offlineReason = REASON_OFF_DUTY;
      }
      return false;
    }
    checkTransition(id, from, to);
    if (slot >= 0) {
      this.index.setStatusAt(slot, to);
      this.changes.mark(slot);
      if (to === OFFLINE) {
        this.doctors.setOffline(slot, REASON_OFF_DUTY, from);
        this.offlineQueue.cancel(slot);
      } else if (from === OFFLINE) {
        this.doctors.setOffline(slot, REASON_NONE, to);
        this.doctors.setLastSeenAt(slot, now);
        this.offlineQueue.schedule(slot, now + this.offlineAfterMs);
      }
    } else {
      const doctor = this.unplaced.get(id) as UnplacedDoctor;
      this.countUnplaced(doctor.status, -1);
      this.countUnplaced(to, 1);
      doctor.status = to;
      doctor.offlineReason = to === OFFLINE ? REASON_OFF_DUTY : REASON_NONE;
      if (to === OFFLINE) doctor.statusBeforeOffline = from;
    }
    this.counters.statusChanges++;
    if (to === OFFLINE) this.wentOffline(id);
    const event: DoctorStatusChanged = {
      type: 'DoctorStatusChanged',
      doctorId: id,
      at: now,
      from: statusName(from),
      to: status,
    };
    if (reason !== undefined) event.reason = reason;
    this.emit(event);
    return true;
  }

  /**
   * Goes on duty (offline → available; no change for a doctor already on duty) or off duty (any → offline).
   * @throws TotError `ENGINE_DOCTOR_NOT_FOUND`.
   */
  setDuty(id: string, onDuty: boolean, now: number): boolean {
    const current = this.statusCodeOf(id);
    if (onDuty) return current === OFFLINE ? this.setStatus(id, 'available', now, 'on_duty') : false;
    return this.setStatus(id, 'offline', now, 'off_duty');
  }

  /**
   * Sends every doctor silent for at least `offlineAfterMs` (now − last sign of life) offline on timeout and
   * returns the events. Cost: the doctors whose deadline bucket has come (engine/fleet-offline-queue.ts), not the
   * fleet. These events are returned only, not repeated by {@link drainEvents}.
   */
  sweepOffline(now: number): DoctorWentOffline[] {
    const wentOffline: DoctorWentOffline[] = [];
    const doctors = this.doctors;
    this.offlineQueue.due(now, (slot) => {
      if (!this.index.isLive(slot) || this.index.statusAt(slot) === OFFLINE) return Number.NaN;
      const deadline = doctors.lastSeenAt(slot) + this.offlineAfterMs;
      if (deadline > now) return deadline;
      const previous = this.index.statusAt(slot);
      this.index.setStatusAt(slot, OFFLINE);
      this.changes.mark(slot);
      doctors.setOffline(slot, REASON_TIMEOUT, previous);
      this.counters.offlineTimeouts++;
      this.wentOffline(this.index.idAt(slot));
      wentOffline.push({
        type: 'DoctorWentOffline',
        doctorId: this.index.idAt(slot),
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

  /**
   * Calls `listener` with the id of every doctor going offline from now on, off duty or on timeout, as it happens
   * (before the event is drained); returns the unsubscribe function. For whoever must react to a doctor gone without
   * reading every doctor to find them.
   */
  onWentOffline(listener: (doctorId: string) => void): () => void {
    this.offlineListeners.push(listener);
    return () => {
      const at = this.offlineListeners.indexOf(listener);
      if (at >= 0) this.offlineListeners.splice(at, 1);
    };
  }

  /** Takes the events emitted since the last call (status changes, back online, auto-registrations). */
  drainEvents(): FleetEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  /**
   * Takes what changed since the last call: every placed doctor whose position or status changed (once each, with
   * the current state), and the ids forgotten. Costs the doctors that changed, not the fleet. A fleet rebuilt from a
   * snapshot starts with an empty journal: a reader that finds a new Fleet object starts over from a full read.
   */
  drainChanged(): FleetChanges {
    const changed: DoctorChange[] = [];
    const removed = this.changes.drain((slot) => {
      if (this.index.isLive(slot)) changed.push(this.changeAt(slot));
    });
    return { changed, removed };
  }

  /** A doctor's current state, or undefined. */
  get(id: string): DoctorView | undefined {
    const slot = this.index.slotOf(id);
    if (slot >= 0) return this.viewAt(slot);
    const doctor = this.unplaced.get(id);
    return doctor === undefined ? undefined : this.viewUnplaced(id, doctor);
  }

  /** A doctor's status, or undefined for an unknown id: {@link get} without building the view (for hot loops). */
  statusOf(id: string): DoctorStatus | undefined {
    const slot = this.index.slotOf(id);
    if (slot >= 0) return statusName(this.index.statusAt(slot));
    const doctor = this.unplaced.get(id);
    return doctor === undefined ? undefined : statusName(doctor.status);
  }

  /** Ids of every doctor, placed ones first (in slot order), then those without a position. */
  ids(): string[] {
    const ids: string[] = [];
    for (let slot = 0; slot < this.index.slotLimit; slot++)
      if (this.index.isLive(slot)) ids.push(this.index.idAt(slot));
    for (const id of this.unplaced.keys()) ids.push(id);
    return ids;
  }

  /** Number of doctors with a status. @throws TotError `ENGINE_INVALID_ARGUMENT` for an unknown status name. */
  countByStatus(status: DoctorStatus): number {
    const code = statusCode(status);
    return this.index.countWithStatus(code) + (this.unplacedByStatus[code] as number);
  }

  /**
   * The k doctors nearest to (lat, lng) among those matching the filter, by haversine distance (ties by id), within
   * `maxKm` if given. Exact (see geo/fleet-index.ts).
   * @throws TotError `GEO_INVALID_COORDINATE`, `GEO_INVALID_ARGUMENT` (k, maxKm); `ENGINE_INVALID_ARGUMENT` for an
   * unknown status name.
   */
  nearby(lat: number, lng: number, options: FleetNearbyOptions): FleetHit[] {
    const query = this.pointFilter(options) as NearbyOptions | undefined;
    if (query === undefined) return [];
    query.k = options.k;
    if (options.maxKm !== undefined) query.maxKm = options.maxKm;
    // Results go through per-fleet scratch arrays: the index allocates nothing and the views are built once.
    const room = Number.isInteger(options.k) && options.k > 0 ? Math.min(options.k, this.index.size) : 0;
    if (this.scratchSlots.length < room) {
      this.scratchSlots = new Int32Array(room);
      this.scratchDistances = new Float64Array(room);
    }
    const n = this.index.nearbyInto(lat, lng, query, this.scratchSlots, this.scratchDistances);
    const hits = new Array<FleetHit>(n);
    for (let i = 0; i < n; i++) {
      hits[i] = {
        doctor: this.viewAt(this.scratchSlots[i] as number),
        distanceKm: this.scratchDistances[i] as number,
      };
    }
    return hits;
  }

  /**
   * Doctors inside a GeoJSON Polygon/MultiPolygon matching the filter, sorted by id.
   * @throws TotError `GEO_INVALID_POLYGON`; `ENGINE_INVALID_ARGUMENT` for an unknown status name.
   */
  within(area: AreaInput, filter: DoctorFilter = {}): DoctorView[] {
    const pointFilter = this.pointFilter(filter);
    if (pointFilter === undefined) return [];
    const hits = this.index.within(area, pointFilter);
    hits.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return hits.map((hit) => this.viewAt(hit.slot));
  }

  /**
   * Placed doctors matching the filter per H3 cell at a resolution no finer than the index's (the map at low zoom).
   * @throws TotError `GEO_INVALID_RESOLUTION`; `ENGINE_INVALID_ARGUMENT` for an unknown status name.
   */
  countsByCell(res: number, filter: DoctorFilter = {}): Map<H3Cell, number> {
    const pointFilter = this.pointFilter(filter);
    if (pointFilter === undefined) return new Map();
    return this.index.countsByCell(res, pointFilter);
  }

  /** Counters and index costs since construction (the fleet's own counters survive a snapshot round trip). */
  stats(): FleetStats {
    const byStatus = {} as Record<DoctorStatus, number>;
    for (const status of DOCTOR_STATUSES) byStatus[status] = this.countByStatus(status);
    const cells = this.index.cellCounts();
    return {
      doctors: this.size,
      placed: this.index.size,
      byStatus,
      ...this.counters,
      cells: cells.cells,
      nonEmptyCells: cells.nonEmpty,
      writes: this.index.writeStats(),
      queries: this.index.totalQueryCost(),
      lastQuery: this.index.lastQueryCost(),
    };
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
    return new FleetSnapshotSource({
      index: this.index,
      doctors: this.doctors,
      unplaced: this.unplaced,
      specializations: this.specializations,
      clinicIds: this.clinicIds,
      counters: this.counters,
      offlineAfterMs: this.offlineAfterMs,
    });
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
      return Fleet.fromColumns(columns, options);
    } catch (error) {
      if (error instanceof TotError && error.code === 'ENGINE_INVALID_SNAPSHOT') throw error;
      throw new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: ${(error as Error).message}`, {
        cause: error instanceof TotError ? error.code : undefined,
      });
    }
  }

  private static fromColumns(columns: FleetColumns, options: FleetOptions): Fleet {
    const fleet = new Fleet({
      resolution: columns.resolution,
      offlineAfterMs: columns.offlineAfterMs,
      ...options,
      initialCapacity: Math.max(1, options.initialCapacity ?? columns.placed),
    });
    fleet.specializations.restoreTaggedNames(columns.specializations);
    const clinicCodes = columns.clinics.map((clinicId) => fleet.clinicCode(clinicId));
    // Size each cell once: doctors of a cell arrive spread over the snapshot.
    const perCell = new Int32Array(columns.cells.length);
    for (const c of columns.cell) if (c >= 0) perCell[c] = (perCell[c] as number) + 1;
    columns.cells.forEach((cell, c) => fleet.index.reserveCell(cell, perCell[c] as number));
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
        if (id === '' || fleet.index.slotOf(id) >= 0 || fleet.unplaced.has(id)) {
          throw snapshotError(`doctor id ${JSON.stringify(id)} is empty or repeated`);
        }
        fleet.unplaced.set(id, doctor);
        fleet.countUnplaced(status, 1);
        continue;
      }
      const lastSeenAt = columns.lastSeenAt[i] as number;
      if (!Number.isFinite(lastSeenAt) || Number.isNaN(columns.lastFixAt[i] as number)) {
        throw snapshotError(`fix times of doctor ${JSON.stringify(id)} are not numbers`);
      }
      const cellIndex = columns.cell[i] as number;
      const hint = cellIndex < 0 ? undefined : columns.cells[cellIndex];
      const sizeBefore = fleet.index.size;
      const slot = fleet.place(
        id,
        columns.lat[i] as number,
        columns.lng[i] as number,
        doctor,
        lastSeenAt,
        hint,
      );
      // An id seen before moved its point instead of adding one (an empty id throws in the index).
      if (fleet.index.size === sizeBefore) throw snapshotError(`doctor id ${JSON.stringify(id)} is repeated`);
      fleet.doctors.restoreFix(slot, columns, i);
      if (status !== OFFLINE) fleet.offlineQueue.schedule(slot, lastSeenAt + fleet.offlineAfterMs);
    }
    for (const [i, names] of columns.overflow)
      fleet.specializations.setOverflow(columns.ids[i] as string, names);
    for (const name of COUNTER_NAMES) fleet.counters[name] = columns.counters[name] ?? 0;
    return fleet;
  }

  /** Puts a doctor with no position into the index; returns the slot with the doctor's data initialised. */
  private place(
    id: string,
    lat: number,
    lng: number,
    doctor: UnplacedDoctor,
    now: number,
    hint?: H3Cell,
  ): number {
    const attributes = this.placeAttributes;
    attributes.status = doctor.status;
    attributes.tags = doctor.tags;
    const slot = this.index.upsert(id, lat, lng, attributes, now, hint);
    this.ensureCapacity();
    this.doctors.place(slot, doctor, now);
    return slot;
  }

  private ensureCapacity(): void {
    const capacity = this.index.capacity;
    if (capacity <= this.capacity) return;
    this.doctors.ensureCapacity(capacity);
    this.offlineQueue.ensureCapacity(capacity);
    this.changes.ensureCapacity(capacity);
    this.capacity = capacity;
  }

  private statusCodeOf(id: string): number {
    const slot = this.index.slotOf(id);
    if (slot >= 0) return this.index.statusAt(slot);
    const doctor = this.unplaced.get(id);
    if (doctor === undefined) {
      throw new TotError('ENGINE_DOCTOR_NOT_FOUND', `no doctor with id ${JSON.stringify(id)}`, {
        field: 'id',
        value: id,
      });
    }
    return doctor.status;
  }

  private countUnplaced(status: number, delta: number): void {
    this.unplacedByStatus[status] = (this.unplacedByStatus[status] as number) + delta;
  }

  private wentOffline(doctorId: string): void {
    for (const listener of this.offlineListeners) listener(doctorId);
  }

  private emit(event: FleetEvent): void {
    if (this.events.length >= this.maxPendingEvents) {
      this.counters.eventsDropped++;
      if (this.maxPendingEvents === 0) return;
      this.events.shift();
    }
    this.events.push(event);
  }

  private clinicCode(clinicId: string): number {
    let code = this.clinicCodes.get(clinicId);
    if (code === undefined) {
      code = this.clinicIds.length;
      this.clinicIds.push(clinicId);
      this.clinicCodes.set(clinicId, code);
    }
    return code;
  }

  /** The index filter for a doctor filter, or undefined when no doctor can match (an unknown specialization). */
  private pointFilter(filter: DoctorFilter): PointFilter | undefined {
    let statusMask = ALL_STATUSES;
    if (typeof filter.status === 'string') {
      statusMask = (1 << statusCode(filter.status)) >>> 0;
    } else if (filter.status !== undefined) {
      if (!Array.isArray(filter.status))
        throw invalidArgument('status', 'a status or an array of statuses', filter.status);
      statusMask = 0;
      for (const status of filter.status) statusMask = (statusMask | (1 << statusCode(status))) >>> 0;
    }
    if (filter.specialization === undefined) return { statusMask };
    const names = typeof filter.specialization === 'string' ? [filter.specialization] : filter.specialization;
    if (!Array.isArray(names))
      throw invalidArgument('specialization', 'a name or an array of names', filter.specialization);
    const specializations = this.specializations.filterFor(names);
    if (specializations === undefined) return undefined;
    const pointFilter: PointFilter = { statusMask, tagsAll: specializations.tagsAll };
    if (specializations.overflowNames.length > 0) {
      pointFilter.predicate = this.specializations.overflowPredicate(specializations.overflowNames);
    }
    return pointFilter;
  }

  private viewAt(slot: number): DoctorView {
    const index = this.index;
    const doctors = this.doctors;
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
      specializations: this.specializations.namesOf(id, index.tagsAt(slot)),
      clinicId: clinic === NO_CLINIC ? undefined : this.clinicIds[clinic],
      rating: known(doctors.rating(slot)),
      offlineReason: reason,
      statusBeforeOffline: reason === 'timeout' ? statusName(doctors.statusBeforeOffline(slot)) : undefined,
    };
  }

  private changeAt(slot: number): DoctorChange {
    const index = this.index;
    const heading = this.doctors.heading(slot);
    const speed = this.doctors.speed(slot);
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

  private viewUnplaced(id: string, doctor: UnplacedDoctor): DoctorView {
    const reason = doctor.status === OFFLINE ? REASON_NAMES[doctor.offlineReason] : undefined;
    return {
      id,
      status: statusName(doctor.status),
      specializations: this.specializations.namesOf(id, doctor.tags),
      clinicId: doctor.clinic === NO_CLINIC ? undefined : this.clinicIds[doctor.clinic],
      rating: known(doctor.rating),
      offlineReason: reason,
      statusBeforeOffline: reason === 'timeout' ? statusName(doctor.statusBeforeOffline) : undefined,
    };
  }
}

function known(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}
