/**
 * The fleet's parts, held by one {@link FleetState} that engine/fleet.ts (the `Fleet` facade) owns and the files
 * implementing its methods share: registration (engine/fleet-registration.ts), fixes (engine/fleet-fixes.ts), status
 * and the offline sweep (engine/fleet-status.ts), queries and views (engine/fleet-queries.ts, engine/fleet-views.ts),
 * snapshot and restore (engine/fleet-restore.ts). Here are the options' checks and the few steps those files share:
 * putting a doctor into the index (with the per-slot arrays growing alongside), a doctor's status code, clinic codes,
 * events and offline notices.
 *
 * Time is an argument (`now`, ms since the epoch); nothing here reads a clock or does I/O.
 */
import { TotError } from '../geo/errors.ts';
import { FleetIndex } from '../geo/fleet-index.ts';
import type { H3Cell } from '../geo/h3.ts';
import { invalidArgument } from './fleet-checks.ts';
import { ChangeJournal } from './fleet-changes.ts';
import { DoctorTable, type UnplacedDoctor } from './fleet-doctors.ts';
import { OfflineQueue } from './fleet-offline-queue.ts';
import { UnplacedDoctors } from './fleet-registration.ts';
import { SpecializationRegistry } from './fleet-specializations.ts';
import { DEFAULT_OFFLINE_AFTER_MS, type FleetEvent, type FleetOptions } from './fleet-types.ts';

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
/** One of {@link COUNTER_NAMES}. */
export type CounterName = (typeof COUNTER_NAMES)[number];

/** The fleet's parts and settings. One owner mutates it (the engine's event loop), through the fleet's methods. */
export class FleetState {
  /** Silence after which a doctor goes offline, ms. */
  readonly offlineAfterMs: number;
  /** Whether a fix from an unknown doctor is dropped (`unknownDoctors: 'reject'`) rather than registering them. */
  readonly rejectUnknown: boolean;
  /** Events kept for the next drain at most; past it the oldest is dropped. */
  readonly maxPendingEvents: number;
  /** Placed doctors: position, status and specialization tags, by slot. */
  readonly index: FleetIndex;
  /** The rest of a placed doctor's data, by the index's slot. */
  readonly doctors = new DoctorTable();
  readonly unplaced = new UnplacedDoctors();
  readonly specializations = new SpecializationRegistry();
  /** Clinic ids by clinic code. */
  readonly clinicIds: string[] = [];
  /** The offline timer: deadlines of placed doctors on duty, by slot. */
  readonly offlineQueue: OfflineQueue;
  /** Placed doctors changed since the live map's last drain. */
  readonly changes = new ChangeJournal();
  /** Subscribers of `Fleet.onWentOffline`. */
  readonly offlineListeners: ((doctorId: string) => void)[] = [];
  /**
   * Events emitted since the last drain, oldest first, from `eventsStart` on: the ones before it were dropped (past
   * `maxPendingEvents`) and are cut off in one go once they are as many as the queue holds, so that a full queue
   * costs no more per event than an empty one (shifting the oldest out of 100 000 took 12 s over 95 000 events).
   */
  private events: FleetEvent[] = [];
  private eventsStart = 0;
  readonly counters: Record<CounterName, number> = {
    fixesApplied: 0,
    fixesStale: 0,
    fixesUnknownDoctor: 0,
    autoRegistered: 0,
    offlineTimeouts: 0,
    backOnline: 0,
    statusChanges: 0,
    eventsDropped: 0,
  };
  /** Per-fleet result arrays of `nearby`: the index allocates nothing and the views are built once. */
  scratchSlots = new Int32Array(16);
  scratchDistances = new Float64Array(16);
  private readonly clinicCodes = new Map<string, number>();
  /** Slots the per-slot arrays beside the index have room for. */
  private capacity = 0;
  private readonly placeAttributes = { status: 0, tags: 0 };

  /** @throws TotError `ENGINE_INVALID_ARGUMENT` for a bad option; `GEO_INVALID_RESOLUTION` for a bad resolution. */
  constructor(options: FleetOptions) {
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

  /** Puts a doctor with no position into the index; returns the slot with the doctor's data initialised. */
  place(id: string, lat: number, lng: number, doctor: UnplacedDoctor, now: number, hint?: H3Cell): number {
    const attributes = this.placeAttributes;
    attributes.status = doctor.status;
    attributes.tags = doctor.tags;
    const slot = this.index.upsert(id, lat, lng, attributes, now, hint);
    this.ensureCapacity();
    this.doctors.place(slot, doctor, now);
    return slot;
  }

  /** A known doctor's status code. @throws TotError `ENGINE_DOCTOR_NOT_FOUND`. */
  statusCodeOf(id: string): number {
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

  /** The code of a clinic id, given the next code the first time the id is seen. */
  clinicCode(clinicId: string): number {
    let code = this.clinicCodes.get(clinicId);
    if (code === undefined) {
      code = this.clinicIds.length;
      this.clinicIds.push(clinicId);
      this.clinicCodes.set(clinicId, code);
    }
    return code;
  }

  /** Queues an event for the next drain; past `maxPendingEvents` the oldest is dropped (and counted). */
  emit(event: FleetEvent): void {
    if (this.events.length - this.eventsStart >= this.maxPendingEvents) {
      this.counters.eventsDropped++;
      if (this.maxPendingEvents === 0) return;
      this.eventsStart++;
      if (this.eventsStart >= this.maxPendingEvents) {
        this.events = this.events.slice(this.eventsStart);
        this.eventsStart = 0;
      }
    }
    this.events.push(event);
  }

  /** Takes the events emitted since the last call, oldest first. */
  drainEvents(): FleetEvent[] {
    const events = this.eventsStart === 0 ? this.events : this.events.slice(this.eventsStart);
    this.events = [];
    this.eventsStart = 0;
    return events;
  }

  /** Tells every offline listener that a doctor went offline. */
  notifyWentOffline(doctorId: string): void {
    for (const listener of this.offlineListeners) listener(doctorId);
  }

  private ensureCapacity(): void {
    const capacity = this.index.capacity;
    if (capacity <= this.capacity) return;
    this.doctors.ensureCapacity(capacity);
    this.offlineQueue.ensureCapacity(capacity);
    this.changes.ensureCapacity(capacity);
    this.capacity = capacity;
  }
}
