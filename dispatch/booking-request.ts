/**
 * The checks a booking request and an actor pass before the dispatcher acts on them. The API validates its bodies with
 * its own schemas; these run again inside the dispatcher so that the simulation and any other caller get the same
 * guarantees and the same coded errors.
 */
import { z } from 'zod';
import { TotError } from '../geo/errors.ts';
import {
  CALL_TYPES,
  TRIAGE_CATEGORIES,
  isEmergencyCategory,
  type Actor,
  type BookingRequest,
  type TriageCategory,
} from './booking-types.ts';

/** Furthest ahead a visit may be booked: 30 days. */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 86_400_000;

/** How far in the past a scheduled time may lie (clock skew between a phone and the server): 1 minute. */
export const SCHEDULE_SKEW_MS = 60_000;

const text = (max: number) => z.string().trim().min(1).max(max);

/** The shape of a {@link BookingRequest}; unknown fields are dropped. */
export const bookingRequestSchema = z.object({
  patientId: text(100),
  callType: z.enum(CALL_TYPES),
  symptoms: z.string().trim().max(2_000),
  address: text(500),
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  priority: z.union(TRIAGE_CATEGORIES.map((category) => z.literal(category))),
  specialization: text(64).optional(),
  scheduledAt: z.number().int().optional(),
  emergencyType: text(100).optional(),
});

const actorSchema = z.object({
  id: text(100),
  role: z.enum(['patient', 'doctor', 'clinic_admin', 'dispatcher', 'admin', 'system']),
});

function invalidBooking(field: string, message: string, value: unknown): TotError {
  return new TotError(
    'DISPATCH_INVALID_BOOKING',
    `${field} ${message}, got ${JSON.stringify(value) ?? 'undefined'}`,
    {
      field,
      value,
    },
  );
}

/**
 * The request checked and trimmed.
 *
 * @throws TotError `DISPATCH_INVALID_BOOKING` naming the first bad field and its value: a missing or malformed field,
 *   a scheduled time in the past or more than 30 days ahead, an emergency category booked for later (an emergency is
 *   now or never), an emergency type on a category that is not an emergency.
 */
export function checkBookingRequest(request: BookingRequest, now: number): BookingRequest {
  const parsed = bookingRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'request';
    const value = issue?.path.reduce<unknown>(
      (at, key) =>
        at !== null && typeof at === 'object' ? (at as Record<PropertyKey, unknown>)[key] : undefined,
      request,
    );
    throw invalidBooking(field, `is invalid (${issue?.message ?? 'bad value'})`, value);
  }
  const checked = parsed.data as BookingRequest;
  const priority: TriageCategory = checked.priority;
  if (checked.scheduledAt !== undefined) {
    if (isEmergencyCategory(priority)) {
      throw invalidBooking(
        'scheduledAt',
        `must be absent for emergency category ${priority}`,
        checked.scheduledAt,
      );
    }
    if (checked.scheduledAt < now - SCHEDULE_SKEW_MS) {
      throw invalidBooking('scheduledAt', 'must not be in the past', checked.scheduledAt);
    }
    if (checked.scheduledAt > now + MAX_SCHEDULE_AHEAD_MS) {
      throw invalidBooking('scheduledAt', 'must be at most 30 days ahead', checked.scheduledAt);
    }
  }
  if (checked.emergencyType !== undefined && !isEmergencyCategory(priority)) {
    throw invalidBooking(
      'emergencyType',
      `is only for emergency categories 1 and 2 (priority ${priority})`,
      checked.emergencyType,
    );
  }
  const result: BookingRequest = { ...checked };
  for (const key of ['specialization', 'scheduledAt', 'emergencyType'] as const) {
    if (result[key] === undefined) delete result[key];
  }
  return result;
}

/** @throws TotError `DISPATCH_INVALID_BOOKING` (field `priority`) unless `priority` is a triage category. */
export function checkPriority(priority: unknown): TriageCategory {
  if (!TRIAGE_CATEGORIES.includes(priority as TriageCategory)) {
    throw invalidBooking('priority', 'must be one of 1, 2, 3, 4', priority);
  }
  return priority as TriageCategory;
}

/**
 * @throws TotError `DISPATCH_INVALID_BOOKING` (field `by.id` or `by.role`) for an actor without an id or with an
 *   unknown role.
 */
export function checkActor(by: Actor): Actor {
  const parsed = actorSchema.safeParse(by);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.map(String).join('.') || '';
    const field = key === '' ? 'by' : `by.${key}`;
    const value = key === '' ? by : (by as unknown as Record<string, unknown> | null)?.[key];
    throw invalidBooking(field, `is invalid (${issue?.message ?? 'bad value'})`, value);
  }
  return parsed.data;
}

/**
 * @throws TotError `DISPATCH_INVALID_BOOKING` naming `field` unless `value` is a non-empty string of at most `max`
 *   characters (doctor ids, reasons).
 */
export function checkText(field: string, value: unknown, max = 200): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw invalidBooking(field, `must be a non-empty string of at most ${max} characters`, value);
  }
  return value;
}
