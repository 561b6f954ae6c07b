import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getJson,
  startEngineProcess,
  type EngineProcess,
  waitUntilReady,
} from '../../support/engine-process.ts';
import { waitFor } from '../../support/wait.ts';
import { openSocket, UpgradeRefused, type Received, type TestSocket } from '../../support/ws-client.ts';

const packr = new Packr({ useRecords: false });

/** Three phones, one doctor each; the tokens are test values. */
const PHONES = {
  ws: { device: 'phone-ws', doctor: 'doc-ws', token: 'ws-phone-token-000001' },
  http: { device: 'phone-http', doctor: 'doc-http', token: 'http-phone-token-00002' },
  traccar: { device: '352099001761481', doctor: 'doc-traccar', token: 'traccar-token-0000003' },
} as const;
const DEVICE_TOKENS = Object.values(PHONES)
  .map((phone) => `${phone.device}:${phone.doctor}:${phone.token}`)
  .join(',');

interface Position {
  lat: number;
  lng: number;
  speed?: number;
  heading?: number;
  lastFixAt: number;
}

function frameOf(received: Received): Record<string, unknown> {
  return received.binary
    ? (packr.unpack(received.bytes) as Record<string, unknown>)
    : (JSON.parse(received.text) as Record<string, unknown>);
}

describe('the phone gateway on a real socket (embedded engine)', () => {
  let engine: EngineProcess;
  const sockets: TestSocket[] = [];
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tot-gateway-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    engine = await startEngineProcess({
      DATA_DIR: dataDir,
      SIMULATOR: 'false',
      PGLITE_IN_MEMORY: 'true',
      DEVICE_TOKENS,
    });
    cleanups.push(() => engine.child.kill('SIGKILL'));
    await waitUntilReady(engine, 60_000);
  });

  afterAll(() => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  const wsUrl = (query = '') => engine.url(`/v1/doctor${query}`).replace(/^http/, 'ws');
  const open = async (query: string, headers: Record<string, string> = {}) => {
    const socket = await openSocket(wsUrl(query), headers);
    sockets.push(socket);
    return socket;
  };
  const position = async (doctor: string) => {
    const response = await getJson(engine.url(`/v1/doctors/${doctor}/position`));
    return response.status === 200 ? (response.body as Position) : undefined;
  };
  const positionWhere = (doctor: string, test: (position: Position) => boolean, what: string) =>
    waitFor(
      async () => {
        const found = await position(doctor);
        return found && test(found) ? found : undefined;
      },
      { what },
    );

  it('acknowledges msgpack and JSON frames over WebSocket once on the bus, and the doctor moves', async () => {
    const socket = await open(`?token=${PHONES.ws.token}`);
    const now = Date.now();
    socket.send(
      packr.pack([
        { lat: 55.751, lng: 37.618, ts: now - 2000, speed: 4 },
        { lat: 55.752, lng: 37.619, ts: now - 1000 },
      ]),
    );
    expect(frameOf(await socket.next())).toEqual({ type: 'ack', frame: 1, accepted: 2, rejected: [] });
    await positionWhere(
      PHONES.ws.doctor,
      (found) => found.lat === 55.752,
      'the doctor at the msgpack position',
    );

    socket.send(
      JSON.stringify({
        type: 'fixes',
        batchId: 'b-2',
        fixes: [{ doctorId: PHONES.ws.doctor, lat: 55.76, lng: 37.63, ts: now, heading: 180 }],
      }),
    );
    const ack = await socket.next();
    expect(ack.binary).toBe(false);
    expect(frameOf(ack)).toEqual({ type: 'ack', frame: 2, batchId: 'b-2', accepted: 1, rejected: [] });
    const moved = await positionWhere(
      PHONES.ws.doctor,
      (found) => found.lat === 55.76,
      'the doctor at the JSON position',
    );
    expect(moved).toMatchObject({ lng: 37.63, heading: 180, lastFixAt: now });
  });

  it('also authenticates the upgrade by the Authorization header', async () => {
    const socket = await open('', { authorization: `Bearer ${PHONES.ws.token}` });
    socket.send(JSON.stringify({ lat: 55.77, lng: 37.64, ts: Date.now() }));
    expect(frameOf(await socket.next())).toMatchObject({ type: 'ack', accepted: 1 });
  });

  it.each([
    ['no token', ''],
    ['a wrong token', '?token=not-a-registered-token'],
  ])('refuses an upgrade with %s: 401 API_UNAUTHORIZED, no socket', async (_, query) => {
    const refusal = await openSocket(wsUrl(query)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UpgradeRefused);
    expect((refusal as UpgradeRefused).status).toBe(401);
    expect(JSON.parse((refusal as UpgradeRefused).body)).toMatchObject({ code: 'API_UNAUTHORIZED' });
  });

  it('answers bad frames with coded error frames, keeps the socket open, and changes nothing', async () => {
    const socket = await open(`?token=${PHONES.ws.token}`);
    const placedAt = Date.now() + 1000;
    socket.send(JSON.stringify({ lat: 55.74, lng: 37.6, ts: placedAt }));
    expect(frameOf(await socket.next())).toMatchObject({ type: 'ack', frame: 1, accepted: 1 });
    const before = await positionWhere(
      PHONES.ws.doctor,
      (found) => found.lastFixAt === placedAt,
      'the doctor placed',
    );
    socket.send('{"lat": 55');
    expect(frameOf(await socket.next())).toMatchObject({
      type: 'error',
      code: 'API_MALFORMED_JSON',
      frame: 2,
    });
    socket.send(new Uint8Array([0x92, 0x01]));
    const binaryError = await socket.next();
    expect(binaryError.binary).toBe(true);
    expect(frameOf(binaryError)).toMatchObject({ type: 'error', code: 'API_MALFORMED_MSGPACK', frame: 3 });
    socket.send(
      JSON.stringify([
        { doctorId: PHONES.http.doctor, lat: 10, lng: 10, ts: Date.now() },
        { lat: 91, lng: 10, ts: Date.now() },
      ]),
    );
    expect(frameOf(await socket.next())).toEqual({
      type: 'ack',
      frame: 4,
      accepted: 0,
      rejected: [
        { index: 0, code: 'API_DOCTOR_MISMATCH', field: 'doctorId', message: expect.any(String) as string },
        { index: 1, code: 'API_VALIDATION_FAILED', field: 'lat', message: expect.any(String) as string },
      ],
    });
    // Still open: a good frame after the bad ones is acknowledged.
    socket.send(JSON.stringify({ lat: before.lat, lng: before.lng, ts: before.lastFixAt }));
    expect(frameOf(await socket.next())).toMatchObject({ type: 'ack', frame: 5, accepted: 1 });
    expect(await position(PHONES.ws.doctor)).toEqual(before);
    expect(await position(PHONES.http.doctor)).toBeUndefined();
  });

  it('closes a socket that sends a frame over the size limit (1009)', async () => {
    const socket = await open(`?token=${PHONES.ws.token}`);
    socket.send('x'.repeat(600 * 1024));
    // uWS drops the connection at once, without a close frame (1006), or with 1009 (message too big).
    expect([1006, 1009]).toContain(await socket.closed);
  });

  it('moves a doctor by POST /v1/fixes and answers 202 per index', async () => {
    const now = Date.now();
    const response = await fetch(engine.url('/v1/fixes'), {
      method: 'POST',
      headers: { authorization: `Bearer ${PHONES.http.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        fixes: [
          { lat: 55.7, lng: 37.5, ts: now },
          { lat: 55.7, lng: 'east', ts: now },
        ],
      }),
    });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({
      accepted: 1,
      rejected: [{ index: 1, code: 'API_VALIDATION_FAILED', field: 'lng', message: 'must be a number' }],
    });
    await positionWhere(
      PHONES.http.doctor,
      (found) => found.lat === 55.7 && found.lng === 37.5,
      'the doctor at the posted position',
    );
  });

  it('refuses bad POST /v1/fixes requests with coded problems and changes nothing', async () => {
    const before = await position(PHONES.http.doctor);
    const post = (body: string, headers: Record<string, string>) =>
      fetch(engine.url('/v1/fixes'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const fix = JSON.stringify({ fixes: [{ lat: 1, lng: 1, ts: Date.now() }] });
    const cases = [
      [await post(fix, {}), 401, 'API_UNAUTHORIZED'],
      [await post(fix, { authorization: 'Bearer wrong-token-wrong-token' }), 401, 'API_UNAUTHORIZED'],
      [
        await post('{"fixes": []}', { authorization: `Bearer ${PHONES.http.token}` }),
        400,
        'API_VALIDATION_FAILED',
      ],
      [
        await post('{"fixes": [', { authorization: `Bearer ${PHONES.http.token}` }),
        400,
        'API_MALFORMED_JSON',
      ],
    ] as const;
    for (const [response, status, code] of cases) {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(((await response.json()) as { code: string }).code).toBe(code);
    }
    expect(await position(PHONES.http.doctor)).toEqual(before);
  });

  it('moves a doctor by a Traccar Client OsmAnd request (GET, speed in knots) and answers 200 with no body', async () => {
    const seconds = Math.floor(Date.now() / 1000);
    const query = `id=${PHONES.traccar.device}&lat=55.8&lon=37.7&timestamp=${seconds}&speed=10&bearing=270&altitude=150&accuracy=8&batt=64&token=${PHONES.traccar.token}`;
    const response = await fetch(engine.url(`/v1/osmand?${query}`));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    const moved = await positionWhere(
      PHONES.traccar.doctor,
      (found) => found.lat === 55.8,
      'the doctor at the OsmAnd position',
    );
    expect(moved).toMatchObject({ lng: 37.7, heading: 270, lastFixAt: seconds * 1000 });
    expect(moved.speed).toBeCloseTo(5.1444, 3);
  });

  it('takes an OsmAnd POST with a form body', async () => {
    const form = new URLSearchParams({
      id: PHONES.traccar.device,
      lat: '55.81',
      lon: '37.71',
      timestamp: new Date().toISOString(),
      token: PHONES.traccar.token,
    });
    const response = await fetch(engine.url('/v1/osmand'), { method: 'POST', body: form });
    expect(response.status).toBe(200);
    await positionWhere(
      PHONES.traccar.doctor,
      (found) => found.lat === 55.81,
      'the doctor at the form position',
    );
  });

  it('answers bad OsmAnd requests 400 or 401 with a coded problem, changing nothing', async () => {
    const before = await position(PHONES.traccar.doctor);
    const base = `id=${PHONES.traccar.device}&lat=55.9&lon=37.9&token=${PHONES.traccar.token}`;
    const bad = await fetch(engine.url(`/v1/osmand?${base.replace('lat=55.9', 'lat=north')}`));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      code: 'API_VALIDATION_FAILED',
      errors: [{ field: 'query.lat', message: 'must be a number, got "north"' }],
    });
    const unauthorized = await fetch(
      engine.url(`/v1/osmand?${base.replace(PHONES.traccar.token, PHONES.ws.token)}`),
    );
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toMatchObject({ code: 'API_UNAUTHORIZED' });
    expect(await position(PHONES.traccar.doctor)).toEqual(before);
  });

  it('counts what the gateway did in /metrics', async () => {
    const text = await (await fetch(engine.url('/metrics'))).text();
    expect(text).toMatch(/tot_gateway_fixes_total\{transport="ws",outcome="accepted"\} [1-9]/);
    expect(text).toMatch(/tot_gateway_errors_total\{transport="osmand",code="API_UNAUTHORIZED"\} [1-9]/);
  });
});

describe('the phone gateway after a restart of the embedded engine', () => {
  it('applies fixes sent after the restart (regression: the snapshot’s old in-process offsets skipped them)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tot-gateway-restart-'));
    const engines: EngineProcess[] = [];
    try {
      const environment = { DATA_DIR: dataDir, SIMULATOR: 'false', PGLITE_IN_MEMORY: 'true', DEVICE_TOKENS };
      const send = async (engine: EngineProcess, fixes: { lat: number; lng: number; ts: number }[]) => {
        const response = await fetch(engine.url('/v1/fixes'), {
          method: 'POST',
          headers: { authorization: `Bearer ${PHONES.http.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ fixes }),
        });
        expect(response.status).toBe(202);
      };
      const first = await startEngineProcess(environment);
      engines.push(first);
      await waitUntilReady(first, 60_000);
      const now = Date.now();
      // Several flushes, so that the snapshot records offsets beyond what the next process publishes first.
      for (let i = 0; i < 5; i++) await send(first, [{ lat: 55.7, lng: 37.5, ts: now - 10_000 + i }]);
      await waitFor(
        async () =>
          (await getJson(first.url(`/v1/doctors/${PHONES.http.doctor}/position`))).status === 200
            ? true
            : undefined,
        {
          what: 'the doctor placed',
        },
      );
      first.child.kill('SIGTERM');
      expect(await first.exited).toEqual({ code: 0, signal: null });

      const second = await startEngineProcess(environment);
      engines.push(second);
      await waitUntilReady(second, 60_000);
      await send(second, [{ lat: 55.9, lng: 37.9, ts: now }]);
      await waitFor(
        async () => {
          const response = await getJson(second.url(`/v1/doctors/${PHONES.http.doctor}/position`));
          return (response.body as Position | undefined)?.lat === 55.9 ? true : undefined;
        },
        { what: 'the doctor moved after the restart' },
      );
    } finally {
      for (const engine of engines) engine.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
