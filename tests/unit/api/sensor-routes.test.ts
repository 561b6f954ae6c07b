import { describe, expect, it } from 'vitest';
import { problemOf } from '../../../api/errors.ts';
import type { Method } from '../../../api/router.ts';
import { Router } from '../../../api/router.ts';
import { addSensorRoutes, type SensorSource } from '../../../api/routes/sensors.ts';
import type {
  SensorListOptions,
  TrafficSensor,
  TrafficSensorInput,
} from '../../../engine/traffic-sensors.ts';

const now = Date.UTC(2026, 10, 22, 9);

/** An in-memory source for the routes' own checks; the real registry is covered by the integration suite. */
class MemorySensors implements SensorSource {
  readonly sensors = new Map<string, TrafficSensor>();
  readonly listCalls: SensorListOptions[] = [];
  upserts = 0;

  async list(options: SensorListOptions): Promise<TrafficSensor[]> {
    this.listCalls.push(options);
    return [...this.sensors.values()].slice(0, options.limit);
  }
  async get(id: string): Promise<TrafficSensor | undefined> {
    return this.sensors.get(id);
  }
  async upsert(input: TrafficSensorInput): Promise<{ sensor: TrafficSensor; created: boolean }> {
    this.upserts++;
    const created = !this.sensors.has(input.id);
    const sensor: TrafficSensor = {
      id: input.id,
      kind: input.kind,
      lat: input.lat,
      lng: input.lng,
      name: input.name ?? null,
      road: input.road ?? null,
      direction: input.direction ?? null,
      active: input.active ?? true,
      createdAt: now,
      updatedAt: now,
    };
    this.sensors.set(input.id, sensor);
    return { sensor, created };
  }
  async remove(id: string): Promise<boolean> {
    return this.sensors.delete(id);
  }
}

function setup() {
  const sensors = new MemorySensors();
  const router = new Router();
  addSensorRoutes(router, sensors, { traffic: () => ({ speedKmh: 42, congestion: 1 }) });
  const call = async (method: Method, url: string, body?: unknown) => {
    const parsed = new URL(url, 'http://test');
    try {
      return await router.handle({
        method,
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: {},
        remoteAddress: '',
        ...(body === undefined ? {} : { body }),
      });
    } catch (error) {
      const problem = problemOf(error);
      return { status: problem.status, body: problem };
    }
  };
  return { sensors, call };
}

const fieldsOf = (body: unknown) =>
  ((body as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);

describe('PUT /v1/traffic/sensors/:id', () => {
  it('creates (201), then replaces (200), with the traffic estimate at the sensor', async () => {
    const { call } = setup();
    const created = await call('PUT', '/v1/traffic/sensors/det-1', {
      kind: 'detector',
      lat: 55.75,
      lng: 37.62,
      road: 'Tverskaya',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'det-1',
      kind: 'detector',
      road: 'Tverskaya',
      traffic: { speedKmh: 42, congestion: 1 },
    });
    const replaced = await call('PUT', '/v1/traffic/sensors/det-1', {
      id: 'det-1',
      kind: 'camera',
      lat: 55,
      lng: 37,
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ kind: 'camera', road: null });
  });

  it('names every field at fault and writes nothing', async () => {
    const { call, sensors } = setup();
    const cases: [unknown, string[]][] = [
      [{ kind: 'radar', lat: 55, lng: 37 }, ['body.kind']],
      [{ kind: 'detector', lat: 95, lng: 37 }, ['body.lat']],
      [{ kind: 'detector', lat: 55, lng: '37' }, ['body.lng']],
      [{ kind: 'detector', lng: 37 }, ['body.lat']],
      [{ kind: 'detector', lat: 55, lng: 37, name: 'x'.repeat(201) }, ['body.name']],
      [{ kind: 'detector', lat: 55, lng: 37, colour: 'red' }, ['body.colour']],
      [{ kind: 'detector', lat: 55, lng: 37, id: 'det-2' }, ['body.id']],
      [{ kind: 'camera', lat: -91, lng: 181 }, ['body.lat', 'body.lng']],
      ['not an object', ['body']],
      [undefined, ['body']],
    ];
    for (const [body, fields] of cases) {
      const response = await call('PUT', '/v1/traffic/sensors/det-1', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({ code: 'API_VALIDATION_FAILED' });
      expect(fieldsOf(response.body), JSON.stringify(body)).toEqual(fields);
    }
    const longId = await call('PUT', `/v1/traffic/sensors/${'x'.repeat(65)}`, {
      kind: 'camera',
      lat: 0,
      lng: 0,
    });
    expect(fieldsOf(longId.body)).toEqual(['path.id']);
    expect(sensors.upserts).toBe(0);
  });
});

describe('GET /v1/traffic/sensors', () => {
  it('passes kind, bbox and limit on, with limit 100 by default', async () => {
    const { call, sensors } = setup();
    await call('PUT', '/v1/traffic/sensors/det-1', { kind: 'detector', lat: 55.75, lng: 37.62 });
    const response = await call('GET', '/v1/traffic/sensors?kind=detector&bbox=37.5,55.7,37.7,55.8&limit=5');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      sensors: [{ id: 'det-1', traffic: { speedKmh: 42 } }],
      truncated: false,
    });
    expect(sensors.listCalls).toEqual([{ kind: 'detector', bbox: [37.5, 55.7, 37.7, 55.8], limit: 5 }]);
    await call('GET', '/v1/traffic/sensors');
    expect(sensors.listCalls[1]).toEqual({ limit: 100 });
  });

  it('rejects a bad kind, bbox or limit, naming the parameter', async () => {
    const { call, sensors } = setup();
    const cases: [string, string][] = [
      ['kind=radar', 'query.kind'],
      ['bbox=37.5,55.7,37.7', 'query.bbox'],
      ['bbox=37.5,55.7,37.7,abc', 'query.bbox'],
      ['bbox=37.7,55.7,37.5,55.8', 'query.bbox'],
      ['bbox=-181,0,0,1', 'query.bbox'],
      ['limit=0', 'query.limit'],
      ['limit=10001', 'query.limit'],
      ['limit=2.5', 'query.limit'],
    ];
    for (const [query, field] of cases) {
      const response = await call('GET', `/v1/traffic/sensors?${query}`);
      expect(response.status, query).toBe(400);
      expect(fieldsOf(response.body), query).toEqual([field]);
    }
    expect(sensors.listCalls).toEqual([]);
  });
});

describe('GET and DELETE /v1/traffic/sensors/:id', () => {
  it('reads a sensor, removes it (204), then answers 404 ENGINE_SENSOR_NOT_FOUND', async () => {
    const { call } = setup();
    await call('PUT', '/v1/traffic/sensors/cam%201', { kind: 'camera', lat: 55.75, lng: 37.62 });
    expect(await call('GET', '/v1/traffic/sensors/cam%201')).toMatchObject({
      status: 200,
      body: { id: 'cam 1' },
    });
    expect(await call('DELETE', '/v1/traffic/sensors/cam%201')).toEqual({ status: 204 });
    for (const method of ['GET', 'DELETE'] as const) {
      const response = await call(method, '/v1/traffic/sensors/cam%201');
      expect(response).toMatchObject({
        status: 404,
        body: { code: 'ENGINE_SENSOR_NOT_FOUND', errors: [{ field: 'id' }] },
      });
    }
  });
});
