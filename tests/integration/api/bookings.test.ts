import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type apiClient } from '../../support/api-client.ts';
import { getJson, type EngineProcess } from '../../support/engine-process.ts';
import { startApiEngine, TEST_ADMIN } from '../../support/api-engine.ts';
import { waitFor } from '../../support/wait.ts';
import { openSocket, UpgradeRefused, type Received, type TestSocket } from '../../support/ws-client.ts';

/** Test values only. */
const JWT_SECRET = 'bookings-suite-secret-0123456789abcdef';
/** Three phones, one doctor each; the tokens are test values. */
const PHONES = {
  a: { device: 'phone-a', doctor: 'doc-a', token: 'phone-a-token-000000001' },
  b: { device: 'phone-b', doctor: 'doc-b', token: 'phone-b-token-000000002' },
  c: { device: 'phone-c', doctor: 'doc-c', token: 'phone-c-token-000000003' },
} as const;
const DEVICE_TOKENS = Object.values(PHONES)
  .map((phone) => `${phone.device}:${phone.doctor}:${phone.token}`)
  .join(',');
/** The patients' address, near the Kremlin. */
const HOME = { lat: 55.7558, lng: 37.6173 };
const BOOKING = {
  callType: 'home_visit',
  symptoms: 'fever 38.5 since yesterday',
  address: 'Mokhovaya 11',
  ...HOME,
  priority: 3,
};

const packr = new Packr({ useRecords: false });

type Frame = Record<string, unknown>;

function frameOf(received: Received): Frame {
  return received.binary ? (packr.unpack(received.bytes) as Frame) : (JSON.parse(received.text) as Frame);
}

/** Frames of a socket, read in order, with a wait for the next frame matching a test (earlier ones are kept). */
function reader(socket: TestSocket) {
  const seen: Frame[] = [];
  return {
    seen,
    /** The first frame after the ones already taken that matches, waiting up to `timeoutMs`. */
    async until(test: (frame: Frame) => boolean, timeoutMs = 20_000): Promise<Frame> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const frame = frameOf(await socket.next(Math.max(1, deadline - Date.now())));
        seen.push(frame);
        if (test(frame)) return frame;
      }
    },
  };
}

describe('bookings over REST and WebSocket (embedded engine)', () => {
  let engine: EngineProcess;
  let api: ReturnType<typeof apiClient>;
  const sockets: TestSocket[] = [];
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const started = await startApiEngine('bookings', {
      JWT_SECRET,
      DEVICE_TOKENS,
      RATE_LIMIT_AUTH_PER_MINUTE: '10000',
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    cleanups.push(started.stop);
    engine = started.engine;
    api = started.api;
  }, 90_000);

  afterAll(() => {
    for (const socket of sockets.splice(0)) socket.close();
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  const wsUrl = (pathname: string) => engine.url(pathname).replace(/^http/, 'ws');
  const open = async (pathname: string) => {
    const socket = await openSocket(wsUrl(pathname));
    sockets.push(socket);
    return socket;
  };

  /** The phones opened so far, by doctor id. */
  const phones = new Map<string, { socket: TestSocket; frames: ReturnType<typeof reader> }>();

  /** A phone's socket, placed at `at` by a first fix (acknowledged and applied). */
  async function phoneAt(phone: keyof typeof PHONES, at: { lat: number; lng: number }) {
    const socket = await open(`/v1/doctor?token=${PHONES[phone].token}`);
    const frames = reader(socket);
    phones.set(PHONES[phone].doctor, { socket, frames });
    socket.send(JSON.stringify({ type: 'fixes', fixes: [{ ...at, ts: Date.now() }] }));
    await frames.until((frame) => frame['type'] === 'ack' && frame['accepted'] === 1);
    await waitFor(
      async () => {
        const position = await getJson(engine.url(`/v1/doctors/${PHONES[phone].doctor}/position`));
        return position.status === 200 && (position.body as Frame)['lat'] === at.lat ? true : undefined;
      },
      { what: `${phone} placed` },
    );
    return { socket, frames };
  }

  /** Waits until the booking is offered to a doctor other than `other`; returns that doctor. */
  function offeredElsewhere(token: string, bookingId: string, other: string): Promise<string> {
    return waitFor(
      async () => {
        const booking = await api.send('GET', `/v1/bookings/${bookingId}`, { token });
        const doctorId = booking.body['doctorId'];
        return booking.body['status'] === 'offered' && typeof doctorId === 'string' && doctorId !== other
          ? doctorId
          : undefined;
      },
      { what: `booking ${bookingId} offered to a doctor other than ${other}`, timeoutMs: 20_000 },
    );
  }

  async function patient(name: string) {
    const user = await api.register(name);
    return { ...user, token: await api.login(user.email) };
  }

  it('a patient books, the nearest phone gets the offer and accepts; the track socket follows status and positions', async () => {
    const near = await phoneAt('a', { lat: 55.7612, lng: 37.6093 });
    const far = await phoneAt('b', { lat: 55.7902, lng: 37.6701 });
    const alice = await patient('alice');

    const created = await api.send('POST', '/v1/bookings', { token: alice.token, body: BOOKING });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ patientId: alice.id, priority: 3 });
    const bookingId = created.body['id'] as string;

    const track = reader(await open(`/v1/bookings/${bookingId}/track?access_token=${alice.token}`));
    const state = await track.until(() => true);
    expect(state).toMatchObject({ type: 'state', booking: { id: bookingId } });

    const offer = await near.frames.until((frame) => frame['type'] === 'offer');
    expect(offer).toMatchObject({ bookingId, address: BOOKING.address, lat: HOME.lat, lng: HOME.lng });
    expect(offer['etaSeconds']).toBeGreaterThan(0);
    expect(offer['expiresAt']).toBeGreaterThan(Date.now());

    near.socket.send(JSON.stringify({ type: 'accept', bookingId }));
    const ack = await near.frames.until((frame) => frame['type'] === 'ack' && frame['action'] === 'accept');
    expect(ack).toMatchObject({
      bookingId,
      status: expect.stringMatching(/^(assigned|en_route)$/) as string,
    });

    const assigned = await track.until(
      (frame) => frame['type'] === 'status' && ['assigned', 'en_route'].includes(statusOf(frame)),
    );
    expect(assigned['booking']).toMatchObject({ doctorId: PHONES.a.doctor });
    expect(track.seen.filter((frame) => frame['type'] === 'status').map(statusOf)).toContain('offered');

    // The doctor drives towards the patient: the track socket sees positions with an ETA that shrinks.
    const route = [
      { lat: 55.7601, lng: 37.6111 },
      { lat: 55.7585, lng: 37.6139 },
      { lat: 55.7568, lng: 37.6162 },
    ];
    const positions: Frame[] = [];
    for (const point of route) {
      near.socket.send(JSON.stringify({ type: 'fixes', fixes: [{ ...point, ts: Date.now() }] }));
      positions.push(
        await track.until((frame) => frame['type'] === 'position' && frame['lat'] === point.lat),
      );
    }
    for (const [index, position] of positions.entries()) {
      expect(position).toMatchObject({ lng: route[index]?.lng });
      expect(typeof position['at']).toBe('number');
      expect(position['etaSeconds']).toBeGreaterThanOrEqual(0);
    }
    expect(positions.at(-1)?.['etaSeconds']).toBeLessThan(positions[0]?.['etaSeconds'] as number);

    // The far phone never saw this offer.
    far.socket.send(JSON.stringify([{ lat: 55.7903, lng: 37.6702, ts: Date.now() }]));
    await far.frames.until((frame) => frame['type'] === 'ack');
    expect(far.frames.seen.filter((frame) => frame['type'] === 'offer')).toEqual([]);

    // The patient cancels: the track socket gets the final status and closes; the doctor's phone is told.
    const cancelled = await api.send('POST', `/v1/bookings/${bookingId}/cancel`, {
      token: alice.token,
      body: { reason: 'feeling better' },
    });
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    await track.until((frame) => frame['type'] === 'status' && statusOf(frame) === 'cancelled');
    await near.frames.until(
      (frame) => frame['type'] === 'offer_withdrawn' && frame['bookingId'] === bookingId,
    );
  });

  it('a decline over the socket sends the offer to another doctor', async () => {
    await phoneAt('c', { lat: 55.7571, lng: 37.6158 });
    const bob = await patient('bob');
    const created = await api.send('POST', '/v1/bookings', { token: bob.token, body: BOOKING });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const bookingId = created.body['id'] as string;
    const isThisOffer = (frame: Frame) => frame['type'] === 'offer' && frame['bookingId'] === bookingId;

    const firstDoctor = await offeredElsewhere(bob.token, bookingId, '');
    const first = phones.get(firstDoctor)!;
    await first.frames.until(isThisOffer);
    first.socket.send(JSON.stringify({ type: 'decline', bookingId, reason: 'stuck in traffic' }));
    expect(await first.frames.until((frame) => frame['type'] === 'ack')).toMatchObject({
      action: 'decline',
      bookingId,
      status: 'searching',
    });

    const nextDoctor = await offeredElsewhere(bob.token, bookingId, firstDoctor);
    expect(await phones.get(nextDoctor)?.frames.until(isThisOffer)).toMatchObject({ bookingId });

    const history = await api.send('GET', `/v1/bookings/${bookingId}/history`, { token: bob.token });
    const declined = (history.body['updates'] as Frame[]).find(
      (update) => update['from'] === 'offered' && update['to'] === 'searching',
    );
    expect(declined?.['reason']).toContain('stuck in traffic');
    expect(first.frames.seen.filter(isThisOffer)).toHaveLength(1);
  });

  it("answers a doctor's accept of an offer that is not theirs with an error frame", async () => {
    const carol = await patient('carol');
    const created = await api.send('POST', '/v1/bookings', { token: carol.token, body: BOOKING });
    const bookingId = created.body['id'] as string;
    const offered = await offeredElsewhere(carol.token, bookingId, '');
    const intruderId = [...phones.keys()].find((doctor) => doctor !== offered) as string;
    const intruder = phones.get(intruderId)!;
    intruder.socket.send(JSON.stringify({ type: 'accept', bookingId }));
    expect(await intruder.frames.until((frame) => frame['type'] === 'error')).toMatchObject({
      code: 'DISPATCH_OFFER_NOT_OPEN',
      bookingId,
    });
    const booking = await api.send('GET', `/v1/bookings/${bookingId}`, { token: carol.token });
    expect(booking.body).toMatchObject({ status: 'offered', doctorId: offered });
  });

  it("a doctor user's access token opens the phone socket in place of the phone; the doctor then finishes the visit over REST", async () => {
    const admin = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    const clinic = await api.send('POST', '/v1/clinics', {
      token: admin,
      body: { name: 'Clinic on Arbat', address: 'Arbat 1', licenseNumber: 'LO-77-01-000001' },
    });
    expect(clinic.status, JSON.stringify(clinic.body)).toBe(201);
    const frank = await api.register('dr-frank');
    const profile = await api.send('POST', '/v1/doctors', {
      token: admin,
      body: {
        id: 'doc-frank',
        fullName: 'Frank Doe',
        specializations: ['therapist'],
        licenseNumber: 'LIC-FRANK-0001',
        experienceYears: 9,
        clinicId: clinic.body['id'],
        userId: frank.id,
      },
    });
    expect(profile.status, JSON.stringify(profile.body)).toBe(201);
    expect((await api.send('POST', '/v1/doctors/doc-frank/verify', { token: admin })).status).toBe(200);
    // A new token carries the role doctor.
    const frankToken = await api.login(frank.email);

    const pageSocket = await open(`/v1/doctor?access_token=${frankToken}`);
    const page = reader(pageSocket);
    pageSocket.send(JSON.stringify({ type: 'fixes', fixes: [{ ...HOME, ts: Date.now() }] }));
    await page.until((frame) => frame['type'] === 'ack' && frame['accepted'] === 1);

    // Only doc-frank is a therapist: the offer can only go to the page.
    const grace = await patient('grace');
    const created = await api.send('POST', '/v1/bookings', {
      token: grace.token,
      body: { ...BOOKING, specialization: 'therapist' },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const bookingId = created.body['id'] as string;
    await page.until((frame) => frame['type'] === 'offer' && frame['bookingId'] === bookingId);
    pageSocket.send(JSON.stringify({ type: 'accept', bookingId }));
    await page.until((frame) => frame['type'] === 'ack' && frame['bookingId'] === bookingId);

    for (const [action, status] of [
      ['arrived', 'arrived'],
      ['start', 'in_progress'],
    ] as const) {
      const reply = await api.send('POST', `/v1/bookings/${bookingId}/${action}`, { token: frankToken });
      expect(reply, action).toMatchObject({ status: 200, body: { status } });
    }
    const own = await api.send('GET', '/v1/bookings', { token: frankToken });
    expect((own.body['bookings'] as Frame[]).map((booking) => booking['id'])).toEqual([bookingId]);
    const completed = await api.send('POST', `/v1/bookings/${bookingId}/complete`, { token: frankToken });
    expect(completed).toMatchObject({ status: 200, body: { status: 'completed' } });
    expect(await api.send('GET', `/v1/bookings/${bookingId}`, { token: grace.token })).toMatchObject({
      status: 200,
      body: { status: 'completed' },
    });
    const history = await api.send('GET', `/v1/bookings/${bookingId}/history`, { token: grace.token });
    const accepted = (history.body['updates'] as Frame[]).find((update) => update['to'] === 'assigned');
    expect(accepted).toMatchObject({ by: { id: frank.id, role: 'doctor' }, doctorId: 'doc-frank' });
  });

  it('keeps the track socket to those who may see the booking', async () => {
    const dave = await patient('dave');
    const eve = await patient('eve');
    const created = await api.send('POST', '/v1/bookings', { token: dave.token, body: BOOKING });
    const bookingId = created.body['id'] as string;
    const refused = await openSocket(
      wsUrl(`/v1/bookings/${bookingId}/track?access_token=${eve.token}`),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpgradeRefused);
    expect((refused as UpgradeRefused).status).toBe(404);
    expect(JSON.parse((refused as UpgradeRefused).body)).toMatchObject({
      code: 'DISPATCH_BOOKING_NOT_FOUND',
    });
    const anonymous = await openSocket(wsUrl(`/v1/bookings/${bookingId}/track`)).catch(
      (error: unknown) => error,
    );
    expect((anonymous as UpgradeRefused).status).toBe(401);
    const other = await api.send('GET', `/v1/bookings/${bookingId}`, { token: eve.token });
    expect(other).toMatchObject({ status: 404, body: { code: 'DISPATCH_BOOKING_NOT_FOUND' } });
  });
});

function statusOf(frame: Frame): string {
  return String((frame['booking'] as Frame | undefined)?.['status']);
}
