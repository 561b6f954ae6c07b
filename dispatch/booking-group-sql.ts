/**
 * The statements of grouped booking writes (dispatch/group-commit.ts): any number of new bookings, or of changes to
 * different bookings, each with its status updates, in ONE statement — the rows travel as one JSON parameter read by
 * `jsonb_to_recordset`. A single statement is atomic on its own, so a write costs one round trip instead of the four
 * of BEGIN, UPDATE, INSERT, COMMIT. A change is applied only where the row still has the expected version; the status
 * updates are inserted only for the rows written (they join the statement's RETURNING), in their given order.
 */
import type { SqlExecutor } from '../engine/store.ts';
import { staleVersion } from './booking-repository.ts';
import { CREATE_COLUMNS, MUTABLE_COLUMNS, recordsetTypes, rowJson, valueSql } from './booking-rows.ts';
import type { Booking, BookingStatusUpdate } from './booking-types.ts';

/** A new booking: the row as it is after `updates` (its whole history so far, the first from null). */
export interface CreateItem {
  kind: 'create';
  bookingId: string;
  doctorIds: readonly string[];
  urgent: boolean;
  booking: Booking;
  updates: readonly BookingStatusUpdate[];
}

/** A change of one booking from the row at `expectedVersion` to `after`, recorded by `updates`. */
export interface ChangeItem {
  kind: 'change';
  bookingId: string;
  doctorIds: readonly string[];
  urgent: boolean;
  expectedVersion: number;
  after: Booking;
  updates: readonly BookingStatusUpdate[];
}

export type BookingGroupItem = CreateItem | ChangeItem;

const UPDATE_TYPES =
  'n integer, booking_id uuid, from_status text, to_status text, by_id text, by_role text, reason text, ' +
  'doctor_id text, at float8';

/** The status updates of `items` as recordset rows, numbered in order. */
function updatesJson(items: readonly BookingGroupItem[]): string {
  const rows: Record<string, unknown>[] = [];
  for (const item of items) {
    for (const update of item.updates) {
      rows.push({
        n: rows.length,
        booking_id: update.bookingId,
        from_status: update.from,
        to_status: update.to,
        by_id: update.by.id,
        by_role: update.by.role,
        reason: update.reason ?? null,
        doctor_id: update.doctorId ?? null,
        at: update.at,
      });
    }
  }
  return JSON.stringify(rows);
}

const INSERT_UPDATES = `INSERT INTO booking.status_updates
      (booking_id, from_status, to_status, by_id, by_role, reason, doctor_id, at)
    SELECT u.booking_id, u.from_status, u.to_status, u.by_id, u.by_role, u.reason, u.doctor_id,
           to_timestamp(u.at / 1000.0)
      FROM jsonb_to_recordset($2::jsonb) AS u(${UPDATE_TYPES})
      JOIN written w ON w.id = u.booking_id
     ORDER BY u.n`;

const CREATE_SQL = `WITH written AS (
    INSERT INTO booking.bookings (${CREATE_COLUMNS.map((c) => c.name).join(', ')}, geog)
    SELECT ${CREATE_COLUMNS.map((c) => valueSql(c, 'i')).join(', ')},
           ST_SetSRID(ST_MakePoint(i.lng, i.lat), 4326)::geography
      FROM jsonb_to_recordset($1::jsonb) AS i(${recordsetTypes(CREATE_COLUMNS)})
    RETURNING id
  ), recorded AS (${INSERT_UPDATES})
  SELECT id::text AS id FROM written`;

const CHANGE_SQL = `WITH written AS (
    UPDATE booking.bookings b
       SET ${MUTABLE_COLUMNS.map((c) => `${c.name} = ${valueSql(c, 'i')}`).join(', ')}
      FROM (SELECT * FROM jsonb_to_recordset($1::jsonb)
              AS r(expected_version integer, id uuid, ${recordsetTypes(MUTABLE_COLUMNS)}) LIMIT $3) AS i
     WHERE b.id = i.id AND b.version = i.expected_version
    RETURNING b.id
  ), recorded AS (${INSERT_UPDATES})
  SELECT id::text AS id FROM written`;

/**
 * The statement writing `items` (all of `kind`) and its parameters. A change's rows are read with a LIMIT of their
 * count: the planner takes any set-returning function for 100 rows, and against 100 rows a table of up to some ten
 * thousand bookings looks cheaper to scan whole than to probe by id — every change of one booking then read the whole
 * table (a fresh database, and the embedded one for good). With the true count it probes the primary key.
 */
export function groupStatement(
  kind: BookingGroupItem['kind'],
  items: readonly BookingGroupItem[],
): { text: string; values: unknown[] } {
  if (kind === 'create') {
    const rows = items.map((item) => rowJson((item as CreateItem).booking, CREATE_COLUMNS));
    return { text: CREATE_SQL, values: [JSON.stringify(rows), updatesJson(items)] };
  }
  const rows = items.map((item) => {
    const change = item as ChangeItem;
    return {
      expected_version: change.expectedVersion,
      ...rowJson(change.after, MUTABLE_COLUMNS),
      id: change.bookingId,
    };
  });
  return { text: CHANGE_SQL, values: [JSON.stringify(rows), updatesJson(items), items.length] };
}

/**
 * Writes a group of one kind in one statement; per item `undefined` (written) or its refusal: a change whose row no
 * longer has the expected version (or is missing) gets `DISPATCH_INVALID_TRANSITION`. New bookings are all written or
 * the statement fails.
 *
 * @throws the store's error when the statement fails as a whole (a unique index, a repeated id, the connection);
 *   nothing of the group is written then.
 */
export async function writeGroup(
  sql: Pick<SqlExecutor, 'query'>,
  kind: BookingGroupItem['kind'],
  items: readonly BookingGroupItem[],
): Promise<(Error | undefined)[]> {
  const { text, values } = groupStatement(kind, items);
  // Named: the long statement is parsed once per connection, not for every group.
  const result = await sql.query<{ id: string }>(text, values, `booking-${kind}-group`);
  const written = new Set(result.rows.map((row) => row.id));
  return items.map((item) =>
    written.has(item.bookingId.toLowerCase())
      ? undefined
      : staleVersion(item.bookingId, item.kind === 'change' ? item.expectedVersion : 0),
  );
}
