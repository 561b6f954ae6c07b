import { z } from 'zod';
import {
  MAX_SENSOR_ID_LENGTH,
  MAX_SENSOR_LIST_LIMIT,
  SENSOR_KINDS,
  sensorInputSchema,
  type SensorListOptions,
  type TrafficSensor,
  type TrafficSensorInput,
} from '../../engine/traffic-sensors.ts';
import { TotError } from '../../geo/errors.ts';
import { validate } from '../errors.ts';
import type { Handler, Router } from '../router.ts';

/** What the sensor routes read and write: {@link TrafficSensorRegistry} (engine/traffic-sensors.ts) satisfies it. */
export interface SensorSource {
  list(options: SensorListOptions): Promise<TrafficSensor[]>;
  get(id: string): Promise<TrafficSensor | undefined>;
  upsert(input: TrafficSensorInput): Promise<{ sensor: TrafficSensor; created: boolean }>;
  remove(id: string): Promise<boolean>;
}

/** The current traffic estimate at a point, added to each sensor of a response. */
export interface SensorTraffic {
  speedKmh: number;
  /** 0 free flow … 3 jammed (geo/traffic-field.ts). */
  congestion: number;
}

const idSchema = z.object({ id: z.string().min(1).max(MAX_SENSOR_ID_LENGTH) });

/** `minLng,minLat,maxLng,maxLat` in degrees. */
const bboxParameter = z
  .string()
  .trim()
  .transform((value, context) => {
    const parts = value.split(',').map((part) => part.trim());
    const numbers = parts.map((part) =>
      /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(part) ? Number(part) : Number.NaN,
    );
    const [minLng, minLat, maxLng, maxLat] = numbers;
    if (numbers.length !== 4 || numbers.some((number) => !Number.isFinite(number))) {
      context.addIssue({ code: 'custom', message: 'must be four numbers: minLng,minLat,maxLng,maxLat' });
      return z.NEVER;
    }
    if (minLng! < -180 || maxLng! > 180 || minLat! < -90 || maxLat! > 90) {
      context.addIssue({ code: 'custom', message: 'must lie within lng [-180, 180] and lat [-90, 90]' });
      return z.NEVER;
    }
    if (minLng! > maxLng! || minLat! > maxLat!) {
      context.addIssue({ code: 'custom', message: 'must have minLng ≤ maxLng and minLat ≤ maxLat' });
      return z.NEVER;
    }
    return [minLng!, minLat!, maxLng!, maxLat!] as const;
  });

/** Query of GET /v1/traffic/sensors. */
export const sensorListQuerySchema = z.object({
  kind: z.enum(SENSOR_KINDS).optional(),
  bbox: bboxParameter.optional(),
  limit: z
    .string()
    .trim()
    .regex(/^\d+$/, { error: 'must be a whole number' })
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_SENSOR_LIST_LIMIT))
    .default(100),
});

/** Body of PUT /v1/traffic/sensors/:id: the sensor without its id (which the path gives), unknown fields refused. */
export const sensorBodySchema = z.strictObject({
  ...sensorInputSchema.omit({ id: true }).shape,
  /** Allowed for clients that send the whole sensor back; must then equal the path's id. */
  id: z.string().optional(),
});

/**
 * The registry of traffic detectors and cameras: list (by kind and/or bounding box), get, upsert (PUT) and remove.
 * PUT and DELETE are admin routes when `guardWrite` is given (the engine passes an admin guard); reads are open. `traffic`, when given, adds the
 * current estimate at each sensor's position (cheap: an H3 cell look-up in memory).
 */
export function addSensorRoutes(
  router: Router,
  sensors: SensorSource,
  options: {
    traffic?: (lat: number, lng: number) => SensorTraffic;
    /** Wraps the writing handlers (PUT, DELETE), e.g. `(handler) => guards.requireRole(['admin'], handler)`. */
    guardWrite?: (handler: Handler) => Handler;
  } = {},
): void {
  const guardWrite = options.guardWrite ?? ((handler: Handler) => handler);
  const writeAuth = options.guardWrite !== undefined;
  const view = (sensor: TrafficSensor) =>
    options.traffic ? { ...sensor, traffic: options.traffic(sensor.lat, sensor.lng) } : sensor;

  router.get(
    '/v1/traffic/sensors',
    async (request) => {
      const query = validate(sensorListQuerySchema, queryObject(request.query), 'query');
      const list = await sensors.list({
        limit: query.limit,
        ...(query.kind === undefined ? {} : { kind: query.kind }),
        ...(query.bbox === undefined ? {} : { bbox: query.bbox }),
      });
      return {
        status: 200,
        body: { query, sensors: list.map(view), truncated: list.length === query.limit },
      };
    },
    {
      summary: 'List traffic sensors',
      tags: ['traffic'],
      query: sensorListQuerySchema,
      response: { status: 200, description: '`{query, sensors, truncated}`' },
      auth: false,
    },
  );

  router.get(
    '/v1/traffic/sensors/:id',
    async (request) => {
      const { id } = validate(idSchema, request.params, 'path');
      const sensor = await sensors.get(id);
      if (!sensor) throw notFound(id);
      return { status: 200, body: view(sensor) };
    },
    {
      summary: 'One traffic sensor',
      tags: ['traffic'],
      params: idSchema,
      response: { status: 200, description: 'the sensor with its current traffic estimate' },
      auth: false,
    },
  );

  router.add(
    'PUT',
    '/v1/traffic/sensors/:id',
    guardWrite(async (request) => {
      const { id } = validate(idSchema, request.params, 'path');
      const body = validate(sensorBodySchema, request.body, 'body');
      if (body.id !== undefined && body.id !== id) {
        throw new TotError(
          'API_VALIDATION_FAILED',
          `body.id: must equal the path's id ${JSON.stringify(id)}, got ${JSON.stringify(body.id)}`,
          { errors: [{ field: 'body.id', message: `must equal the path's id ${JSON.stringify(id)}` }] },
        );
      }
      const { sensor, created } = await sensors.upsert({ ...body, id });
      return { status: created ? 201 : 200, body: view(sensor) };
    }),
    {
      summary: 'Create or replace a traffic sensor',
      description: '201 when created, 200 when replaced.',
      tags: ['traffic'],
      params: idSchema,
      body: sensorBodySchema,
      response: { status: 201, description: 'the sensor' },
      auth: writeAuth,
    },
  );

  router.add(
    'DELETE',
    '/v1/traffic/sensors/:id',
    guardWrite(async (request) => {
      const { id } = validate(idSchema, request.params, 'path');
      if (!(await sensors.remove(id))) throw notFound(id);
      return { status: 204 };
    }),
    {
      summary: 'Remove a traffic sensor',
      tags: ['traffic'],
      params: idSchema,
      response: { status: 204, description: 'removed' },
      auth: writeAuth,
    },
  );
}

function notFound(id: string): TotError {
  return new TotError('ENGINE_SENSOR_NOT_FOUND', `no traffic sensor with id ${JSON.stringify(id)}`, {
    field: 'id',
    value: id,
  });
}

/** The query string as an object; only the first value of a repeated parameter counts. */
function queryObject(query: URLSearchParams): Record<string, string | undefined> {
  return Object.fromEntries([...new Set(query.keys())].map((key) => [key, query.get(key) ?? undefined]));
}
