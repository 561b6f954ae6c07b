/**
 * The mapping between a {@link Booking} and its row in booking.bookings: the columns read (times as float ms), the
 * columns a change writes with their parameter numbers, and the row → booking conversion. Used by booking-store.ts.
 */
import type { BookingStatus, Booking, CallType, TriageCategory } from './booking-types.ts';

const TIME_COLUMNS = [
  'scheduled_at',
  'offer_expires_at',
  'created_at',
  'searching_at',
  'offered_at',
  'assigned_at',
  'en_route_at',
  'arrived_at',
  'started_at',
  'completed_at',
  'cancelled_at',
  'sla_breached_at',
  'escalated_at',
] as const;

const ms = (column: string) => `(extract(epoch from b.${column}) * 1000)::float8 AS ${column}`;
/** The columns of a booking as {@link BookingRow} reads them (table alias `b`). */
export const SELECT_COLUMNS = `b.id::text AS id, b.patient_id, b.call_type, b.symptoms, b.address, b.lat, b.lng, b.priority,
  b.original_priority, b.emergency, b.specialization, b.emergency_type, b.status, b.doctor_id, b.declined_by,
  b.estimated_price::float8 AS estimated_price, b.final_price::float8 AS final_price, b.assigned_eta_seconds,
  b.estimated_duration_minutes, b.actual_duration_minutes, b.cancel_reason, b.version,
  ${TIME_COLUMNS.map(ms).join(', ')}`;

/** A row as {@link SELECT_COLUMNS} returns it. */
export interface BookingRow {
  id: string;
  patient_id: string;
  call_type: CallType;
  symptoms: string;
  address: string;
  lat: number;
  lng: number;
  priority: number;
  original_priority: number;
  emergency: boolean;
  specialization: string | null;
  emergency_type: string | null;
  status: BookingStatus;
  doctor_id: string | null;
  declined_by: string[];
  estimated_price: number;
  final_price: number | null;
  assigned_eta_seconds: number | null;
  estimated_duration_minutes: number;
  actual_duration_minutes: number | null;
  cancel_reason: string | null;
  version: number;
  scheduled_at: number | null;
  offer_expires_at: number | null;
  created_at: number;
  searching_at: number | null;
  offered_at: number | null;
  assigned_at: number | null;
  en_route_at: number | null;
  arrived_at: number | null;
  started_at: number | null;
  completed_at: number | null;
  cancelled_at: number | null;
  sla_breached_at: number | null;
  escalated_at: number | null;
}

/** Time columns come back as float ms; a timestamptz keeps microseconds, so rounding gives the ms written. */
export function time(value: number | null): number | undefined {
  return value === null ? undefined : Math.round(Number(value));
}

/** The booking of a row. */
export function bookingOf(row: BookingRow): Booking {
  const booking: Booking = {
    id: row.id,
    patientId: row.patient_id,
    callType: row.call_type,
    symptoms: row.symptoms,
    address: row.address,
    lat: Number(row.lat),
    lng: Number(row.lng),
    priority: Number(row.priority) as TriageCategory,
    originalPriority: Number(row.original_priority) as TriageCategory,
    emergency: row.emergency,
    status: row.status,
    declinedBy: [...row.declined_by],
    estimatedPrice: Number(row.estimated_price),
    estimatedDurationMinutes: Number(row.estimated_duration_minutes),
    createdAt: time(row.created_at) as number,
    version: Number(row.version),
  };
  const optional: Partial<Booking> = {
    specialization: row.specialization ?? undefined,
    emergencyType: row.emergency_type ?? undefined,
    doctorId: row.doctor_id ?? undefined,
    finalPrice: row.final_price === null ? undefined : Number(row.final_price),
    assignedEtaSeconds: row.assigned_eta_seconds === null ? undefined : Number(row.assigned_eta_seconds),
    actualDurationMinutes:
      row.actual_duration_minutes === null ? undefined : Number(row.actual_duration_minutes),
    cancelReason: row.cancel_reason ?? undefined,
    scheduledAt: time(row.scheduled_at),
    offerExpiresAt: time(row.offer_expires_at),
    searchingAt: time(row.searching_at),
    offeredAt: time(row.offered_at),
    assignedAt: time(row.assigned_at),
    enRouteAt: time(row.en_route_at),
    arrivedAt: time(row.arrived_at),
    startedAt: time(row.started_at),
    completedAt: time(row.completed_at),
    cancelledAt: time(row.cancelled_at),
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (booking as unknown as Record<string, unknown>)[key] = value;
  }
  return booking;
}

/** How a column travels in the JSON of a grouped write: as is, or as ms since the epoch (turned into timestamptz). */
type ColumnType =
  'uuid' | 'text' | 'text[]' | 'smallint' | 'integer' | 'boolean' | 'float8' | 'numeric' | 'ms';

/** A column of booking.bookings a write sets, its type, and its value in a booking. */
interface Column {
  name: string;
  type: ColumnType;
  value: (booking: Booking) => unknown;
}

const column = (name: string, type: ColumnType, value: (booking: Booking) => unknown): Column => ({
  name,
  type,
  value,
});

/** Columns a change may set (everything but the booking's identity and request). */
export const MUTABLE_COLUMNS: readonly Column[] = [
  column('status', 'text', (b) => b.status),
  column('priority', 'smallint', (b) => b.priority),
  column('emergency', 'boolean', (b) => b.emergency),
  column('doctor_id', 'text', (b) => b.doctorId),
  column('offer_expires_at', 'ms', (b) => b.offerExpiresAt),
  column('declined_by', 'text[]', (b) => b.declinedBy),
  column('final_price', 'numeric', (b) => b.finalPrice),
  column('assigned_eta_seconds', 'float8', (b) => b.assignedEtaSeconds),
  column('actual_duration_minutes', 'float8', (b) => b.actualDurationMinutes),
  column('cancel_reason', 'text', (b) => b.cancelReason),
  column('searching_at', 'ms', (b) => b.searchingAt),
  column('offered_at', 'ms', (b) => b.offeredAt),
  column('assigned_at', 'ms', (b) => b.assignedAt),
  column('en_route_at', 'ms', (b) => b.enRouteAt),
  column('arrived_at', 'ms', (b) => b.arrivedAt),
  column('started_at', 'ms', (b) => b.startedAt),
  column('completed_at', 'ms', (b) => b.completedAt),
  column('cancelled_at', 'ms', (b) => b.cancelledAt),
  column('version', 'integer', (b) => b.version),
  column('scheduled_at', 'ms', (b) => b.scheduledAt),
  column('estimated_price', 'numeric', (b) => b.estimatedPrice),
];

/** Columns written once, when the booking is created (geog is derived from lat/lng). */
export const CREATE_COLUMNS: readonly Column[] = [
  column('id', 'uuid', (b) => b.id),
  column('patient_id', 'text', (b) => b.patientId),
  column('call_type', 'text', (b) => b.callType),
  column('symptoms', 'text', (b) => b.symptoms),
  column('address', 'text', (b) => b.address),
  column('lat', 'float8', (b) => b.lat),
  column('lng', 'float8', (b) => b.lng),
  column('original_priority', 'smallint', (b) => b.originalPriority),
  column('specialization', 'text', (b) => b.specialization),
  column('emergency_type', 'text', (b) => b.emergencyType),
  column('estimated_duration_minutes', 'float8', (b) => b.estimatedDurationMinutes),
  column('created_at', 'ms', (b) => b.createdAt),
  ...MUTABLE_COLUMNS,
];

/** The JSON object of a booking's `columns` (absent values as null), for `jsonb_to_recordset`. */
export function rowJson(booking: Booking, columns: readonly Column[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const { name, value } of columns) row[name] = value(booking) ?? null;
  return row;
}

/** The column definition list of `jsonb_to_recordset` for `columns` (times travel as float ms). */
export function recordsetTypes(columns: readonly Column[]): string {
  return columns.map(({ name, type }) => `${name} ${type === 'ms' ? 'float8' : type}`).join(', ');
}

/** The SQL value of column `name` of the recordset row `alias`. */
export function valueSql({ name, type }: Column, alias: string): string {
  return type === 'ms' ? `to_timestamp(${alias}.${name} / 1000.0)` : `${alias}.${name}`;
}

/** SQL turning parameter `$n` (ms since the epoch) into a timestamptz. */
export const ts = (n: number) => `to_timestamp($${n}::float8 / 1000.0)`;
