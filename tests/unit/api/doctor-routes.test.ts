import { describe, expect, it } from 'vitest';
import { addDoctorRoutes } from '../../../api/routes/doctors.ts';
import { problemOf } from '../../../api/errors.ts';
import { Router } from '../../../api/router.ts';
import { Fleet } from '../../../engine/fleet.ts';

const now = Date.UTC(2026, 10, 22, 9);

function setup() {
  const fleet = new Fleet();
  fleet.register({ id: 'a', specializations: ['cardiologist'], rating: 4.5 }, now);
  fleet.register({ id: 'b', specializations: ['therapist'] }, now);
  fleet.register({ id: 'c', specializations: ['cardiologist'] }, now);
  fleet.applyFix({ doctorId: 'a', lat: 55.751, lng: 37.62, ts: now }, now);
  fleet.applyFix({ doctorId: 'b', lat: 55.7505, lng: 37.62, ts: now }, now);
  fleet.applyFix({ doctorId: 'c', lat: 55.8, lng: 37.7, ts: now }, now);
  const router = new Router();
  const trackCalls: unknown[][] = [];
  addDoctorRoutes(router, () => fleet, {
    clock: () => now,
    history: {
      track: async (...args) => {
        trackCalls.push(args);
        return [
          [37.6, 55.7, now - 2000],
          [37.61, 55.71, now - 1000],
        ];
      },
    },
  });
  const get = async (url: string) => {
    const parsed = new URL(url, 'http://test');
    try {
      return await router.handle({
        method: 'GET',
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: {},
        remoteAddress: '',
      });
    } catch (error) {
      const problem = problemOf(error);
      return { status: problem.status, body: problem };
    }
  };
  return { fleet, get, trackCalls };
}

describe('GET /v1/doctors/nearby', () => {
  it('returns the nearest doctors of a specialization, sorted, with distances', async () => {
    const { get } = setup();
    const response = await get('/v1/doctors/nearby?lat=55.75&lng=37.62&k=5&specialization=cardiologist');
    expect(response.status).toBe(200);
    const doctors = (response.body as { doctors: { id: string; distanceKm: number }[] }).doctors;
    expect(doctors.map((d) => d.id)).toEqual(['a', 'c']);
    expect(doctors[0]!.distanceKm).toBeCloseTo(0.1112, 3);
  });

  it('cuts at maxKm', async () => {
    const { get } = setup();
    const response = await get('/v1/doctors/nearby?lat=55.75&lng=37.62&maxKm=1');
    expect((response.body as { doctors: { id: string }[] }).doctors.map((d) => d.id)).toEqual(['b', 'a']);
  });

  it.each([
    ['lat=95&lng=37', 'query.lat', 'Too big'],
    ['lat=abc&lng=37', 'query.lat', 'must be a number'],
    ['lng=37', 'query.lat', 'is required'],
    ['lat=55&lng=37&k=0', 'query.k', 'Too small'],
    ['lat=55&lng=37&k=2.5', 'query.k', 'expected int'],
    ['lat=55&lng=37&status=sleeping', 'query.status', ''],
    ['lat=55&lng=37&maxKm=-1', 'query.maxKm', 'Too small'],
  ])('rejects %s naming %s', async (query, field, message) => {
    const { get } = setup();
    const response = await get(`/v1/doctors/nearby?${query}`);
    expect(response.status).toBe(400);
    const errors = (response.body as { code: string; errors: { field: string; message: string }[] }).errors;
    expect((response.body as { code: string }).code).toBe('API_VALIDATION_FAILED');
    expect(errors.find((e) => e.field === field)?.message).toContain(message);
  });
});

describe('GET /v1/doctors/:id/position', () => {
  it('returns the live position and status', async () => {
    const { get } = setup();
    const response = await get('/v1/doctors/a/position');
    expect(response).toMatchObject({
      status: 200,
      body: { id: 'a', lat: 55.751, lng: 37.62, status: 'available', lastFixAt: now },
    });
  });

  it('answers 404 ENGINE_DOCTOR_NOT_FOUND for an unknown doctor or one with no fix yet', async () => {
    const { fleet, get } = setup();
    fleet.register({ id: 'nofix' }, now);
    for (const id of ['zzz', 'nofix']) {
      const response = await get(`/v1/doctors/${id}/position`);
      expect(response).toMatchObject({ status: 404, body: { code: 'ENGINE_DOCTOR_NOT_FOUND' } });
    }
  });
});

describe('GET /v1/doctors/:id/track', () => {
  it('answers a GeoJSON LineString for the last hour by default', async () => {
    const { get, trackCalls } = setup();
    const response = await get('/v1/doctors/a/track');
    expect(response).toMatchObject({
      status: 200,
      body: {
        type: 'Feature',
        geometry: {
          type: 'LineString',
          coordinates: [
            [37.6, 55.7],
            [37.61, 55.71],
          ],
        },
        properties: { doctorId: 'a', from: now - 3_600_000, to: now, timestamps: [now - 2000, now - 1000] },
      },
    });
    expect(trackCalls).toEqual([['a', now - 3_600_000, now, 5000]]);
  });

  it('accepts ISO 8601 and ms bounds', async () => {
    const { get, trackCalls } = setup();
    await get(`/v1/doctors/a/track?from=2026-11-22T08:00:00Z&to=${now}&limit=10`);
    expect(trackCalls).toEqual([['a', Date.UTC(2026, 10, 22, 8), now, 10]]);
  });

  it.each([
    ['from=yesterday', 'query.from', 'ISO 8601'],
    [`from=${now}&to=${now - 1}`, 'query.from', 'before to'],
    [`from=${now - 25 * 3_600_000}&to=${now}`, 'query.to', 'at most 24 hours'],
    ['limit=0', 'query.limit', 'Too small'],
  ])('rejects %s naming %s, without reading the store', async (query, field, message) => {
    const { get, trackCalls } = setup();
    const response = await get(`/v1/doctors/a/track?${query}`);
    expect(response.status).toBe(400);
    const errors = (response.body as { errors: { field: string; message: string }[] }).errors;
    expect(errors.find((e) => e.field === field)?.message).toContain(message);
    expect(trackCalls).toEqual([]);
  });
});
