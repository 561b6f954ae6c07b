/**
 * The live state of the doctors: profile, last fix, status with its lifecycle, and the spatial index the matcher and
 * the map query. Built on geo/fleet-index.ts: a placed doctor's per-doctor data lives in typed arrays indexed by the
 * index's slot, so a fix costs one id lookup, an index move (usually without an H3 computation) and a few stores.
 *
 * Time is an argument (`now`, ms since the epoch); nothing here reads a clock or does I/O.
 */
import { TotError } from '../geo/errors.ts';
import {
  ALL_STATUSES,
  FleetIndex,
  type AreaInput,
  type PointFilter,
  type QueryCost,
  type UpsertStats,
} from '../geo/fleet-index.ts';
import type { H3Cell } from '../geo/h3.ts';
import { OfflineQueue } from './fleet-offline-queue.ts';
import { type FleetColumns, decodeFleetSnapshot, encodeFleetSnapshot } from './fleet-snapshot.ts';

/** A doctor's status. Its index in this tuple is the status code stored in the spatial index. */
export const DOCTOR_STATUSES = ['available', 'offered', 'assigned', 'en_route', 'on_site', 'offline'] as const;

/** One of {@link DOCTOR_STATUSES}. */
export type DoctorStatus = (typeof DOCTOR_STATUSES)[number];

/**
 * The allowed status changes. The dispatch cycle is available → offered → assigned → en_route → on_site →
 * available; an offer declined or timed out returns offered → available; a cancelled visit returns assigned or
 * en_route → available; any status may go offline (off duty), and offline → available is going on duty. Setting the
 * current status again is an idempotent no-op, not a transition.
 */
export const DOCTOR_STATUS_TRANSITIONS: Readonly<Record<DoctorStatus, readonly DoctorStatus[]>> = {
  available: ['offered', 'offline'],
  offered: ['assigned', 'available', 'offline'],
  assigned: ['en_route', 'available', 'offline'],
  en_route: ['on_site', 'available', 'offline'],
  on_site: ['available', 'offline'],
  offline: ['available'],
};

/**
 * Why a doctor is offline: `timeout` — no fix for `offlineAfterMs`, undone by the next fresh fix (the previous status
 * comes back); `off_duty` — set explicitly, undone only by a status change to available.
 */
export type OfflineReason = 'timeout' | 'off_duty';

/** Default silence after which a doctor goes offline, ms. */
export const DEFAULT_OFFLINE_AFTER_MS = 60_000;

/** Specializations that get a bit of the index's tag mask (and so are filtered at typed-array speed). */
export const MAX_TAGGED_SPECIALIZATIONS = 32;

/** One GPS fix from a doctor's phone (the tot.fixes record). */
export interface Fix {
  doctorId: string;
  lat: number;
  lng: number;
  /** Phone time of the fix, ms since the epoch; orders fixes of one doctor. */
  ts: number;
  /** Metres. */
  accuracy?: number;
  /** m/s. */
  speed?: number;
  /** Degrees clockwise from north, [0, 360]. */
  heading?: number;
  /** Percent, [0, 100]. */
  battery?: number;
  /** Phone's counter; breaks ties between fixes with the same ts. */
  seq?: number;
}

/** What {@link Fleet.applyFix} did. */
export type FixOutcome = 'applied' | 'stale' | 'unknown_doctor';

/** A doctor's profile as the store or an admin gives it. */
export interface DoctorProfile {
  id: string;
  specializations?: readonly string[];
  clinicId?: string;
  /** Any finite number (the product uses 0–5). */
  rating?: number;
  /** Initial status of a new doctor (default available); for a known doctor, a change checked like setStatus. */
  status?: DoctorStatus;
}

/** Options of {@link Fleet}. */
export interface FleetOptions {
  /** H3 resolution of the spatial index (default 9). */
  resolution?: number;
  /** Silence after which a doctor goes offline, ms (default 60 000). */
  offlineAfterMs?: number;
  /**
   * A fix from a doctor the fleet does not know: `register` (default) adds the doctor as available with an empty
   * profile, so phones of doctors whose profile is not loaded yet still show on the map (the gateway has already
   * authenticated the phone, and the store fills in the profile with {@link Fleet.register} later); `reject`
   * drops the fix and counts it as `unknown_doctor`.
   */
  unknownDoctors?: 'register' | 'reject';
  /** Width of the offline timer's buckets, ms (default 1000). */
  sweepBucketMs?: number;
  /** Doctors to allocate for up front. */
  initialCapacity?: number;
  /** Events kept for {@link Fleet.drainEvents} before the oldest are dropped (and counted); default 100 000. */
  maxPendingEvents?: number;
}

/** A doctor as seen from outside: a copy, not a live object. Position fields are undefined until the first fix. */
export interface DoctorView {
  readonly id: string;
  readonly status: DoctorStatus;
  readonly lat?: number;
  readonly lng?: number;
  readonly heading?: number;
  readonly speed?: number;
  readonly accuracy?: number;
  readonly battery?: number;
  /** Phone time of the last applied fix. */
  readonly lastFixAt?: number;
  /** Engine time at which the last fix was applied (the offline timer runs from it). */
  readonly lastSeenAt?: number;
  readonly seq?: number;
  readonly specializations: readonly string[];
  readonly clinicId?: string;
  readonly rating?: number;
  /** Set while offline. */
  readonly offlineReason?: OfflineReason;
  /** Set while offline on timeout: the status the next fresh fix restores. */
  readonly statusBeforeOffline?: DoctorStatus;
}

/** One result of {@link Fleet.nearby}. */
export interface FleetHit {
  doctor: DoctorView;
  /** Haversine distance, km. */
  distanceKm: number;
}

/** Which doctors a query considers. */
export interface DoctorFilter {
  /** Only these statuses (default: every status). */
  status?: DoctorStatus | readonly DoctorStatus[];
  /** Only doctors having every one of these specializations. */
  specialization?: string | readonly string[];
}

/** Options of {@link Fleet.nearby}. */
export interface FleetNearbyOptions extends DoctorFilter {
  /** How many doctors at most. */
  k: number;
  /** Only doctors within this distance, km. */
  maxKm?: number;
}

/** A doctor fell silent for `offlineAfterMs` and went offline. */
export interface DoctorWentOffline {
  type: 'DoctorWentOffline';
  doctorId: string;
  at: number;
  lastFixAt: number;
  lastSeenAt: number;
  previousStatus: DoctorStatus;
  reason: 'timeout';
}

/** A doctor offline on timeout sent a fresh fix and got their previous status back. */
export interface DoctorBackOnline {
  type: 'DoctorBackOnline';
  doctorId: string;
  at: number;
  status: DoctorStatus;
}

/** A status changed through {@link Fleet.setStatus} (or setDuty / register). */
export interface DoctorStatusChanged {
  type: 'DoctorStatusChanged';
  doctorId: string;
  at: number;
  from: DoctorStatus;
  to: DoctorStatus;
  reason?: string;
}

/** A fix from an unknown doctor registered them (see {@link FleetOptions.unknownDoctors}). */
export interface DoctorAutoRegistered {
  type: 'DoctorAutoRegistered';
  doctorId: string;
  at: number;
}

/** Every event the fleet emits. */
export type FleetEvent = DoctorWentOffline | DoctorBackOnline | DoctorStatusChanged | DoctorAutoRegistered;

/** Counters of {@link Fleet.stats}. */
export interface FleetStats {
  doctors: number;
  /** Doctors with a position (in the spatial index). */
  placed: number;
  byStatus: Record<DoctorStatus, number>;
  fixesApplied: number;
  fixesStale: number;
  fixesUnknownDoctor: number;
  autoRegistered: number;
  offlineTimeouts: number;
  backOnline: number;
  statusChanges: number;
  eventsDropped: number;
  cells: number;
  nonEmptyCells: number;
  writes: UpsertStats;
  queries: QueryCost;
  lastQuery: QueryCost;
}

const OFFLINE = DOCTOR_STATUSES.indexOf('offline');
const AVAILABLE = DOCTOR_STATUSES.indexOf('available');
const STATUS_CODE = new Map<string, number>(DOCTOR_STATUSES.map((status, code) => [status, code]));
/** transitionAllowed[from][to]. */
const TRANSITION_ALLOWED: boolean[][] = DOCTOR_STATUSES.map((from) =>
  DOCTOR_STATUSES.map((to) => DOCTOR_STATUS_TRANSITIONS[from].includes(to)),
);
const REASON_NONE = 0;
const REASON_TIMEOUT = 1;
const REASON_OFF_DUTY = 2;
const REASON_NAMES: (OfflineReason | undefined)[] = [undefined, 'timeout', 'off_duty'];
const NO_CLINIC = -1;
const COUNTER_NAMES = [
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

/** Profile and status of a doctor with no fix yet (not in the spatial index). */
interface UnplacedDoctor {
  status: number;
  offlineReason: number;
  statusBeforeOffline: number;
  tags: number;
  clinic: number;
  rating: number;
}

function invalidArgument(field: string, requirement: string, value: unknown): TotError {
  return new TotError('ENGINE_INVALID_ARGUMENT', `${field} must be ${requirement}, got ${describe(value)}`, {
    field,
    value,
  });
}

function invalidFix(field: string, requirement: string, value: unknown): TotError {
  return new TotError('ENGINE_INVALID_FIX', `fix.${field} must be ${requirement}, got ${describe(value)}`, {
    field,
    value,
  });
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function statusCode(status: unknown, field = 'status'): number {
  const code = typeof status === 'string' ? STATUS_CODE.get(status) : undefined;
  if (code === undefined) throw invalidArgument(field, `one of ${DOCTOR_STATUSES.join(', ')}`, status);
  return code;
}

function optionalInRange(fix: Fix, field: 'accuracy' | 'speed' | 'heading' | 'battery', min: number, max: number): void {
  const value = fix[field];
  if (value !== undefined && !(typeof value === 'number' && value >= min && value <= max)) {
    throw invalidFix(field, `a number in [${min}, ${max}] or absent`, value);
  }
}

/** Throws `ENGINE_INVALID_FIX` for a malformed fix. */
function checkFix(fix: Fix): void {
  if (fix === null || typeof fix !== 'object') throw invalidFix('', 'an object', fix);
  if (typeof fix.doctorId !== 'string' || fix.doctorId.length === 0) {
    throw invalidFix('doctorId', 'a non-empty string', fix.doctorId);
  }
  if (!(typeof fix.lat === 'number' && fix.lat >= -90 && fix.lat <= 90)) {
    throw invalidFix('lat', 'a number in [-90, 90]', fix.lat);
  }
  if (!(typeof fix.lng === 'number' && fix.lng >= -180 && fix.lng <= 180)) {
    throw invalidFix('lng', 'a number in [-180, 180]', fix.lng);
  }
  if (!Number.isFinite(fix.ts)) throw invalidFix('ts', 'a finite number (ms since the epoch)', fix.ts);
  optionalInRange(fix, 'accuracy', 0, Number.MAX_VALUE);
  optionalInRange(fix, 'speed', 0, Number.MAX_VALUE);
  optionalInRange(fix, 'heading', 0, 360);
  optionalInRange(fix, 'battery', 0, 100);
  if (fix.seq !== undefined && !Number.isFinite(fix.seq)) throw invalidFix('seq', 'a finite number or absent', fix.seq);
}

function growFloat64(array: Float64Array, capacity: number, fill: number): Float64Array {
  const grown = new Float64Array(capacity).fill(fill);
  grown.set(array);
  return grown;
}

/**
 * The fleet. One owner mutates it (the engine's event loop); queries return copies.
 */
export class Fleet {
  /** Silence after which a doctor goes offline, ms. */
  readonly offlineAfterMs: number;
  private readonly index: FleetIndex;
  private readonly rejectUnknown: boolean;
  private readonly maxPendingEvents: number;
  private readonly unplaced = new Map<string, UnplacedDoctor>();
  private readonly unplacedByStatus = new Int32Array(DOCTOR_STATUSES.length);
  private readonly specializationBits = new Map<string, number>();
  private readonly specializationNames: string[] = [];
  /** Specializations beyond the tagged 32, per doctor id, and how many doctors have each. */
  private readonly overflow = new Map<string, string[]>();
  private readonly overflowCounts = new Map<string, number>();
  private readonly specializationsByTags = new Map<number, readonly string[]>();
  private readonly clinicIds: string[] = [];
  private readonly clinicCodes = new Map<string, number>();
  private readonly offlineQueue: OfflineQueue;
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
  // Per placed doctor, indexed by the spatial index's slot (NaN = unknown).
  private capacity = 0;
  private heading: Float64Array = new Float64Array(0);
  private speed: Float64Array = new Float64Array(0);
  private accuracy: Float64Array = new Float64Array(0);
  private battery: Float64Array = new Float64Array(0);
  private lastFixAt: Float64Array = new Float64Array(0);
  private lastSeenAt: Float64Array = new Float64Array(0);
  private seq: Float64Array = new Float64Array(0);
  private rating: Float64Array = new Float64Array(0);
  private clinic: Int32Array = new Int32Array(0);
  private offlineReason: Uint8Array = new Uint8Array(0);
  private statusBeforeOffline: Uint8Array = new Uint8Array(0);

  /** @throws TotError `ENGINE_INVALID_ARGUMENT` for a bad option; `GEO_INVALID_RESOLUTION` for a bad resolution. */
  constructor(options: FleetOptions = {}) {
    const offlineAfterMs = options.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS;
    if (!(Number.isFinite(offlineAfterMs) && offlineAfterMs > 0)) {
      throw invalidArgument('offlineAfterMs', 'a positive number', offlineAfterMs);
    }
    const bucketMs = options.sweepBucketMs ?? 1000;
    if (!(Number.isFinite(bucketMs) && bucketMs > 0)) throw invalidArgument('sweepBucketMs', 'a positive number', bucketMs);
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
    if (profile === null || typeof profile !== 'object') throw invalidArgument('profile', 'an object', profile);
    const id = profile.id;
    if (typeof id !== 'string' || id.length === 0) throw invalidArgument('id', 'a non-empty string', id);
    const specializations = profile.specializations;
    if (
      specializations !== undefined &&
      (!Array.isArray(specializations) || specializations.some((name) => typeof name !== 'string' || name === ''))
    ) {
      throw invalidArgument('specializations', 'an array of non-empty strings', specializations);
    }
    if (profile.clinicId !== undefined && (typeof profile.clinicId !== 'string' || profile.clinicId === '')) {
      throw invalidArgument('clinicId', 'a non-empty string', profile.clinicId);
    }
    if (profile.rating !== undefined && !Number.isFinite(profile.rating)) {
      throw invalidArgument('rating', 'a finite number', profile.rating);
    }
    const status = profile.status === undefined ? undefined : statusCode(profile.status);
    const slot = this.index.slotOf(id);
    const known = slot >= 0 || this.unplaced.has(id);
    if (known && status !== undefined) this.checkTransition(id, this.statusCodeOf(id), status);

    if (!known) {
      const doctor: UnplacedDoctor = {
        status: status ?? AVAILABLE,
        offlineReason: status === OFFLINE ? REASON_OFF_DUTY : REASON_NONE,
        statusBeforeOffline: status ?? AVAILABLE,
        tags: 0,
        clinic: NO_CLINIC,
        rating: Number.NaN,
      };
      this.unplaced.set(id, doctor);
      this.countUnplaced(doctor.status, 1);
    }
    if (specializations !== undefined) this.writeSpecializations(id, specializations);
    if (profile.clinicId !== undefined) this.writeClinic(id, this.clinicCode(profile.clinicId));
    if (profile.rating !== undefined) this.writeRating(id, profile.rating);
    if (known && status !== undefined) this.setStatus(id, DOCTOR_STATUSES[status] as DoctorStatus, now, 'profile');
    return !known;
  }

  /**
   * Forgets a doctor (profile, position, timers). Returns whether the doctor was known. Emits nothing.
   */
  remove(id: string): boolean {
    const slot = this.index.slotOf(id);
    this.removeOverflow(id);
    if (slot >= 0) {
      this.offlineQueue.cancel(slot);
      this.index.remove(id);
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
    let slot = this.index.slotOf(id);
    if (slot >= 0) {
      const lastTs = this.lastFixAt[slot] as number;
      const lastSeq = this.seq[slot] as number;
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
        doctor = {
          status: AVAILABLE,
          offlineReason: REASON_NONE,
          statusBeforeOffline: AVAILABLE,
          tags: 0,
          clinic: NO_CLINIC,
          rating: Number.NaN,
        };
        this.counters.autoRegistered++;
        this.emit({ type: 'DoctorAutoRegistered', doctorId: id, at: now });
      } else {
        this.countUnplaced(doctor.status, -1);
        this.unplaced.delete(id);
      }
      slot = this.place(id, fix.lat, fix.lng, doctor, now);
    }
    this.heading[slot] = fix.heading ?? Number.NaN;
    this.speed[slot] = fix.speed ?? Number.NaN;
    this.accuracy[slot] = fix.accuracy ?? Number.NaN;
    this.battery[slot] = fix.battery ?? Number.NaN;
    this.lastFixAt[slot] = fix.ts;
    this.seq[slot] = fix.seq ?? Number.NaN;
    this.lastSeenAt[slot] = now;
    this.counters.fixesApplied++;
    if (this.index.statusAt(slot) === OFFLINE) {
      if (this.offlineReason[slot] !== REASON_TIMEOUT) return 'applied';
      const restored = this.statusBeforeOffline[slot] as number;
      this.index.setStatusAt(slot, restored);
      this.offlineReason[slot] = REASON_NONE;
      this.counters.backOnline++;
      this.emit({ type: 'DoctorBackOnline', doctorId: id, at: now, status: DOCTOR_STATUSES[restored] as DoctorStatus });
    }
    this.offlineQueue.schedule(slot, now + this.offlineAfterMs);
    return 'applied';
  }

  /**
   * Changes a doctor's status along {@link DOCTOR_STATUS_TRANSITIONS}; returns false (and emits nothing) when the
   * doctor already has that status. Going offline this way is off duty (no automatic return); offline → available
   * restarts the offline timer from `now`, the on-duty signal counting as a sign of life. Emits DoctorStatusChanged
   * with `reason`.
   * @throws TotError `ENGINE_DOCTOR_NOT_FOUND`; `ENGINE_INVALID_ARGUMENT` for an unknown status name;
   * `ENGINE_INVALID_TRANSITION` for a change the table forbids. Nothing changes on a throw.
   */
  setStatus(id: string, status: DoctorStatus, now: number, reason?: string): boolean {
    const to = statusCode(status);
    const from = this.statusCodeOf(id);
    const slot = this.index.slotOf(id);
    if (from === to) {
      // Offline on timeout → offline: the doctor is now off duty and no fix will bring them back.
      if (to === OFFLINE) this.writeOfflineReason(id, slot, REASON_OFF_DUTY);
      return false;
    }
    this.checkTransition(id, from, to);
    if (slot >= 0) {
      this.index.setStatusAt(slot, to);
      if (to === OFFLINE) {
        this.offlineReason[slot] = REASON_OFF_DUTY;
        this.statusBeforeOffline[slot] = from;
        this.offlineQueue.cancel(slot);
      } else if (from === OFFLINE) {
        this.offlineReason[slot] = REASON_NONE;
        this.lastSeenAt[slot] = now;
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
    const event: DoctorStatusChanged = {
      type: 'DoctorStatusChanged',
      doctorId: id,
      at: now,
      from: DOCTOR_STATUSES[from] as DoctorStatus,
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
   * Sends every doctor silent for at least `offlineAfterMs` (now − last applied fix) offline on timeout and returns
   * the events, oldest deadline first within a bucket. Cost: the doctors whose deadline bucket has come, not the
   * fleet. These events are returned only, not repeated by {@link drainEvents}.
   */
  sweepOffline(now: number): DoctorWentOffline[] {
    const wentOffline: DoctorWentOffline[] = [];
    this.offlineQueue.due(now, (slot) => {
      if (!this.index.isLive(slot) || this.index.statusAt(slot) === OFFLINE) return Number.NaN;
      const deadline = (this.lastSeenAt[slot] as number) + this.offlineAfterMs;
      if (deadline > now) return deadline;
      const previous = this.index.statusAt(slot);
      this.index.setStatusAt(slot, OFFLINE);
      this.offlineReason[slot] = REASON_TIMEOUT;
      this.statusBeforeOffline[slot] = previous;
      this.counters.offlineTimeouts++;
      wentOffline.push({
        type: 'DoctorWentOffline',
        doctorId: this.index.idAt(slot),
        at: now,
        lastFixAt: this.lastFixAt[slot] as number,
        lastSeenAt: this.lastSeenAt[slot] as number,
        previousStatus: DOCTOR_STATUSES[previous] as DoctorStatus,
        reason: 'timeout',
      });
      return Number.NaN;
    });
    return wentOffline;
  }

  /** Takes the events emitted since the last call (status changes, back online, auto-registrations). */
  drainEvents(): FleetEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  /** A doctor's current state, or undefined. */
  get(id: string): DoctorView | undefined {
    const slot = this.index.slotOf(id);
    if (slot >= 0) return this.viewAt(slot);
    const doctor = this.unplaced.get(id);
    return doctor === undefined ? undefined : this.viewUnplaced(id, doctor);
  }

  /** Ids of every doctor, placed ones first (in slot order), then those without a position. */
  ids(): string[] {
    const ids: string[] = [];
    for (let slot = 0; slot < this.index.slotLimit; slot++) if (this.index.isLive(slot)) ids.push(this.index.idAt(slot));
    for (const id of this.unplaced.keys()) ids.push(id);
    return ids;
  }

  /** Number of doctors with a status. */
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
    const filter = this.pointFilter(options);
    if (filter === undefined) return [];
    const query = { ...filter, k: options.k, ...(options.maxKm === undefined ? {} : { maxKm: options.maxKm }) };
    return this.index.nearby(lat, lng, query).map((hit) => ({ doctor: this.viewAt(hit.slot), distanceKm: hit.distanceKm }));
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

  /** Counters and index costs since construction (restored from a snapshot for the fleet's own counters). */
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

  /** The whole state as snapshot bytes (see engine/fleet-snapshot.ts). Pending events are not included. */
  toSnapshot(): Uint8Array {
    return encodeFleetSnapshot(this.toColumns());
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
    const n = columns.ids.length;
    const fleet = new Fleet({
      resolution: columns.resolution,
      offlineAfterMs: columns.offlineAfterMs,
      ...options,
      initialCapacity: Math.max(1, options.initialCapacity ?? columns.placed),
    });
    columns.specializations.forEach((name, bit) => {
      fleet.specializationBits.set(name, bit);
      fleet.specializationNames.push(name);
    });
    const clinicCodes = columns.clinics.map((clinicId) => fleet.clinicCode(clinicId));
    const statusAt = (i: number): number => {
      const code = columns.status[i] as number;
      if (code >= DOCTOR_STATUSES.length || (columns.statusBeforeOffline[i] as number) >= DOCTOR_STATUSES.length) {
        throw new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: status code ${code} of doctor ${i} is unknown`);
      }
      if ((columns.offlineReason[i] as number) >= REASON_NAMES.length) {
        throw new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: offline reason of doctor ${i} is unknown`);
      }
      return code;
    };
    for (let i = 0; i < n; i++) {
      const id = columns.ids[i] as string;
      if (id === '' || fleet.index.slotOf(id) >= 0 || fleet.unplaced.has(id)) {
        throw new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: doctor id ${JSON.stringify(id)} is empty or repeated`);
      }
      const status = statusAt(i);
      const clinicIndex = columns.clinic[i] as number;
      const doctor: UnplacedDoctor = {
        status,
        offlineReason: columns.offlineReason[i] as number,
        statusBeforeOffline: columns.statusBeforeOffline[i] as number,
        tags: columns.tags[i] as number,
        clinic: clinicIndex < 0 ? NO_CLINIC : (clinicCodes[clinicIndex] as number),
        rating: columns.rating[i] as number,
      };
      if (i >= columns.placed) {
        fleet.unplaced.set(id, doctor);
        fleet.countUnplaced(status, 1);
        continue;
      }
      const lastSeenAt = columns.lastSeenAt[i] as number;
      if (!Number.isFinite(lastSeenAt) || Number.isNaN(columns.lastFixAt[i] as number)) {
        throw new TotError('ENGINE_INVALID_SNAPSHOT', `fleet snapshot: fix times of doctor ${JSON.stringify(id)} are not numbers`);
      }
      const cellIndex = columns.cell[i] as number;
      const hint = cellIndex < 0 ? undefined : columns.cells[cellIndex];
      const slot = fleet.place(id, columns.lat[i] as number, columns.lng[i] as number, doctor, lastSeenAt, hint);
      fleet.heading[slot] = columns.heading[i] as number;
      fleet.speed[slot] = columns.speed[i] as number;
      fleet.accuracy[slot] = columns.accuracy[i] as number;
      fleet.battery[slot] = columns.battery[i] as number;
      fleet.lastFixAt[slot] = columns.lastFixAt[i] as number;
      fleet.lastSeenAt[slot] = lastSeenAt;
      fleet.seq[slot] = columns.seq[i] as number;
      if (status !== OFFLINE) fleet.offlineQueue.schedule(slot, lastSeenAt + fleet.offlineAfterMs);
    }
    for (const [i, names] of columns.overflow) fleet.writeOverflow(columns.ids[i] as string, names);
    for (const name of COUNTER_NAMES) fleet.counters[name] = columns.counters[name] ?? 0;
    return fleet;
  }

  private toColumns(): FleetColumns {
    const index = this.index;
    const placed = index.size;
    const n = placed + this.unplaced.size;
    const ids: string[] = new Array<string>(n);
    const status = new Uint8Array(n);
    const offlineReason = new Uint8Array(n);
    const statusBeforeOffline = new Uint8Array(n);
    const tags = new Uint32Array(n);
    const clinic = new Int32Array(n);
    const rating = new Float64Array(n);
    const f64 = (): Float64Array => new Float64Array(placed);
    const lat = f64();
    const lng = f64();
    const heading = f64();
    const speed = f64();
    const accuracy = f64();
    const battery = f64();
    const lastFixAt = f64();
    const lastSeenAt = f64();
    const seq = f64();
    const cell = new Int32Array(placed);
    const cells: string[] = [];
    const cellCodes = new Map<string, number>();
    const overflow: [number, string[]][] = [];
    let i = 0;
    for (let slot = 0; slot < index.slotLimit; slot++) {
      if (!index.isLive(slot)) continue;
      const id = index.idAt(slot);
      ids[i] = id;
      status[i] = index.statusAt(slot);
      offlineReason[i] = this.offlineReason[slot] as number;
      statusBeforeOffline[i] = this.statusBeforeOffline[slot] as number;
      tags[i] = index.tagsAt(slot);
      clinic[i] = this.clinic[slot] as number;
      rating[i] = this.rating[slot] as number;
      lat[i] = index.latAt(slot);
      lng[i] = index.lngAt(slot);
      heading[i] = this.heading[slot] as number;
      speed[i] = this.speed[slot] as number;
      accuracy[i] = this.accuracy[slot] as number;
      battery[i] = this.battery[slot] as number;
      lastFixAt[i] = this.lastFixAt[slot] as number;
      lastSeenAt[i] = this.lastSeenAt[slot] as number;
      seq[i] = this.seq[slot] as number;
      const cellId = index.cellAt(slot);
      let code = cellCodes.get(cellId);
      if (code === undefined) {
        code = cells.length;
        cells.push(cellId);
        cellCodes.set(cellId, code);
      }
      cell[i] = code;
      const extra = this.overflow.get(id);
      if (extra !== undefined) overflow.push([i, extra]);
      i++;
    }
    for (const [id, doctor] of this.unplaced) {
      ids[i] = id;
      status[i] = doctor.status;
      offlineReason[i] = doctor.offlineReason;
      statusBeforeOffline[i] = doctor.statusBeforeOffline;
      tags[i] = doctor.tags;
      clinic[i] = doctor.clinic;
      rating[i] = doctor.rating;
      const extra = this.overflow.get(id);
      if (extra !== undefined) overflow.push([i, extra]);
      i++;
    }
    return {
      resolution: index.resolution,
      offlineAfterMs: this.offlineAfterMs,
      placed,
      ids,
      specializations: [...this.specializationNames],
      clinics: [...this.clinicIds],
      status,
      offlineReason,
      statusBeforeOffline,
      tags,
      clinic,
      rating,
      lat,
      lng,
      heading,
      speed,
      accuracy,
      battery,
      lastFixAt,
      lastSeenAt,
      seq,
      cells,
      cell,
      overflow,
      counters: { ...this.counters },
    };
  }

  /** Puts a doctor with no position into the index; returns the slot with per-slot fields set from `doctor`. */
  private place(id: string, lat: number, lng: number, doctor: UnplacedDoctor, now: number, hint?: H3Cell): number {
    const slot = this.index.upsert(id, lat, lng, { status: doctor.status, tags: doctor.tags }, now, hint);
    this.ensureCapacity();
    this.clinic[slot] = doctor.clinic;
    this.rating[slot] = doctor.rating;
    this.offlineReason[slot] = doctor.offlineReason;
    this.statusBeforeOffline[slot] = doctor.statusBeforeOffline;
    this.heading[slot] = Number.NaN;
    this.speed[slot] = Number.NaN;
    this.accuracy[slot] = Number.NaN;
    this.battery[slot] = Number.NaN;
    this.seq[slot] = Number.NaN;
    this.lastFixAt[slot] = Number.NEGATIVE_INFINITY;
    this.lastSeenAt[slot] = now;
    return slot;
  }

  private ensureCapacity(): void {
    const capacity = this.index.capacity;
    if (capacity <= this.capacity) return;
    this.heading = growFloat64(this.heading, capacity, Number.NaN);
    this.speed = growFloat64(this.speed, capacity, Number.NaN);
    this.accuracy = growFloat64(this.accuracy, capacity, Number.NaN);
    this.battery = growFloat64(this.battery, capacity, Number.NaN);
    this.lastFixAt = growFloat64(this.lastFixAt, capacity, Number.NaN);
    this.lastSeenAt = growFloat64(this.lastSeenAt, capacity, Number.NaN);
    this.seq = growFloat64(this.seq, capacity, Number.NaN);
    this.rating = growFloat64(this.rating, capacity, Number.NaN);
    const clinic = new Int32Array(capacity).fill(NO_CLINIC);
    clinic.set(this.clinic);
    this.clinic = clinic;
    const offlineReason = new Uint8Array(capacity);
    offlineReason.set(this.offlineReason);
    this.offlineReason = offlineReason;
    const statusBeforeOffline = new Uint8Array(capacity);
    statusBeforeOffline.set(this.statusBeforeOffline);
    this.statusBeforeOffline = statusBeforeOffline;
    this.offlineQueue.ensureCapacity(capacity);
    this.capacity = capacity;
  }

  private statusCodeOf(id: string): number {
    const slot = this.index.slotOf(id);
    if (slot >= 0) return this.index.statusAt(slot);
    const doctor = this.unplaced.get(id);
    if (doctor === undefined) {
      throw new TotError('ENGINE_DOCTOR_NOT_FOUND', `no doctor with id ${JSON.stringify(id)}`, { field: 'id', value: id });
    }
    return doctor.status;
  }

  private checkTransition(id: string, from: number, to: number): void {
    if (from === to || TRANSITION_ALLOWED[from]?.[to] === true) return;
    const fromName = DOCTOR_STATUSES[from] as DoctorStatus;
    const toName = DOCTOR_STATUSES[to] as DoctorStatus;
    throw new TotError(
      'ENGINE_INVALID_TRANSITION',
      `doctor ${JSON.stringify(id)} cannot go from ${fromName} to ${toName} (allowed: ${DOCTOR_STATUS_TRANSITIONS[fromName].join(', ')})`,
      { field: 'status', value: toName, from: fromName, doctorId: id },
    );
  }

  private writeOfflineReason(id: string, slot: number, reason: number): void {
    if (slot >= 0) {
      this.offlineReason[slot] = reason;
      this.offlineQueue.cancel(slot);
    } else {
      (this.unplaced.get(id) as UnplacedDoctor).offlineReason = reason;
    }
  }

  private countUnplaced(status: number, delta: number): void {
    this.unplacedByStatus[status] = (this.unplacedByStatus[status] as number) + delta;
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

  private writeClinic(id: string, code: number): void {
    const slot = this.index.slotOf(id);
    if (slot >= 0) this.clinic[slot] = code;
    else (this.unplaced.get(id) as UnplacedDoctor).clinic = code;
  }

  private writeRating(id: string, rating: number): void {
    const slot = this.index.slotOf(id);
    if (slot >= 0) this.rating[slot] = rating;
    else (this.unplaced.get(id) as UnplacedDoctor).rating = rating;
  }

  /** Replaces a doctor's specializations: the first 32 names the fleet sees get tag bits, later ones overflow. */
  private writeSpecializations(id: string, names: readonly string[]): void {
    let tags = 0;
    const extra: string[] = [];
    for (const name of new Set(names)) {
      let bit = this.specializationBits.get(name);
      if (bit === undefined && this.specializationNames.length < MAX_TAGGED_SPECIALIZATIONS) {
        bit = this.specializationNames.length;
        this.specializationNames.push(name);
        this.specializationBits.set(name, bit);
      }
      if (bit === undefined) extra.push(name);
      else tags = (tags | (1 << bit)) >>> 0;
    }
    const slot = this.index.slotOf(id);
    if (slot >= 0) this.index.setTagsAt(slot, tags);
    else (this.unplaced.get(id) as UnplacedDoctor).tags = tags;
    this.removeOverflow(id);
    if (extra.length > 0) this.writeOverflow(id, extra);
  }

  private writeOverflow(id: string, names: string[]): void {
    this.overflow.set(id, names);
    for (const name of names) this.overflowCounts.set(name, (this.overflowCounts.get(name) ?? 0) + 1);
  }

  private removeOverflow(id: string): void {
    const names = this.overflow.get(id);
    if (names === undefined) return;
    this.overflow.delete(id);
    for (const name of names) {
      const left = (this.overflowCounts.get(name) ?? 1) - 1;
      if (left === 0) this.overflowCounts.delete(name);
      else this.overflowCounts.set(name, left);
    }
  }

  /** The index filter for a doctor filter, or undefined when no doctor can match (an unknown specialization). */
  private pointFilter(filter: DoctorFilter): PointFilter | undefined {
    let statusMask = ALL_STATUSES;
    if (filter.status !== undefined) {
      const statuses = typeof filter.status === 'string' ? [filter.status] : filter.status;
      if (!Array.isArray(statuses)) throw invalidArgument('status', 'a status or an array of statuses', filter.status);
      statusMask = 0;
      for (const status of statuses) statusMask = (statusMask | (1 << statusCode(status))) >>> 0;
    }
    let tagsAll = 0;
    const overflowNames: string[] = [];
    if (filter.specialization !== undefined) {
      const names = typeof filter.specialization === 'string' ? [filter.specialization] : filter.specialization;
      if (!Array.isArray(names)) {
        throw invalidArgument('specialization', 'a name or an array of names', filter.specialization);
      }
      for (const name of names) {
        const bit = this.specializationBits.get(name);
        if (bit !== undefined) tagsAll = (tagsAll | (1 << bit)) >>> 0;
        else if (this.overflowCounts.has(name)) overflowNames.push(name);
        else return undefined;
      }
    }
    const pointFilter: PointFilter = { statusMask, tagsAll };
    if (overflowNames.length > 0) {
      pointFilter.predicate = (id) => {
        const names = this.overflow.get(id);
        return names !== undefined && overflowNames.every((name) => names.includes(name));
      };
    }
    return pointFilter;
  }

  private specializationsOf(id: string, tags: number): readonly string[] {
    let tagged = this.specializationsByTags.get(tags);
    if (tagged === undefined) {
      const names: string[] = [];
      for (let bit = 0; bit < this.specializationNames.length; bit++) {
        if ((tags >>> bit) & 1) names.push(this.specializationNames[bit] as string);
      }
      tagged = Object.freeze(names);
      this.specializationsByTags.set(tags, tagged);
    }
    const extra = this.overflow.get(id);
    return extra === undefined ? tagged : Object.freeze([...tagged, ...extra]);
  }

  private viewAt(slot: number): DoctorView {
    const index = this.index;
    const id = index.idAt(slot);
    const status = index.statusAt(slot);
    const reason = status === OFFLINE ? REASON_NAMES[this.offlineReason[slot] as number] : undefined;
    const clinicCode = this.clinic[slot] as number;
    const rating = this.rating[slot] as number;
    const lastFixAt = this.lastFixAt[slot] as number;
    return {
      id,
      status: DOCTOR_STATUSES[status] as DoctorStatus,
      lat: index.latAt(slot),
      lng: index.lngAt(slot),
      heading: known(this.heading[slot] as number),
      speed: known(this.speed[slot] as number),
      accuracy: known(this.accuracy[slot] as number),
      battery: known(this.battery[slot] as number),
      lastFixAt: Number.isFinite(lastFixAt) ? lastFixAt : undefined,
      lastSeenAt: known(this.lastSeenAt[slot] as number),
      seq: known(this.seq[slot] as number),
      specializations: this.specializationsOf(id, index.tagsAt(slot)),
      clinicId: clinicCode === NO_CLINIC ? undefined : this.clinicIds[clinicCode],
      rating: Number.isNaN(rating) ? undefined : rating,
      offlineReason: reason,
      statusBeforeOffline:
        reason === 'timeout' ? DOCTOR_STATUSES[this.statusBeforeOffline[slot] as number] : undefined,
    };
  }

  private viewUnplaced(id: string, doctor: UnplacedDoctor): DoctorView {
    const reason = doctor.status === OFFLINE ? REASON_NAMES[doctor.offlineReason] : undefined;
    return {
      id,
      status: DOCTOR_STATUSES[doctor.status] as DoctorStatus,
      specializations: this.specializationsOf(id, doctor.tags),
      clinicId: doctor.clinic === NO_CLINIC ? undefined : this.clinicIds[doctor.clinic],
      rating: Number.isNaN(doctor.rating) ? undefined : doctor.rating,
      offlineReason: reason,
      statusBeforeOffline: reason === 'timeout' ? DOCTOR_STATUSES[doctor.statusBeforeOffline] : undefined,
    };
  }
}

function known(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}
