/**
 * The {@link BookingRepository} in SQL (schema `booking`, migration 0007): the rows, their recorded changes, and the
 * notifications dispatch writes. Works on both store implementations (PostgreSQL and PGlite). A change is written
 * with an optimistic version check, the row update and its status update in one transaction; the partial unique index
 * `bookings_doctor_held` refuses a second booking holding the same doctor whatever the code above does.
 */
import type { SqlExecutor, Store } from '../engine/store.ts';
import {
  bookingNotFound,
  doctorHeld,
  isBookingId,
  listLimit,
  checkHistory,
  type ActiveBookingRow,
  type BookingMarks,
  type BookingRepository,
  type BookingWrite,
  type CompletedVisit,
  type NotificationRecord,
  type StoredNotification,
} from './booking-repository.ts';
import { writeGroup, type BookingGroupItem, type ChangeItem } from './booking-group-sql.ts';
import { SELECT_COLUMNS, bookingOf, time, ts, type BookingRow } from './booking-rows.ts';
import { GroupCommit, type GroupCommitOptions, type GroupCommitStats } from './group-commit.ts';
import type {
  Actor,
  Booking,
  BookingListFilter,
  BookingStatus,
  BookingStatusUpdate,
  CallType,
} from './booking-types.ts';

const HELD_INDEX = 'bookings_doctor_held';
/** A PostgreSQL unique violation of the doctor-held index, from either driver. */
function isDoubleBooking(error: unknown): boolean {
  const record = error as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  return (
    record?.code === '23505' &&
    (record.constraint === HELD_INDEX || String(record.message ?? '').includes(HELD_INDEX))
  );
}

/** The bookings tables in PostgreSQL or PGlite. One instance per store; stateless apart from the store handle. */
export class SqlBookingStore implements BookingRepository {
  private readonly group: GroupCommit<BookingGroupItem['kind'], BookingGroupItem>;

  /**
   * @param options.maxInFlight grouped statements at once: at most the connections the store can give them (PGlite
   *   has one; leave some of a pool for reads and transactions). Default 4.
   */
  constructor(
    private readonly store: Pick<Store, 'query' | 'transaction' | 'insertWriter'>,
    options: GroupCommitOptions = {},
  ) {
    // New bookings only insert rows: on the store's connections that keep their plans. Changes find their rows by a
    // join, planned afresh on the store's own (see INSERT_WRITER_SETTINGS).
    this.group = new GroupCommit(
      (kind, items) => writeGroup(kind === 'create' ? store.insertWriter() : store, kind, items),
      options,
    );
  }

  /**
   * Inserts a new booking with its recorded updates, in one statement (grouped with other writes under load).
   *
   * @throws TotError `DISPATCH_DOCTOR_UNAVAILABLE` when it holds a doctor another booking holds; the store's own
   *   errors (e.g. a repeated id) otherwise. Nothing is written on a throw.
   */
  async create(booking: Booking, updates: readonly BookingStatusUpdate[]): Promise<void> {
    checkHistory(booking, updates);
    await this.guard(booking, () =>
      this.group.submit({
        kind: 'create',
        bookingId: booking.id,
        doctorIds: booking.doctorId === undefined ? [] : [booking.doctorId],
        urgent: booking.emergency,
        booking,
        updates,
      }),
    );
  }

  /**
   * Writes changes in order, each only if the row still has `before.version`, with their status updates and the
   * notifications. All or nothing. Changes of one booking without notifications — nearly every change — are one
   * statement, grouped with other writes under load (urgent ones first); anything else is one transaction.
   *
   * @throws TotError `DISPATCH_INVALID_TRANSITION` when a row changed meanwhile (a stale version) or is missing;
   *   `DISPATCH_DOCTOR_UNAVAILABLE` when a change would let two bookings hold one doctor. Nothing is written then.
   */
  async commit(
    writes: readonly BookingWrite[],
    notifications: readonly NotificationRecord[] = [],
  ): Promise<void> {
    if (writes.length === 0 && notifications.length === 0) return;
    const chain = notifications.length === 0 ? chainOf(writes) : undefined;
    if (chain !== undefined) {
      await this.guard(chain.after, () => this.group.submit(chain));
      return;
    }
    await this.guard(writes[0]?.after, () =>
      this.store.transaction(async (sql) => {
        for (const write of writes) {
          const [refusal] = await writeGroup(sql, 'change', [changeItem([write])]);
          if (refusal !== undefined) throw refusal;
        }
        for (const notification of notifications) await insertNotification(sql, notification);
      }),
    );
  }

  /** How the single-booking writes went out so far: statements, the writes they carried, writes retried alone. */
  writeStats(): GroupCommitStats {
    return this.group.stats();
  }

  /** The booking with that id. @throws TotError `DISPATCH_BOOKING_NOT_FOUND`. */
  async get(id: string): Promise<Booking> {
    if (!isBookingId(id)) throw bookingNotFound(id);
    const result = await this.store.query<BookingRow>(
      `SELECT ${SELECT_COLUMNS} FROM booking.bookings b WHERE b.id = $1`,
      [id],
    );
    const row = result.rows[0];
    if (!row) throw bookingNotFound(id);
    return bookingOf(row);
  }

  /**
   * Bookings matching every given filter, newest first (created_at, then id), at most `limit` (default 50, at most
   * 500), after the booking `after` (keyset paging: stable while new bookings arrive).
   *
   * @throws TotError `DISPATCH_BOOKING_NOT_FOUND` when `after` names no booking; `DISPATCH_INVALID_BOOKING` for a
   *   limit that is not a whole number in [1, 500].
   */
  async list(filter: BookingListFilter = {}): Promise<Booking[]> {
    const limit = listLimit(filter.limit);
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.patientId !== undefined) {
      params.push(filter.patientId);
      where.push(`b.patient_id = $${params.length}`);
    }
    if (filter.doctorId !== undefined) {
      params.push(filter.doctorId);
      where.push(`b.doctor_id = $${params.length}`);
    }
    if (filter.status !== undefined) {
      params.push([...filter.status]);
      where.push(`b.status = ANY($${params.length}::text[])`);
    }
    if (filter.after !== undefined) {
      if (!isBookingId(filter.after)) throw bookingNotFound(filter.after, 'after');
      const anchor = await this.store.query<{ id: string }>('SELECT id FROM booking.bookings WHERE id = $1', [
        filter.after,
      ]);
      if (anchor.rows.length === 0) throw bookingNotFound(filter.after, 'after');
      params.push(filter.after);
      where.push(
        `(b.created_at, b.id) < (SELECT created_at, id FROM booking.bookings WHERE id = $${params.length})`,
      );
    }
    params.push(limit);
    const result = await this.store.query<BookingRow>(
      `SELECT ${SELECT_COLUMNS} FROM booking.bookings b
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY b.created_at DESC, b.id DESC
        LIMIT $${params.length}`,
      params,
    );
    return result.rows.map(bookingOf);
  }

  /** The recorded changes of a booking, oldest first. @throws TotError `DISPATCH_BOOKING_NOT_FOUND`. */
  async history(id: string): Promise<BookingStatusUpdate[]> {
    if (!isBookingId(id)) throw bookingNotFound(id);
    const result = await this.store.query<{
      exists: boolean;
      from_status: BookingStatus | null;
      to_status: BookingStatus | null;
      by_id: string | null;
      by_role: Actor['role'] | null;
      reason: string | null;
      doctor_id: string | null;
      at: number | null;
    }>(
      `SELECT true AS exists, u.from_status, u.to_status, u.by_id, u.by_role, u.reason, u.doctor_id,
              (extract(epoch from u.at) * 1000)::float8 AS at
         FROM booking.bookings b LEFT JOIN booking.status_updates u ON u.booking_id = b.id
        WHERE b.id = $1
        ORDER BY u.id`,
      [id],
    );
    if (result.rows.length === 0) throw bookingNotFound(id);
    return result.rows
      .filter((row) => row.to_status !== null)
      .map((row) => {
        const update: BookingStatusUpdate = {
          bookingId: id,
          from: row.from_status,
          to: row.to_status as BookingStatus,
          by: { id: row.by_id as string, role: row.by_role as Actor['role'] },
          at: time(row.at) as number,
        };
        if (row.reason !== null) update.reason = row.reason;
        if (row.doctor_id !== null) update.doctorId = row.doctor_id;
        return update;
      });
  }

  /** Every booking not completed or cancelled, oldest first, with its marks (what a restarted dispatcher needs). */
  async loadActive(): Promise<ActiveBookingRow[]> {
    const result = await this.store.query<BookingRow>(
      `SELECT ${SELECT_COLUMNS} FROM booking.bookings b
        WHERE b.status NOT IN ('completed', 'cancelled')
        ORDER BY b.created_at, b.id`,
    );
    return result.rows.map((row) => {
      const marks: BookingMarks = {};
      const slaBreachedAt = time(row.sla_breached_at);
      const escalatedAt = time(row.escalated_at);
      if (slaBreachedAt !== undefined) marks.slaBreachedAt = slaBreachedAt;
      if (escalatedAt !== undefined) marks.escalatedAt = escalatedAt;
      return { booking: bookingOf(row), marks };
    });
  }

  async recentVisits(limit: number): Promise<CompletedVisit[]> {
    // Read through the partial index bookings_completed (migration 0009), not the whole table.
    const result = await this.store.query<{ call_type: CallType; duration_ms: number }>(
      `SELECT b.call_type, (extract(epoch FROM b.completed_at - b.started_at) * 1000)::float8 AS duration_ms
         FROM booking.bookings b
        WHERE b.status = 'completed' AND b.started_at IS NOT NULL
        ORDER BY b.completed_at DESC
        LIMIT $1`,
      [limit],
    );
    return result.rows.map((row) => ({ callType: row.call_type, durationMs: Number(row.duration_ms) }));
  }

  /**
   * Records that a one-off signal was raised for a booking (no version change: the booking itself is unchanged),
   * with the notification that tells someone of it, in one transaction.
   */
  async mark(
    id: string,
    mark: keyof BookingMarks,
    at: number,
    notification?: NotificationRecord,
  ): Promise<void> {
    const column = mark === 'slaBreachedAt' ? 'sla_breached_at' : 'escalated_at';
    await this.store.transaction(async (sql) => {
      await sql.query(`UPDATE booking.bookings SET ${column} = ${ts(2)} WHERE id = $1`, [id, at]);
      if (notification) await insertNotification(sql, notification);
    });
  }

  /** Writes a notification record. */
  async insertNotification(notification: NotificationRecord): Promise<void> {
    await insertNotification(this.store, notification);
  }

  /** Notifications, newest first, for a recipient and/or a booking (delivery channels, tests, the dispatcher UI). */
  async notifications(filter: {
    recipient?: string;
    bookingId?: string;
    limit?: number;
  }): Promise<StoredNotification[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.recipient !== undefined) {
      params.push(filter.recipient);
      where.push(`recipient = $${params.length}`);
    }
    if (filter.bookingId !== undefined) {
      if (!isBookingId(filter.bookingId)) return [];
      params.push(filter.bookingId);
      where.push(`booking_id = $${params.length}`);
    }
    params.push(listLimit(filter.limit));
    const result = await this.store.query<{
      id: string;
      recipient: string;
      kind: string;
      booking_id: string | null;
      payload: Record<string, unknown>;
      created_at: number;
      read_at: number | null;
    }>(
      `SELECT id::text AS id, recipient, kind, booking_id::text AS booking_id, payload,
              (extract(epoch from created_at) * 1000)::float8 AS created_at,
              (extract(epoch from read_at) * 1000)::float8 AS read_at
         FROM notification.notifications
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY created_at DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    return result.rows.map((row) => {
      const stored: StoredNotification = {
        id: row.id,
        recipient: row.recipient,
        kind: row.kind,
        payload:
          typeof row.payload === 'string'
            ? (JSON.parse(row.payload) as Record<string, unknown>)
            : row.payload,
        createdAt: time(row.created_at) as number,
      };
      if (row.booking_id !== null) stored.bookingId = row.booking_id;
      const readAt = time(row.read_at);
      if (readAt !== undefined) stored.readAt = readAt;
      return stored;
    });
  }

  /** Runs a write, turning a violation of the doctor-held index into the dispatch code. */
  private async guard(booking: Booking | undefined, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (!isDoubleBooking(error)) throw error;
      // PostgreSQL names the duplicate key in the detail: "Key (doctor_id)=(d7) already exists."
      const named = /\(doctor_id\)=\((.*)\)/.exec(String((error as { detail?: unknown }).detail ?? ''));
      throw doctorHeld(named?.[1] ?? booking?.doctorId);
    }
  }
}

/** The change item of writes to one booking, each following the previous. */
function changeItem(writes: readonly BookingWrite[]): ChangeItem {
  const first = writes[0] as BookingWrite;
  const last = writes.at(-1) as BookingWrite;
  const doctorIds = new Set<string>();
  for (const { before, after } of writes) {
    if (before.doctorId !== undefined) doctorIds.add(before.doctorId);
    if (after.doctorId !== undefined) doctorIds.add(after.doctorId);
  }
  return {
    kind: 'change',
    bookingId: first.after.id,
    doctorIds: [...doctorIds],
    urgent: last.after.emergency,
    expectedVersion: first.before.version,
    after: last.after,
    updates: writes.map((write) => write.update),
  };
}

/** The writes as one change item when they are a chain on one booking (each starting where the previous ended). */
function chainOf(writes: readonly BookingWrite[]): ChangeItem | undefined {
  for (let i = 1; i < writes.length; i++) {
    const previous = writes[i - 1] as BookingWrite;
    const write = writes[i] as BookingWrite;
    if (write.before.id !== previous.after.id || write.before.version !== previous.after.version)
      return undefined;
  }
  return changeItem(writes);
}

async function insertNotification(
  sql: Pick<SqlExecutor, 'query'>,
  notification: NotificationRecord,
): Promise<void> {
  await sql.query(
    `INSERT INTO notification.notifications (recipient, kind, booking_id, payload, created_at)
     VALUES ($1, $2, $3, $4::jsonb, ${ts(5)})`,
    [
      notification.recipient,
      notification.kind,
      notification.bookingId ?? null,
      JSON.stringify(notification.payload),
      notification.createdAt,
    ],
  );
}
