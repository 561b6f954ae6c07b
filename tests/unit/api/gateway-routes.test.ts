import { afterEach, describe, expect, it } from 'vitest';
import { MPS_PER_KNOT } from '../../../api/gateway/osmand.ts';
import { gatewayFixture, NOW, TOKENS } from '../../support/gateway-fixture.ts';
import { waitFor } from '../../support/wait.ts';

const fixtures: Awaited<ReturnType<typeof gatewayFixture>>[] = [];
afterEach(async () => {
  for (const fixture of fixtures.splice(0)) await fixture.close();
});

async function setup() {
  const fixture = await gatewayFixture();
  fixtures.push(fixture);
  return fixture;
}

const bearer = (device: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[device]}` });
const fix = { lat: 55.75, lng: 37.61, ts: NOW - 1000 };

/** Nothing reached the bus: the publisher flushed everything it had, and the subscriber saw no record. */
async function nothingPublished(fixture: Awaited<ReturnType<typeof gatewayFixture>>) {
  await fixture.publisher.flush();
  expect(fixture.records).toEqual([]);
}

describe('POST /v1/fixes', () => {
  it('answers 202 with the accepted count and each rejected fix by index, once the good ones are on the bus', async () => {
    const fixture = await setup();
    const response = await fixture.request('POST', '/v1/fixes', {
      headers: bearer('phone-1'),
      body: {
        batchId: 'b-9',
        fixes: [fix, { ...fix, lat: 91 }, { ...fix, doctorId: 'doc-2' }, { ...fix, ts: fix.ts + 1 }],
      },
    });
    expect(response).toEqual({
      status: 202,
      body: {
        batchId: 'b-9',
        accepted: 2,
        rejected: [
          {
            index: 1,
            code: 'API_VALIDATION_FAILED',
            field: 'lat',
            message: 'Too big: expected number to be <=90',
          },
          { index: 2, code: 'API_DOCTOR_MISMATCH', field: 'doctorId', message: expect.any(String) as string },
        ],
      },
    });
    await waitFor(() => (fixture.published().length === 2 ? true : undefined), {
      what: 'two fixes on the bus',
    });
    expect(fixture.published().map((published) => published['doctorId'])).toEqual(['doc-1', 'doc-1']);
    expect(await fixture.registry.getSingleMetricAsString('tot_gateway_fixes_total')).toContain(
      'tot_gateway_fixes_total{transport="http",outcome="rejected"} 2',
    );
  });

  it.each([
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer not-a-registered-token' }],
    ['a token in another scheme', { authorization: `Basic ${TOKENS['phone-1']}` }],
  ])('answers 401 API_UNAUTHORIZED to %s and publishes nothing', async (_, headers) => {
    const fixture = await setup();
    const response = await fixture.request('POST', '/v1/fixes', { headers, body: { fixes: [fix] } });
    expect(response).toMatchObject({
      status: 401,
      body: { code: 'API_UNAUTHORIZED', errors: [{ field: 'token' }] },
    });
    await nothingPublished(fixture);
  });

  it('takes the token from the query too (the same rule as the WebSocket)', async () => {
    const fixture = await setup();
    const response = await fixture.request('POST', `/v1/fixes?token=${TOKENS['phone-2']}`, {
      body: { fixes: [fix] },
    });
    expect(response).toMatchObject({ status: 202, body: { accepted: 1 } });
  });

  it.each([
    ['an empty batch', 400, 'API_VALIDATION_FAILED', 'body.fixes', { fixes: [] }],
    ['a bare array', 400, 'API_VALIDATION_FAILED', 'body', [fix]],
    ['no body', 400, 'API_VALIDATION_FAILED', 'body', undefined],
    [
      '1001 fixes',
      413,
      'API_BATCH_TOO_LARGE',
      'body.fixes',
      { fixes: Array.from({ length: 1001 }, () => fix) },
    ],
  ])('refuses %s with %i %s naming %s, publishing nothing', async (_, status, code, field, body) => {
    const fixture = await setup();
    const response = await fixture.request('POST', '/v1/fixes', { headers: bearer('phone-1'), body });
    expect(response).toMatchObject({ status, body: { code, errors: [{ field }] } });
    await nothingPublished(fixture);
  });

  it('answers 503 API_PUBLISH_FAILED when the bus refuses', async () => {
    const fixture = await setup();
    await fixture.bus.close();
    const response = await fixture.request('POST', '/v1/fixes', {
      headers: bearer('phone-1'),
      body: { fixes: [fix] },
    });
    expect(response).toMatchObject({ status: 503, body: { code: 'API_PUBLISH_FAILED' } });
  });
});

describe('GET and POST /v1/osmand', () => {
  const query = `id=phone-1&lat=55.75&lon=37.61&timestamp=${(NOW - 5000) / 1000}&speed=10&bearing=90&batt=80&token=${TOKENS['phone-1']}`;

  it('answers 200 with an empty body and publishes the fix in stream units', async () => {
    const fixture = await setup();
    expect(await fixture.request('GET', `/v1/osmand?${query}`)).toEqual({ status: 200 });
    await waitFor(() => (fixture.published().length === 1 ? true : undefined), {
      what: 'the fix on the bus',
    });
    expect(fixture.published()[0]).toEqual({
      doctorId: 'doc-1',
      lat: 55.75,
      lng: 37.61,
      ts: NOW - 5000,
      speed: 10 * MPS_PER_KNOT,
      heading: 90,
      battery: 80,
    });
  });

  it('takes POST with the parameters in the query (Traccar Client) or in a form body', async () => {
    const fixture = await setup();
    expect(await fixture.request('POST', `/v1/osmand?${query}`)).toEqual({ status: 200 });
    expect(await fixture.request('POST', '/v1/osmand', { form: query })).toEqual({ status: 200 });
    await waitFor(() => (fixture.published().length === 2 ? true : undefined), {
      what: 'two fixes on the bus',
    });
  });

  it("takes Traccar Client's JSON body, with the token in the query", async () => {
    const fixture = await setup();
    const body = {
      device_id: 'phone-2',
      location: {
        timestamp: new Date(NOW - 2000).toISOString(),
        coords: { latitude: 55.7, longitude: 37.5, speed: 3, heading: 45 },
      },
    };
    expect(await fixture.request('POST', `/v1/osmand?token=${TOKENS['phone-2']}`, { body })).toEqual({
      status: 200,
    });
    await waitFor(() => (fixture.published().length === 1 ? true : undefined), {
      what: 'the fix on the bus',
    });
    expect(fixture.published()[0]).toEqual({
      doctorId: 'doc-2',
      lat: 55.7,
      lng: 37.5,
      speed: 3,
      heading: 45,
      ts: NOW - 2000,
    });
  });

  it.each([
    ['no token', query.replace(/&token=.*$/, '')],
    ['the token of another device', query.replace(TOKENS['phone-1'], TOKENS['phone-2'])],
    ['an unknown device', query.replace('id=phone-1', 'id=phone-9')],
  ])('answers 401 API_UNAUTHORIZED to %s, before reading the position', async (_, bad) => {
    const fixture = await setup();
    const response = await fixture.request('GET', `/v1/osmand?${bad.replace('lat=55.75', 'lat=abc')}`);
    expect(response).toMatchObject({ status: 401, body: { code: 'API_UNAUTHORIZED' } });
    await nothingPublished(fixture);
  });

  it.each([
    ['lat=95', 'query.lat', 'Too big'],
    ['lat=abc', 'query.lat', 'must be a number'],
    ['lon=', 'query.lon', 'is required'],
    ['timestamp=yesterday', 'query.timestamp', 'ISO 8601'],
    [`timestamp=${(NOW - 2 * 86_400_000) / 1000}`, 'query.timestamp', 'in the past'],
    ['speed=400', 'query.speed', 'Too big'],
    ['bearing=400', 'query.bearing', 'Too big'],
    ['batt=150', 'query.batt', 'Too big'],
  ])('answers 400 to %s naming %s, publishing nothing', async (change, field, message) => {
    const fixture = await setup();
    const [name] = change.split('=');
    const bad = query.replace(new RegExp(`${name}=[^&]*`), change);
    const response = await fixture.request('GET', `/v1/osmand?${bad}`);
    expect(response.status).toBe(400);
    const errors = (response.body as { errors: { field: string; message: string }[] }).errors;
    expect(errors.find((error) => error.field === field)?.message).toContain(message);
    await nothingPublished(fixture);
  });

  it('answers 400 naming query.id when there is no device id at all', async () => {
    const fixture = await setup();
    const response = await fixture.request('GET', '/v1/osmand?lat=1&lon=2');
    expect(response).toMatchObject({
      status: 400,
      body: { code: 'API_VALIDATION_FAILED', errors: [{ field: 'query.id' }] },
    });
  });
});
