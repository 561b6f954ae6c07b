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

/** Path of the routes of one doctor. */
export const doctorIdSchema = z.object({ id: z.string().min(1).max(64) });
const idSchema = doctorIdSchema;

/** Longest time range of one track request. */
export const MAX_TRACK_RANGE_MS = 24 * 3_600_000;

/** A time in a query string: ms since the epoch or an ISO 8601 date-time. */
function timeParameter() {
  return z
    .string()
    .trim()
    .transform((value, context) => {
      const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
      if (!Number.isFinite(ms)) {
        context.addIssue({ code: 'custom', message: 'must be ms since the epoch or an ISO 8601 date-time' });
        return z.NEVER;
      }
      return ms;
    });
}

/** Query of GET /v1/doctors/:id/track. */
export const trackQuerySchema = z
  .object({
    from: timeParameter().optional(),
    to: timeParameter().optional(),
    limit: numberParameter().pipe(z.number().int().min(1).max(10_000)).default(5_000),
  })
  .refine((query) => query.from === undefined || query.to === undefined || query.from < query.to, {
    message: 'must be before to',
    path: ['from'],
  })
  .refine(
    (query) =>
      query.from === undefined || query.to === undefined || query.to - query.from <= MAX_TRACK_RANGE_MS,
    {
      message: `range must be at most ${MAX_TRACK_RANGE_MS / 3_600_000} hours`,
      path: ['to'],
    },
  );

/** What the track route reads. */
export interface TrackSource {
  track(doctorId: string, from: number, to: number, limit: number): Promise<[number, number, number][]>;
}

/**
 * Doctors' live positions (read-only, from the in-memory fleet) and their recorded tracks (from the store).
 * `fleet` is a getter because a restore at boot replaces the fleet object.
 */
export function addDoctorRoutes(
  router: Router,
  fleet: () => Fleet,
  options: { history?: TrackSource; clock?: () => number } = {},
): void {
  const clock = options.clock ?? Date.now;
  router.get(
    '/v1/doctors/nearby',
    (request) => {
      const query = validate(nearbyQuerySchema, queryObject(request.query), 'query');
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
    },
    {
      summary: 'Nearest doctors to a point',
      description:
        'The `k` nearest doctors with `status` (and `specialization`), within `maxKm`, by distance.',
      tags: ['doctors'],
      query: nearbyQuerySchema,
      response: { status: 200, description: '`{query, doctors: [{id, lat, lng, status, …, distanceKm}]}`' },
      auth: false,
    },
  );

  router.get(
    '/v1/doctors/:id/position',
    (request) => {
      const { id } = validate(idSchema, request.params, 'path');
      const doctor = fleet().get(id);
      if (!doctor || doctor.lat === undefined) {
        throw new TotError('ENGINE_DOCTOR_NOT_FOUND', `no position known for doctor ${JSON.stringify(id)}`, {
          field: 'id',
          value: id,
        });
      }
      return { status: 200, body: publicView(doctor) };
    },
    {
      summary: "One doctor's live position",
      tags: ['doctors'],
      params: doctorIdSchema,
      response: {
        status: 200,
        description: 'the position and status; 404 ENGINE_DOCTOR_NOT_FOUND when unknown',
      },
      auth: false,
    },
  );

  const history = options.history;
  if (history) {
    router.get(
      '/v1/doctors/:id/track',
      async (request) => {
        const { id } = validate(idSchema, request.params, 'path');
        const query = validate(trackQuerySchema, queryObject(request.query), 'query');
        const to = query.to ?? (query.from === undefined ? clock() : query.from + 3_600_000);
        const from = query.from ?? to - 3_600_000;
        const points = await history.track(id, from, to, query.limit);
        return {
          status: 200,
          headers: { 'content-type': 'application/geo+json' },
          body: {
            type: 'Feature',
            geometry: { type: 'LineString', coordinates: points.map(([lng, lat]) => [lng, lat]) },
            properties: {
              doctorId: id,
              from,
              to,
              timestamps: points.map((point) => point[2]),
              truncated: points.length === query.limit,
            },
          },
        };
      },
      {
        summary: "A doctor's recorded track",
        description: 'At most 24 h; default the last hour.',
        tags: ['doctors'],
        params: doctorIdSchema,
        query: trackQuerySchema,
        response: {
          status: 200,
          description: 'a GeoJSON Feature with a LineString of [lng, lat]',
          contentType: 'application/geo+json',
        },
        auth: false,
      },
    );
  }
}

/** The query string as an object; only the first value of a repeated parameter counts, as URLSearchParams.get gives. */
function queryObject(query: URLSearchParams): Record<string, string | null> {
  return Object.fromEntries([...new Set(query.keys())].map((key) => [key, query.get(key)]));
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
