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

/** The row's mutable columns in the order of {@link MUTABLE_SQL}, $2 … $22. */
export function mutableParams(booking: Booking): unknown[] {
  return [
    booking.status,
    booking.priority,
    booking.emergency,
    booking.doctorId ?? null,
    booking.offerExpiresAt ?? null,
    booking.declinedBy,
    booking.finalPrice ?? null,
    booking.assignedEtaSeconds ?? null,
    booking.actualDurationMinutes ?? null,
    booking.cancelReason ?? null,
    booking.searchingAt ?? null,
    booking.offeredAt ?? null,
    booking.assignedAt ?? null,
    booking.enRouteAt ?? null,
    booking.arrivedAt ?? null,
    booking.startedAt ?? null,
    booking.completedAt ?? null,
    booking.cancelledAt ?? null,
    booking.version,
    booking.scheduledAt ?? null,
    booking.estimatedPrice,
  ];
}

/** SQL turning parameter $n (ms since the epoch, or null) into a timestamptz. */
export const ts = (n: number) => `to_timestamp($${n}::float8 / 1000.0)`;
/** The SET list of a change: the columns of {@link mutableParams} as $2 … $22. */
export const MUTABLE_SQL = `status = $2, priority = $3, emergency = $4, doctor_id = $5, offer_expires_at = ${ts(6)},
  declined_by = $7::text[], final_price = $8, assigned_eta_seconds = $9, actual_duration_minutes = $10,
  cancel_reason = $11, searching_at = ${ts(12)}, offered_at = ${ts(13)}, assigned_at = ${ts(14)},
  en_route_at = ${ts(15)}, arrived_at = ${ts(16)}, started_at = ${ts(17)}, completed_at = ${ts(18)},
  cancelled_at = ${ts(19)}, version = $20, scheduled_at = ${ts(21)}, estimated_price = $22`;
