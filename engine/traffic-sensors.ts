import { z } from 'zod';
import type { LatLng } from '../geo/traffic-field.ts';
import { TotError } from '../geo/errors.ts';
import type { SqlExecutor } from './store.ts';

/** Kinds of traffic sensor the registry knows. */
export const SENSOR_KINDS = ['detector', 'camera'] as const;

/** One of {@link SENSOR_KINDS}. */
export type SensorKind = (typeof SENSOR_KINDS)[number];

/** Longest id of a sensor (the id of a detector is the key of its readings on tot.readings). */
export const MAX_SENSOR_ID_LENGTH = 64;

/** Longest name, road or direction. */
export const MAX_SENSOR_TEXT_LENGTH = 200;

const optionalText = z.string().max(MAX_SENSOR_TEXT_LENGTH).nullish();

/**
 * A sensor as it is registered: the single source of the checks for the registry and for PUT /v1/traffic/sensors/:id.
 * `name`, `road` and `direction` absent or null are stored as null; `active` defaults to true.
 */
export const sensorInputSchema = z.object({
  id: z.string().min(1).max(MAX_SENSOR_ID_LENGTH),
  kind: z.enum(SENSOR_KINDS),
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  name: optionalText,
  road: optionalText,
  direction: optionalText,
  active: z.boolean().optional(),
});

/** What {@link TrafficSensorRegistry.upsert} accepts. */
export type TrafficSensorInput = z.input<typeof sensorInputSchema>;

/** A registered sensor. Times are ms since the epoch. */
export interface TrafficSensor {
  id: string;
  kind: SensorKind;
  lat: number;
  lng: number;
  name: string | null;
  road: string | null;
  direction: string | null;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A bounding box `[minLng, minLat, maxLng, maxLat]` (degrees, GeoJSON's order). */
export type BoundingBox = readonly [number, number, number, number];

/** Filters of {@link TrafficSensorRegistry.list}. */
export interface SensorListOptions {
  kind?: SensorKind;
  /** Sensors inside the box, edges included. */
  bbox?: BoundingBox;
  /** At most this many, 1–10 000. */
  limit: number;
}

/** Most sensors one {@link TrafficSensorRegistry.list} returns. */
export const MAX_SENSOR_LIST_LIMIT = 10_000;

interface SensorRow {
  id: string;
  kind: SensorKind;
  lat: number;
  lng: number;
  name: string | null;
  road: string | null;
  direction: string | null;
  active: boolean;
  created_at: number;
  updated_at: number;
}

const COLUMNS = `id, kind, ST_Y(geog::geometry) AS lat, ST_X(geog::geometry) AS lng, name, road, direction, active,
  (extract(epoch from created_at) * 1000)::float8 AS created_at, (extract(epoch from updated_at) * 1000)::float8 AS updated_at`;

/**
 * The registry of traffic detectors and cameras in PostgreSQL/PostGIS (traffic.sensors, GiST-indexed positions),
 * with the positions of the active sensors cached in memory so that a reading which carries no lat/lng can be placed
 * ({@link positionOf}, a map look-up: it sits on the readings' hot path). The cache is filled by {@link load} at boot
 * and kept current by this registry's own writes; a write made by another engine instance reaches this one at its next
 * {@link load}.
 */
export class TrafficSensorRegistry {
  private positions = new Map<string, LatLng>();

  constructor(private readonly store: SqlExecutor) {}

  /** Sensors with a cached position. */
  get cachedCount(): number {
    return this.positions.size;
  }

  /** Replaces the cache of positions with the active sensors of the store; resolves with how many there are. */
  async load(): Promise<number> {
    const result = await this.store.query<{ id: string; lat: number; lng: number }>(
      'SELECT id, ST_Y(geog::geometry) AS lat, ST_X(geog::geometry) AS lng FROM traffic.sensors WHERE active',
    );
    this.positions = new Map(
      result.rows.map((row) => [row.id, { lat: Number(row.lat), lng: Number(row.lng) }]),
    );
    return this.positions.size;
  }

  /** The cached position of an active sensor, or undefined when it is not registered (or inactive). */
  positionOf(id: string): LatLng | undefined {
    return this.positions.get(id);
  }

  /**
   * Registers a sensor or replaces every field of the one with its id (`created_at` is kept).
   *
   * @throws TotError `ENGINE_INVALID_SENSOR` naming every field at fault (`details.errors`); nothing is written.
   */
  async upsert(input: TrafficSensorInput): Promise<{ sensor: TrafficSensor; created: boolean }> {
    const sensor = parseSensor(input);
    const result = await this.store.query<SensorRow & { created: boolean }>(
      `INSERT INTO traffic.sensors (id, kind, geog, name, road, direction, active)
       VALUES ($1, $2, ST_SetSRID(ST_MakePoint($3, $4), 4326)::geography, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, geog = EXCLUDED.geog, name = EXCLUDED.name,
         road = EXCLUDED.road, direction = EXCLUDED.direction, active = EXCLUDED.active, updated_at = now()
       RETURNING ${COLUMNS}, (xmax = 0) AS created`,
      [
        sensor.id,
        sensor.kind,
        sensor.lng,
        sensor.lat,
        sensor.name ?? null,
        sensor.road ?? null,
        sensor.direction ?? null,
        sensor.active ?? true,
      ],
    );
    const row = result.rows[0];
    if (!row) throw new Error(`upsert of sensor ${sensor.id} returned no row`);
    const stored = sensorOf(row);
    this.cache(stored);
    return { sensor: stored, created: Boolean(row.created) };
  }

  /**
   * Registers or replaces many sensors in one statement (the simulator's detectors at start-up); resolves with the
   * count.
   *
   * @throws TotError `ENGINE_INVALID_SENSOR` naming the field of the first bad sensor (`sensors[i].field`); nothing is
   *   written.
   */
  async upsertMany(inputs: readonly TrafficSensorInput[]): Promise<number> {
    const sensors = inputs.map((input, index) => parseSensor(input, `sensors[${index}]`));
    if (sensors.length === 0) return 0;
    await this.store.query(
      `INSERT INTO traffic.sensors (id, kind, geog, name, road, direction, active)
       SELECT i, k, ST_SetSRID(ST_MakePoint(x, y), 4326)::geography, n, r, d, a
         FROM unnest($1::text[], $2::text[], $3::float8[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::boolean[])
           AS u(i, k, x, y, n, r, d, a)
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, geog = EXCLUDED.geog, name = EXCLUDED.name,
         road = EXCLUDED.road, direction = EXCLUDED.direction, active = EXCLUDED.active, updated_at = now()`,
      [
        sensors.map((sensor) => sensor.id),
        sensors.map((sensor) => sensor.kind),
        sensors.map((sensor) => sensor.lng),
        sensors.map((sensor) => sensor.lat),
        sensors.map((sensor) => sensor.name ?? null),
        sensors.map((sensor) => sensor.road ?? null),
        sensors.map((sensor) => sensor.direction ?? null),
        sensors.map((sensor) => sensor.active ?? true),
      ],
    );
    for (const sensor of sensors) this.cache({ ...sensor, active: sensor.active ?? true });
    return sensors.length;
  }

  /** One sensor, or undefined when no sensor has that id. */
  async get(id: string): Promise<TrafficSensor | undefined> {
    const result = await this.store.query<SensorRow>(`SELECT ${COLUMNS} FROM traffic.sensors WHERE id = $1`, [
      id,
    ]);
    const row = result.rows[0];
    return row ? sensorOf(row) : undefined;
  }

  /**
   * Sensors of a kind and/or inside a box, ordered by id. The box is a rectangle in longitude and latitude: the GiST
   * index on the geography narrows the rows by bounding boxes, the planar test then keeps exactly the rectangle.
   *
   * @throws TotError `ENGINE_INVALID_ARGUMENT` when the limit or the box is out of range.
   */
  async list(options: SensorListOptions): Promise<TrafficSensor[]> {
    const { kind, bbox, limit } = options;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_SENSOR_LIST_LIMIT) {
      throw new TotError(
        'ENGINE_INVALID_ARGUMENT',
        `limit must be an integer in [1, ${MAX_SENSOR_LIST_LIMIT}], got ${limit}`,
        {
          field: 'limit',
          value: limit,
        },
      );
    }
    if (bbox) assertBoundingBox(bbox);
    const result = await this.store.query<SensorRow>(
      `SELECT ${COLUMNS} FROM traffic.sensors
        WHERE ($1::text IS NULL OR kind = $1::text)
          AND ($2::float8 IS NULL OR (
            geog && ST_MakeEnvelope($2::float8, $3::float8, $4::float8, $5::float8, 4326)::geography
            AND ST_Intersects(geog::geometry, ST_MakeEnvelope($2::float8, $3::float8, $4::float8, $5::float8, 4326))))
        ORDER BY id
        LIMIT $6`,
      [kind ?? null, bbox?.[0] ?? null, bbox?.[1] ?? null, bbox?.[2] ?? null, bbox?.[3] ?? null, limit],
    );
    return result.rows.map(sensorOf);
  }

  /** Removes a sensor; resolves false when no sensor had that id. */
  async remove(id: string): Promise<boolean> {
    const result = await this.store.query('DELETE FROM traffic.sensors WHERE id = $1 RETURNING id', [id]);
    this.positions.delete(id);
    return result.rows.length > 0;
  }

  private cache(sensor: { id: string; lat: number; lng: number; active: boolean }): void {
    if (sensor.active) this.positions.set(sensor.id, { lat: sensor.lat, lng: sensor.lng });
    else this.positions.delete(sensor.id);
  }
}

/** Checks a bounding box: four finite numbers in range, min ≤ max. Throws `ENGINE_INVALID_ARGUMENT` naming `bbox`. */
export function assertBoundingBox(bbox: readonly number[]): void {
  const [minLng, minLat, maxLng, maxLat] = bbox;
  const fail = (why: string) =>
    new TotError(
      'ENGINE_INVALID_ARGUMENT',
      `bbox must be [minLng, minLat, maxLng, maxLat] ${why}, got ${JSON.stringify(bbox)}`,
      {
        field: 'bbox',
        value: bbox,
      },
    );
  if (bbox.length !== 4 || [minLng, minLat, maxLng, maxLat].some((value) => !Number.isFinite(value))) {
    throw fail('of four finite numbers');
  }
  if (minLng! < -180 || maxLng! > 180 || minLat! < -90 || maxLat! > 90)
    throw fail('within [-180, 180] × [-90, 90]');
  if (minLng! > maxLng! || minLat! > maxLat!) throw fail('with min ≤ max');
}

function parseSensor(input: unknown, where = 'sensor'): z.output<typeof sensorInputSchema> {
  const result = sensorInputSchema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => ({
    field: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const first = result.error.issues[0]?.path.map(String).join('.');
  throw new TotError(
    'ENGINE_INVALID_SENSOR',
    errors.map((error) => `${error.field}: ${error.message}`).join('; '),
    {
      errors,
      ...(first ? { field: first } : {}),
    },
  );
}

function sensorOf(row: SensorRow): TrafficSensor {
  return {
    id: row.id,
    kind: row.kind,
    lat: Number(row.lat),
    lng: Number(row.lng),
    name: row.name,
    road: row.road,
    direction: row.direction,
    active: row.active,
    createdAt: Math.round(Number(row.created_at)),
    updatedAt: Math.round(Number(row.updated_at)),
  };
}
