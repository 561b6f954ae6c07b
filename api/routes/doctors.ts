import { z } from 'zod';
import { DOCTOR_STATUSES, type Fleet } from '../../engine/fleet.ts';
import { TotError } from '../../geo/errors.ts';
import { validate } from '../errors.ts';
import type { Router } from '../router.ts';

/** Query of GET /v1/doctors/nearby. */
export const nearbyQuerySchema = z.object({
  lat: numberParameter().pipe(z.number().min(-90).max(90)),
  lng: numberParameter().pipe(z.number().min(-180).max(180)),
  k: numberParameter().pipe(z.number().int().min(1).max(100)).default(10),
  maxKm: numberParameter().pipe(z.number().positive().max(100)).optional(),
  specialization: z.string().trim().min(1).max(64).optional(),
  status: z.enum(DOCTOR_STATUSES).default('available'),
});

/** A decimal number in a query string ("55.75", "-1e-3"); anything else is "must be a number". */
function numberParameter() {
  return z
    .string({ error: 'is required' })
    .trim()
    .regex(/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, { error: 'must be a number' })
    .transform(Number);
}

const idSchema = z.object({ id: z.string().min(1).max(64) });

/**
 * Doctors' live positions. Read-only, served from the in-memory fleet.
 * `fleet` is a getter because a restore at boot replaces the fleet object.
 */
export function addDoctorRoutes(router: Router, fleet: () => Fleet): void {
  router.get('/v1/doctors/nearby', (request) => {
    // Only the first value of each parameter counts, as URLSearchParams.get gives.
    const raw = Object.fromEntries([...new Set(request.query.keys())].map((key) => [key, request.query.get(key)]));
    const query = validate(nearbyQuerySchema, raw, 'query');
    const hits = fleet().nearby(query.lat, query.lng, {
      k: query.k,
      ...(query.maxKm === undefined ? {} : { maxKm: query.maxKm }),
      ...(query.specialization === undefined ? {} : { specialization: query.specialization }),
      status: query.status,
    });
    return {
      status: 200,
      body: {
        query,
        doctors: hits.map((hit) => ({ ...publicView(hit.doctor), distanceKm: hit.distanceKm })),
      },
    };
  });

  router.get('/v1/doctors/:id/position', (request) => {
    const { id } = validate(idSchema, request.params, 'path');
    const doctor = fleet().get(id);
    if (!doctor || doctor.lat === undefined) {
      throw new TotError('ENGINE_DOCTOR_NOT_FOUND', `no position known for doctor ${JSON.stringify(id)}`, { field: 'id', value: id });
    }
    return { status: 200, body: publicView(doctor) };
  });
}

function publicView(doctor: NonNullable<ReturnType<Fleet['get']>>) {
  return {
    id: doctor.id,
    lat: doctor.lat,
    lng: doctor.lng,
    status: doctor.status,
    heading: doctor.heading,
    speed: doctor.speed,
    accuracy: doctor.accuracy,
    lastFixAt: doctor.lastFixAt,
    specializations: doctor.specializations,
    clinicId: doctor.clinicId,
    rating: doctor.rating,
  };
}
