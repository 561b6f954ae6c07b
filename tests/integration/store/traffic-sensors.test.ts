import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../../engine/migrate.ts';
import type { Store } from '../../../engine/store.ts';
import { storeImplementations } from '../../support/stores.ts';
import { TrafficSensorRegistry } from '../../../engine/traffic-sensors.ts';
import { TotError } from '../../../geo/errors.ts';

describe.each(storeImplementations)('traffic sensor registry: %s', (_name, open) => {
  let store: Store;
  const prefix = `sens-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  // Far from any other test's rows: a box in the South Atlantic holds only this run's sensors.
  const base = { lat: -40.5, lng: -20.5 };

  beforeAll(async () => {
    store = await open();
    await migrate(store);
  });
  afterAll(async () => {
    await store.query('DELETE FROM traffic.sensors WHERE id LIKE $1', [`${prefix}%`]);
    await store.close();
  });

  async function count(id: string): Promise<number> {
    const result = await store.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM traffic.sensors WHERE id = $1',
      [id],
    );
    return Number(result.rows[0]?.n);
  }

  it('registers, reads, replaces and removes a sensor, keeping the position cache in step', async () => {
    const registry = new TrafficSensorRegistry(store);
    const id = `${prefix}-one`;
    const first = await registry.upsert({
      id,
      kind: 'detector',
      lat: 55.7512,
      lng: 37.6184,
      name: 'Tverskaya 1',
      road: 'Tverskaya',
      direction: 'northbound',
    });
    expect(first.created).toBe(true);
    expect(first.sensor).toMatchObject({
      id,
      kind: 'detector',
      name: 'Tverskaya 1',
      road: 'Tverskaya',
      direction: 'northbound',
      active: true,
    });
    expect(first.sensor.lat).toBeCloseTo(55.7512, 9);
    expect(first.sensor.lng).toBeCloseTo(37.6184, 9);
    expect(registry.positionOf(id)).toEqual({ lat: 55.7512, lng: 37.6184 });

    const again = await registry.upsert({ id, kind: 'camera', lat: 55.76, lng: 37.62 });
    expect(again.created).toBe(false);
    expect(again.sensor).toMatchObject({ kind: 'camera', name: null, road: null, direction: null });
    expect(again.sensor.createdAt).toBe(first.sensor.createdAt);
    expect(again.sensor.updatedAt).toBeGreaterThanOrEqual(first.sensor.updatedAt);
    expect(await registry.get(id)).toEqual(again.sensor);

    // A fresh registry (another boot) loads the positions of the active sensors only.
    await registry.upsert({ id: `${prefix}-idle`, kind: 'detector', lat: 55, lng: 37, active: false });
    expect(registry.positionOf(`${prefix}-idle`)).toBeUndefined();
    const rebooted = new TrafficSensorRegistry(store);
    expect(await rebooted.load()).toBeGreaterThanOrEqual(1);
    expect(rebooted.positionOf(id)).toEqual({ lat: 55.76, lng: 37.62 });
    expect(rebooted.positionOf(`${prefix}-idle`)).toBeUndefined();

    expect(await registry.remove(id)).toBe(true);
    expect(await registry.remove(id)).toBe(false);
    expect(await registry.get(id)).toBeUndefined();
    expect(registry.positionOf(id)).toBeUndefined();
  });

  it('lists by kind and by bounding box, ordered by id, at most limit', async () => {
    const registry = new TrafficSensorRegistry(store);
    const at = (dLat: number, dLng: number) => ({ lat: base.lat + dLat, lng: base.lng + dLng });
    expect(
      await registry.upsertMany([
        { id: `${prefix}-b-det-in`, kind: 'detector', ...at(0.1, 0.1) },
        { id: `${prefix}-b-cam-in`, kind: 'camera', ...at(0.2, 0.2) },
        { id: `${prefix}-b-det-out`, kind: 'detector', ...at(0.6, 0.1) },
        { id: `${prefix}-b-cam-out`, kind: 'camera', ...at(0.1, -0.3) },
      ]),
    ).toBe(4);
    expect(registry.positionOf(`${prefix}-b-det-in`)).toEqual(at(0.1, 0.1));

    const box = [base.lng, base.lat, base.lng + 0.5, base.lat + 0.5] as const;
    const inBox = await registry.list({ bbox: box, limit: 100 });
    expect(inBox.map((sensor) => sensor.id)).toEqual([`${prefix}-b-cam-in`, `${prefix}-b-det-in`]);

    const detectorsInBox = await registry.list({ bbox: box, kind: 'detector', limit: 100 });
    expect(detectorsInBox.map((sensor) => sensor.id)).toEqual([`${prefix}-b-det-in`]);

    const wide = [base.lng - 1, base.lat - 1, base.lng + 1, base.lat + 1] as const;
    const cameras = await registry.list({ kind: 'camera', bbox: wide, limit: 100 });
    expect(cameras.map((sensor) => sensor.id)).toEqual([`${prefix}-b-cam-in`, `${prefix}-b-cam-out`]);
    expect(await registry.list({ bbox: wide, limit: 3 })).toHaveLength(3);

    const allCameras = await registry.list({ kind: 'camera', limit: 10_000 });
    expect(allCameras.every((sensor) => sensor.kind === 'camera')).toBe(true);
    expect(allCameras.map((sensor) => sensor.id)).toContain(`${prefix}-b-cam-out`);

    await expect(registry.list({ limit: 0 })).rejects.toMatchObject({ code: 'ENGINE_INVALID_ARGUMENT' });
    await expect(registry.list({ bbox: [10, 0, 5, 1], limit: 10 })).rejects.toMatchObject({
      code: 'ENGINE_INVALID_ARGUMENT',
      details: { field: 'bbox' },
    });
  });

  it('rejects a bad sensor with a coded error naming the field, and writes nothing', async () => {
    const registry = new TrafficSensorRegistry(store);
    const id = `${prefix}-bad`;
    const cases: [Record<string, unknown>, string][] = [
      [{ id, kind: 'radar', lat: 55, lng: 37 }, 'kind'],
      [{ id, kind: 'detector', lat: 91, lng: 37 }, 'lat'],
      [{ id, kind: 'detector', lat: 55, lng: -181 }, 'lng'],
      [{ id, kind: 'detector', lat: Number.NaN, lng: 37 }, 'lat'],
      [{ id, kind: 'detector', lat: 55, lng: 37, road: 'x'.repeat(201) }, 'road'],
      [{ id: '', kind: 'detector', lat: 55, lng: 37 }, 'id'],
      [{ id: 'x'.repeat(65), kind: 'detector', lat: 55, lng: 37 }, 'id'],
    ];
    for (const [input, field] of cases) {
      const error = await registry.upsert(input as never).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(TotError);
      expect(error).toMatchObject({
        code: 'ENGINE_INVALID_SENSOR',
        details: { field, errors: [expect.objectContaining({ field: `sensor.${field}` })] },
      });
    }
    await expect(
      registry.upsertMany([
        { id: `${prefix}-bad-many-ok`, kind: 'detector', lat: 55, lng: 37 },
        { id: `${prefix}-bad-many`, kind: 'detector', lat: 55, lng: 200 },
      ]),
    ).rejects.toMatchObject({ code: 'ENGINE_INVALID_SENSOR', details: { field: 'lng' } });
    expect(await count(id)).toBe(0);
    expect(await count(`${prefix}-bad-many-ok`)).toBe(0);
    expect(registry.cachedCount).toBe(0);
  });
});
