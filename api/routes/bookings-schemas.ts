/**
 * The zod schemas of the booking routes: request bodies are strict (an unknown field — `patientId`, `status`,
 * `doctorId`, … — is refused and named, so a client cannot assign what the server decides), query strings are read
 * as the strings a client sends.
 */
import { z } from 'zod';
import {
  BOOKING_STATUSES,
  CALL_TYPES,
  isEmergencyCategory,
  type BookingStatus,
  type TriageCategory,
} from '../../dispatch/booking-types.ts';

/** Longest id accepted in a path, a filter or a body (booking, doctor and user ids are UUIDs or short names). */
const MAX_ID_LENGTH = 64;

const idSchema = z.string().trim().min(1, { error: 'must not be empty' }).max(MAX_ID_LENGTH);

/** A free text of at most `max` characters, trimmed, not empty. */
function text(max: number) {
  return z.string().trim().min(1, { error: 'must not be empty' }).max(max);
}

/** A triage category 1–4 in a JSON body. */
const prioritySchema = z
  .number({ error: 'must be a number 1–4' })
  .int({ error: 'must be an integer 1–4' })
  .min(1, { error: 'must be an integer 1–4' })
  .max(4, { error: 'must be an integer 1–4' })
  .transform((value) => value as TriageCategory);

/** Path of every route of one booking. */
export const bookingIdParams = z.object({ id: idSchema });

/**
 * Body of POST /v1/bookings. The patient is the caller; `emergencyType` only with an emergency category (1 or 2).
 * `scheduledAt` (ms since the epoch) books a visit ahead; whether the time is acceptable is the dispatcher's call.
 */
export const bookingBodySchema = z
  .strictObject({
    callType: z.enum(CALL_TYPES),
    symptoms: text(2000),
    address: text(500),
    lat: z.number().min(-90).max(90),
    lng: z.number().min(-180).max(180),
    priority: prioritySchema,
    specialization: text(64).optional(),
    scheduledAt: z.number().int().positive().optional(),
    emergencyType: text(100).optional(),
  })
  .refine((body) => body.emergencyType === undefined || isEmergencyCategory(body.priority), {
    error: 'is allowed only with priority 1 or 2 (an emergency)',
    path: ['emergencyType'],
  });

/** Body of POST /v1/bookings/estimate: what the price depends on. */
export const estimateBodySchema = z.strictObject({
  callType: z.enum(CALL_TYPES),
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  priority: prioritySchema,
  specialization: text(64).optional(),
});

/** A comma list of booking statuses in a query string (`status=searching,offered`). */
const statusListSchema = z
  .string()
  .trim()
  .transform((value, context) => {
    const statuses = value.split(',').map((part) => part.trim());
    const unknown = statuses.filter((status) => !BOOKING_STATUSES.includes(status as BookingStatus));
    if (unknown.length > 0) {
      context.addIssue({
        code: 'custom',
        message: `unknown status ${unknown.map((status) => JSON.stringify(status)).join(', ')}; one of ${BOOKING_STATUSES.join(', ')}`,
      });
      return z.NEVER;
    }
    return statuses as BookingStatus[];
  });

/** Query of GET /v1/bookings. `patientId` and `doctorId` are filters of dispatchers and admins. */
export const bookingListQuerySchema = z.object({
  status: statusListSchema.optional(),
  patientId: idSchema.optional(),
  doctorId: idSchema.optional(),
  limit: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .default(50),
  /** Keyset paging: the `next` of the previous page. */
  after: idSchema.optional(),
});

/** Body of POST /v1/bookings/:id/cancel. */
export const cancelBodySchema = z.strictObject({ reason: text(500) });

/** Body of POST /v1/bookings/:id/assign (dispatcher override). */
export const assignBodySchema = z.strictObject({ doctorId: idSchema });

/** Body of POST /v1/bookings/:id/reassign (dispatcher override). */
export const reassignBodySchema = z.strictObject({ reason: text(500) });

/** Body of POST /v1/bookings/:id/priority (dispatcher override). */
export const priorityBodySchema = z.strictObject({ priority: prioritySchema });

/** Body of POST /v1/bookings/:id/decline (the offered doctor). */
export const declineBodySchema = z.strictObject({ reason: text(500).optional() }).optional();

/** Body of the doctor's accept, arrived, start and complete: none, or an empty object. */
export const emptyBodySchema = z.strictObject({}).optional();
