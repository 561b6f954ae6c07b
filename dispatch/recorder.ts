/**
 * The one way a booking changes: the writes go to the store (one transaction, version-checked); only once it accepted
 * them does memory follow — the active bookings, the doctors' fleet statuses — and are the events queued for the bus
 * and the change listeners called. A refused write changes nothing anywhere.
 */
import type { Logger } from '../engine/logger.ts';
import type { ActiveBookings } from './active-bookings.ts';
import { applyPriority, applyTransition, type TransitionChanges } from './booking-lifecycle.ts';
import type { BookingRepository, BookingWrite, NotificationRecord } from './booking-repository.ts';
import type {
  Actor,
  Booking,
  BookingChange,
  BookingStatus,
  BookingStatusUpdate,
  DispatchEvent,
  TriageCategory,
} from './booking-types.ts';
import { eventsOfChange, type EventOutbox } from './dispatch-events.ts';
import type { DoctorSync } from './doctor-sync.ts';

/** The system as an actor: the matcher and the timers. */
export const SYSTEM: Actor = { id: 'system', role: 'system' };

/** A copy of a booking safe to hand out (its list is copied too). */
export function copyBooking(booking: Booking): Booking {
  return { ...booking, declinedBy: [...booking.declinedBy] };
}

/**
 * The write of `before` → `to` at `at` by `by`, recorded with `reason` and the doctor concerned (the one the booking
 * holds after the change, or the one it let go).
 *
 * @throws TotError `DISPATCH_INVALID_TRANSITION` as {@link applyTransition}.
 */
export function transitionWrite(
  before: Booking,
  to: BookingStatus,
  by: Actor,
  at: number,
  reason?: string,
  changes?: TransitionChanges,
): BookingWrite {
  const after = applyTransition(before, to, at, changes);
  const update: BookingStatusUpdate = { bookingId: before.id, from: before.status, to, by, at };
  if (reason !== undefined) update.reason = reason;
  const doctorId = after.doctorId ?? before.doctorId;
  if (doctorId !== undefined) update.doctorId = doctorId;
  return { before, after, update };
}

/** The write of a priority change, recorded as a change from the status to itself. */
export function priorityWrite(
  before: Booking,
  priority: TriageCategory,
  by: Actor,
  at: number,
): BookingWrite {
  const after = applyPriority(before, priority);
  const update: BookingStatusUpdate = {
    bookingId: before.id,
    from: before.status,
    to: before.status,
    by,
    at,
    reason: `priority:${before.priority}->${priority}`,
  };
  if (before.doctorId !== undefined) update.doctorId = before.doctorId;
  return { before, after, update };
}

/** What goes with a recorded change besides the writes. */
export interface RecordExtras {
  notifications?: readonly NotificationRecord[];
  /** Events beyond those implied by the writes (preemption, escalation). */
  events?: readonly DispatchEvent[];
  /** The ETA to put on DoctorOffered / DoctorAssigned events. */
  etaSeconds?: number;
}

/** Records booking changes: store first, then memory, fleet statuses, events and listeners. */
export class Recorder {
  private readonly listeners = new Set<(change: BookingChange) => void>();

  constructor(
    private readonly store: BookingRepository,
    private readonly bookings: ActiveBookings,
    private readonly sync: DoctorSync,
    private readonly outbox: EventOutbox,
    private readonly logger: Logger,
  ) {}

  /**
   * Calls `listener` after every recorded change with a frozen copy of the booking and the update, the same for every
   * listener; returns the unsubscribe function.
   */
  listen(listener: (change: BookingChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Inserts a new booking with the writes that brought it where it is — the first its creation (before = after, the
   * update from null), then any transitions made before it was stored (searching, for a search starting at once; an
   * emergency's offer) — then follows as {@link record} does. Returns the booking as stored.
   *
   * @throws as {@link BookingRepository.create}; nothing changed then.
   */
  async create(writes: readonly BookingWrite[], extras: RecordExtras = {}): Promise<Booking> {
    const last = writes.at(-1) as BookingWrite;
    await this.store.create(
      last.after,
      writes.map((write) => write.update),
    );
    return this.follow(writes, extras);
  }

  /**
   * Writes `writes` (in order, one transaction) with the notifications, then applies them to memory, puts the
   * doctors concerned in step, queues the events and calls the listeners. Returns the last booking written.
   *
   * @throws as {@link BookingRepository.commit}; nothing changed then.
   */
  async record(writes: readonly BookingWrite[], extras: RecordExtras = {}): Promise<Booking> {
    await this.store.commit(writes, extras.notifications);
    return this.follow(writes, extras);
  }

  /** What follows a write the store accepted: memory, the doctors' statuses, events, listeners. */
  private follow(writes: readonly BookingWrite[], extras: RecordExtras): Booking {
    const doctors = new Set<string>();
    for (const { before, after, update } of writes) {
      if (before.doctorId !== undefined) doctors.add(before.doctorId);
      if (after.doctorId !== undefined) doctors.add(after.doctorId);
      this.bookings.put(after, update.at);
    }
    const at = writes.at(-1)?.update.at ?? 0;
    for (const doctorId of doctors) this.sync.sync(doctorId, at);
    this.publish(writes, extras.events ?? [], extras.etaSeconds);
    return (writes.at(-1) as BookingWrite).after;
  }

  private publish(
    writes: readonly BookingWrite[],
    extra: readonly DispatchEvent[],
    etaSeconds: number | undefined,
  ): void {
    const events: DispatchEvent[] = [];
    for (const { after, update } of writes) {
      if (update.from === null) {
        events.push({
          type: 'BookingCreated',
          bookingId: after.id,
          priority: after.priority,
          emergency: after.emergency,
          at: update.at,
        });
      }
      events.push(...eventsOfChange(after, update, etaSeconds));
    }
    events.push(...extra);
    this.outbox.add(events);
    void this.outbox.flush();
    if (this.listeners.size === 0) return;
    for (const { after, update } of writes) {
      // One copy for every listener, frozen so that none can change what the others see.
      const booking = copyBooking(after);
      Object.freeze(booking.declinedBy);
      const change: BookingChange = { booking: Object.freeze(booking), update: Object.freeze({ ...update }) };
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (error) {
          this.logger.warn({ err: error, bookingId: after.id }, 'a booking change listener failed');
        }
      }
    }
  }
}
