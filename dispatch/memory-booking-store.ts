/**
 * The {@link BookingRepository} in process memory: for simulations that book tens of thousands of visits without a
 * database round trip per change, and for the dispatcher's unit tests. It refuses what the SQL store refuses, with the
 * same codes — a stale version, a second booking holding a doctor (the SQL store's unique index), an unknown id — and
 * a refused commit changes nothing. Nothing survives the process.
 */
import { holdsDoctor } from './booking-lifecycle.ts';
import {
  bookingNotFound,
  checkHistory,
  doctorHeld,
  isBookingId,
  listLimit,
  staleVersion,
  type ActiveBookingRow,
  type BookingMarks,
  type BookingRepository,
  type BookingWrite,
  type CompletedVisit,
  type NotificationRecord,
  type StoredNotification,
} from './booking-repository.ts';
import {
  FINAL_STATUSES,
  type Booking,
  type BookingListFilter,
  type BookingStatusUpdate,
} from './booking-types.ts';

function copy(booking: Booking): Booking {
  return { ...booking, declinedBy: [...booking.declinedBy] };
}

/** Orders newest first: createdAt descending, then id descending (the SQL store's keyset order). */
function newestFirst(a: Booking, b: Booking): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** Bookings kept in maps. */
export class MemoryBookingStore implements BookingRepository {
  private readonly bookings = new Map<string, Booking>();
  private readonly updates = new Map<string, BookingStatusUpdate[]>();
  private readonly marks = new Map<string, BookingMarks>();
  private readonly notes: StoredNotification[] = [];
  /** doctor id → id of the booking holding them. */
  private readonly holders = new Map<string, string>();
  private nextNotificationId = 1;

  async create(booking: Booking, updates: readonly BookingStatusUpdate[]): Promise<void> {
    checkHistory(booking, updates);
    if (this.bookings.has(booking.id)) throw new Error(`booking ${booking.id} exists already`);
    const holders = this.stage([{ before: booking, after: booking }], true);
    this.bookings.set(booking.id, copy(booking));
    this.updates.set(
      booking.id,
      updates.map((update) => ({ ...update })),
    );
    this.applyHolders(holders);
  }

  async commit(
    writes: readonly BookingWrite[],
    notifications: readonly NotificationRecord[] = [],
  ): Promise<void> {
    const holders = this.stage(writes, false);
    for (const { after, update } of writes) {
      this.bookings.set(after.id, copy(after));
      (this.updates.get(after.id) as BookingStatusUpdate[]).push({ ...update });
    }
    this.applyHolders(holders);
    for (const notification of notifications) this.store(notification);
  }

  async get(id: string): Promise<Booking> {
    const booking = this.bookings.get(id);
    if (booking === undefined) throw bookingNotFound(id);
    return copy(booking);
  }

  async list(filter: BookingListFilter = {}): Promise<Booking[]> {
    const limit = listLimit(filter.limit);
    let anchor: Booking | undefined;
    if (filter.after !== undefined) {
      anchor = isBookingId(filter.after) ? this.bookings.get(filter.after) : undefined;
      if (anchor === undefined) throw bookingNotFound(filter.after, 'after');
    }
    const matches = [...this.bookings.values()].filter(
      (booking) =>
        (filter.patientId === undefined || booking.patientId === filter.patientId) &&
        (filter.doctorId === undefined || booking.doctorId === filter.doctorId) &&
        (filter.status === undefined || filter.status.includes(booking.status)) &&
        (anchor === undefined || newestFirst(anchor, booking) < 0),
    );
    return matches.sort(newestFirst).slice(0, limit).map(copy);
  }

  async history(id: string): Promise<BookingStatusUpdate[]> {
    const updates = this.updates.get(id);
    if (updates === undefined) throw bookingNotFound(id);
    return updates.map((update) => ({ ...update }));
  }

  async loadActive(): Promise<ActiveBookingRow[]> {
    return [...this.bookings.values()]
      .filter((booking) => !FINAL_STATUSES.includes(booking.status))
      .sort((a, b) => -newestFirst(a, b))
      .map((booking) => ({ booking: copy(booking), marks: { ...(this.marks.get(booking.id) ?? {}) } }));
  }

  async recentVisits(limit: number): Promise<CompletedVisit[]> {
    return [...this.bookings.values()]
      .filter((booking) => booking.status === 'completed' && booking.startedAt !== undefined)
      .sort((a, b) => (b.completedAt as number) - (a.completedAt as number))
      .slice(0, limit)
      .map((booking) => ({
        callType: booking.callType,
        durationMs: (booking.completedAt as number) - (booking.startedAt as number),
      }));
  }

  async mark(
    id: string,
    mark: keyof BookingMarks,
    at: number,
    notification?: NotificationRecord,
  ): Promise<void> {
    if (!this.bookings.has(id)) return;
    this.marks.set(id, { ...(this.marks.get(id) ?? {}), [mark]: at });
    if (notification) this.store(notification);
  }

  async insertNotification(notification: NotificationRecord): Promise<void> {
    this.store(notification);
  }

  async notifications(filter: {
    recipient?: string;
    bookingId?: string;
    limit?: number;
  }): Promise<StoredNotification[]> {
    const limit = listLimit(filter.limit);
    return this.notes
      .filter(
        (note) =>
          (filter.recipient === undefined || note.recipient === filter.recipient) &&
          (filter.bookingId === undefined || note.bookingId === filter.bookingId),
      )
      .sort((a, b) => b.createdAt - a.createdAt || Number(b.id) - Number(a.id))
      .slice(0, limit)
      .map((note) => ({ ...note, payload: structuredClone(note.payload) }));
  }

  /**
   * Checks writes in order as the SQL store does — each against the version before it, and against the unique index
   * of held doctors row by row (so a doctor must be let go before another booking takes them, as in SQL) — without
   * changing anything. Returns the changes to the holder index (undefined: the doctor is free).
   */
  private stage(
    writes: readonly Pick<BookingWrite, 'before' | 'after'>[],
    creating: boolean,
  ): Map<string, string | undefined> {
    const staged = new Map<string, Booking>();
    const changes = new Map<string, string | undefined>();
    const holderOf = (doctorId: string) =>
      changes.has(doctorId) ? changes.get(doctorId) : this.holders.get(doctorId);
    for (const { before, after } of writes) {
      const current = creating ? undefined : (staged.get(after.id) ?? this.bookings.get(after.id));
      if (!creating && (current === undefined || current.version !== before.version)) {
        throw staleVersion(after.id, before.version);
      }
      if (current?.doctorId !== undefined && holderOf(current.doctorId) === after.id) {
        changes.set(current.doctorId, undefined);
      }
      if (after.doctorId !== undefined && holdsDoctor(after.status)) {
        const holder = holderOf(after.doctorId);
        if (holder !== undefined && holder !== after.id) throw doctorHeld(after.doctorId);
        changes.set(after.doctorId, after.id);
      }
      staged.set(after.id, after);
    }
    return changes;
  }

  private applyHolders(changes: Map<string, string | undefined>): void {
    for (const [doctorId, bookingId] of changes) {
      if (bookingId === undefined) this.holders.delete(doctorId);
      else this.holders.set(doctorId, bookingId);
    }
  }

  private store(notification: NotificationRecord): void {
    this.notes.push({
      ...notification,
      payload: structuredClone(notification.payload),
      id: String(this.nextNotificationId++),
    });
  }
}
