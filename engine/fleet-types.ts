/**
 * The fleet's public vocabulary: statuses and their transition table, fixes, profiles, views, filters, events and
 * options. engine/fleet.ts re-exports all of it.
 */
import type { QueryCost, UpsertStats } from '../geo/fleet-index.ts';

/** A doctor's status. Its index in this tuple is the status code stored in the spatial index. */
export const DOCTOR_STATUSES = [
  'available',
  'offered',
  'assigned',
  'en_route',
  'on_site',
  'offline',
] as const;

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

/**
 * One result of {@link Fleet.nearbyBrief}: what a matcher reads of a doctor near a point — id, position, rating — without
 * the rest of the view (status, specializations, clinic …): a batch reads tens of thousands of these.
 */
export interface BriefHit {
  id: string;
  lat: number;
  lng: number;
  rating: number | undefined;
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

/** A placed doctor as {@link Fleet.drainChanged} reports it: where they are now and their status. */
export interface DoctorChange {
  readonly id: string;
  readonly lat: number;
  readonly lng: number;
  readonly status: DoctorStatus;
  /** Degrees clockwise from north, when the last fix carried it. */
  readonly heading?: number;
  /** m/s, when the last fix carried it. */
  readonly speed?: number;
}

/** What changed in the fleet since the previous {@link Fleet.drainChanged}. */
export interface FleetChanges {
  /** Placed doctors whose position or status changed, each once, with their current state. */
  changed: DoctorChange[];
  /**
   * Doctors forgotten ({@link Fleet.remove}). Apply these before `changed`: an id forgotten and placed again in the
   * same interval is in both.
   */
  removed: string[];
}
