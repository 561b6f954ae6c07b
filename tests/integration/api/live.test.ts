import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type apiClient } from '../../support/api-client.ts';
import type { EngineProcess } from '../../support/engine-process.ts';
import { startApiEngine, TEST_ADMIN } from '../../support/api-engine.ts';
import { openSocket, UpgradeRefused, type TestSocket } from '../../support/ws-client.ts';

/** Test values only. */
const JWT_SECRET = 'live-suite-secret-0123456789abcdefgh';
const PHONE = { device: 'phone-live', doctor: 'doc-live', token: 'live-phone-token-00001' };
/** Around the Kremlin at street zoom. */
const BBOX = [37.605, 55.745, 37.63, 55.757];

type Frame = Record<string, unknown> & { type: string; seq?: number };

describe('the live map on a real socket (embedded engine)', () => {
  let engine: EngineProcess;
  let client: ReturnType<typeof apiClient>;
  const sockets: TestSocket[] = [];
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const started = await startApiEngine('live', {
      JWT_SECRET,
      DEVICE_TOKENS: `${PHONE.device}:${PHONE.doctor}:${PHONE.token}`,
      RATE_LIMIT_AUTH_PER_MINUTE: '1000',
    });
    cleanups.push(started.stop);
    engine = started.engine;
    client = started.api;
  }, 90_000);

  afterAll(() => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  const liveUrl = (query: string) => engine.url(`/v1/live${query}`).replace(/^http/, 'ws');
  const open = async (query: string) => {
    const socket = await openSocket(liveUrl(query));
    sockets.push(socket);
    return socket;
  };
  const refusal = async (query: string) => {
    try {
      const socket = await openSocket(liveUrl(query));
      socket.close();
    } catch (error) {
      if (error instanceof UpgradeRefused) return { status: error.status, body: JSON.parse(error.body) };
      throw error;
    }
    throw new Error('the upgrade was accepted');
  };
  const nextFrame = async (socket: TestSocket): Promise<Frame> => {
    const received = await socket.next();
    if (received.binary) throw new Error('the live map sends text frames only');
    return JSON.parse(received.text) as Frame;
  };
  const postFix = async (lat: number, lng: number, ts: number) => {
    const response = await fetch(engine.url('/v1/fixes'), {
      method: 'POST',
      headers: { authorization: `Bearer ${PHONE.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fixes: [{ lat, lng, ts, speed: 4 }] }),
    });
    expect(response.status).toBe(202);
  };
  /** Frames until one shows the doctor at `lat`, checking that seq grows by one per frame. */
  const untilDoctorAt = async (socket: TestSocket, lat: number, previousSeq: number) => {
    let seq = previousSeq;
    for (;;) {
      const frame = await nextFrame(socket);
      expect(frame.seq).toBe(seq + 1);
      seq = frame.seq as number;
      const doctor = (frame['doctors'] as { id: string; lat: number }[]).find((d) => d.id === PHONE.doctor);
      if (doctor?.lat === lat) return { frame, seq };
    }
  };

  it('refuses the upgrade without a token (401) and for a patient (403); no socket opens', async () => {
    expect(await refusal('')).toMatchObject({ status: 401, body: { code: 'API_UNAUTHENTICATED' } });
    const patient = await client.register('live-patient');
    const token = await client.login(patient.email);
    expect(await refusal(`?access_token=${token}`)).toMatchObject({
      status: 403,
      body: { code: 'API_FORBIDDEN' },
    });
  });

  it('shows a dispatcher the doctor moving after fixes are posted', async () => {
    const dispatcherUser = await client.register('live-dispatcher');
    const adminToken = await client.login(TEST_ADMIN.email, TEST_ADMIN.password);
    const promote = await client.send('PATCH', `/v1/users/${dispatcherUser.id}/role`, {
      token: adminToken,
      body: { role: 'dispatcher' },
    });
    expect(promote.status).toBe(200);
    const token = await client.login(dispatcherUser.email);

    const socket = await open(`?access_token=${token}`);
    socket.send(JSON.stringify({ type: 'ping' }));
    expect(await nextFrame(socket)).toEqual({ type: 'pong' });
    socket.send(JSON.stringify({ type: 'subscribe', bbox: [179, 0, -179, 1], zoom: 15 }));
    expect(await nextFrame(socket)).toMatchObject({ type: 'error', code: 'API_VALIDATION_FAILED' });

    socket.send(JSON.stringify({ type: 'subscribe', bbox: BBOX, zoom: 15 }));
    const snapshot = await nextFrame(socket);
    expect(snapshot).toMatchObject({ type: 'snapshot', mode: 'doctors', doctors: [] });

    const now = Date.now();
    await postFix(55.75, 37.615, now - 1_000);
    const first = await untilDoctorAt(socket, 55.75, snapshot.seq as number);
    expect(first.frame).toMatchObject({ type: 'delta', removed: [] });
    expect((first.frame['doctors'] as unknown[])[0]).toEqual({
      id: PHONE.doctor,
      lat: 55.75,
      lng: 37.615,
      status: 'available',
      speed: 4,
    });

    await postFix(55.7515, 37.617, now);
    await untilDoctorAt(socket, 55.7515, first.seq);

    await postFix(55.6, 37.4, now + 1_000);
    for (let seq = first.seq + 1; ;) {
      const frame = await nextFrame(socket);
      expect(frame.seq).toBeGreaterThanOrEqual(seq);
      seq = (frame.seq as number) + 1;
      if ((frame['removed'] as string[]).includes(PHONE.doctor)) break;
    }
  });
});
