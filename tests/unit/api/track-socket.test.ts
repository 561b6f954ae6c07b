import { afterEach, describe, expect, it } from 'vitest';
import type { SocketConnection } from '../../../api/sockets.ts';
import { TrackHub } from '../../../api/tracking/track-hub.ts';
import { TRACK_CLOSE, TrackSession, trackSocketRoute } from '../../../api/tracking/track-socket.ts';
import type { BookingRequest } from '../../../dispatch/booking-types.ts';
import { type TotError } from '../../../geo/errors.ts';
import { TrafficField } from '../../../geo/traffic-field.ts';
import {
  BOOKING_BODY,
  BOOKING_NOW,
  DOCTOR_PROFILES,
  testTokens,
  USERS,
  type UserName,
} from '../../support/booking-fixture.ts';
import { FakeDispatch } from '../../support/fake-dispatch.ts';

const SYSTEM = { id: 'system', role: 'system' } as const;

/** A socket that records what is sent, with a settable backlog. */
class FakeConnection implements SocketConnection {
  sent: string[] = [];
  buffered = 0;
  closedWith: [number, string] | undefined;
  get open() {
    return this.closedWith === undefined;
  }
  send(data: string | Uint8Array) {
    this.sent.push(String(data));
    return true;
  }
  bufferedAmount() {
    return this.buffered;
  }
  end(code: number, reason: string) {
    this.closedWith ??= [code, reason];
  }
  frames(): Record<string, unknown>[] {
    return this.sent.map((text) => JSON.parse(text) as Record<string, unknown>);
  }
}

const hubs: TrackHub[] = [];
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.stop();
});

function setup() {
  const dispatch = new FakeDispatch(() => BOOKING_NOW);
  const tokens = testTokens();
  const hub = new TrackHub({
    dispatch: () => dispatch,
    fleet: () => ({ get: () => undefined }),
    traffic: () => new TrafficField(),
    clock: () => BOOKING_NOW,
    tickMs: 0,
  });
  hubs.push(hub);
  const route = trackSocketRoute({
    hub,
    dispatch: () => dispatch,
    tokens,
    doctorIdOfUser: async (userId) => DOCTOR_PROFILES[userId],
  });
  const accept = async (path: string, user?: UserName, query = '') =>
    route.accept({
      path,
      query: new URLSearchParams(
        user ? `access_token=${await tokens.sign(USERS[user])}${query}` : query.replace(/^&/, ''),
      ),
      headers: {},
      remoteAddress: '',
    });
  const refusal = (path: string, user?: UserName, query = '') =>
    accept(path, user, query).then(
      () => undefined,
      (error: unknown) => error as TotError,
    );
  /** Accepts and opens a socket as the server does. */
  const open = async (bookingId: string, user: UserName) => {
    const session = await accept(`/v1/bookings/${bookingId}/track`, user);
    const connection = new FakeConnection();
    route.open(session, connection);
    await new Promise((resolve) => setImmediate(resolve));
    return { session, connection };
  };
  const book = () =>
    dispatch.create({ ...BOOKING_BODY, patientId: USERS.alice.userId } as BookingRequest, {
      id: USERS.alice.userId,
      role: 'patient',
    });
  return { dispatch, tokens, hub, route, accept, refusal, open, book };
}

describe('the tracking socket at the upgrade', () => {
  it('lets in the patient, the assigned doctor, dispatchers and admins', async () => {
    const { dispatch, accept, book } = setup();
    const booking = await book();
    await dispatch.assign(booking.id, 'doc-1', SYSTEM);
    for (const user of ['alice', 'drOne', 'dispatcher', 'admin'] as const) {
      const session = await accept(`/v1/bookings/${booking.id}/track`, user);
      expect(session).toBeInstanceOf(TrackSession);
      expect(session.bookingId).toBe(booking.id);
    }
  });

  it('answers anyone else 404 DISPATCH_BOOKING_NOT_FOUND, as for a booking that does not exist', async () => {
    const { dispatch, refusal, book } = setup();
    const booking = await book();
    await dispatch.assign(booking.id, 'doc-1', SYSTEM);
    for (const user of ['bob', 'drTwo', 'drNoProfile', 'clinic'] as const) {
      expect((await refusal(`/v1/bookings/${booking.id}/track`, user))?.code).toBe(
        'DISPATCH_BOOKING_NOT_FOUND',
      );
    }
    expect((await refusal('/v1/bookings/booking-404/track', 'alice'))?.code).toBe(
      'DISPATCH_BOOKING_NOT_FOUND',
    );
  });

  it('needs a valid access token (401) and a valid id in the path (400)', async () => {
    const { refusal, book } = setup();
    const booking = await book();
    expect((await refusal(`/v1/bookings/${booking.id}/track`))?.code).toBe('API_UNAUTHENTICATED');
    expect(
      (await refusal(`/v1/bookings/${booking.id}/track`, undefined, '&access_token=not.a.jwt'))?.code,
    ).toBe('API_TOKEN_INVALID');
    expect((await refusal('/v1/bookings/%E0%A4%A/track', 'alice'))?.code).toBe('API_VALIDATION_FAILED');
  });
});

describe('TrackSession', () => {
  it('sends the state then every status as JSON, hiding who declined from the patient but not from staff', async () => {
    const { dispatch, open, book } = setup();
    const booking = await book();
    const patient = await open(booking.id, 'alice');
    const staff = await open(booking.id, 'dispatcher');
    dispatch.offerTo(booking.id, 'doc-2');
    await dispatch.decline(booking.id, 'doc-2', SYSTEM);
    expect(patient.connection.frames().map((frame) => frame['type'])).toEqual(['state', 'status', 'status']);
    const lastForPatient = patient.connection.frames().at(-1)?.['booking'] as Record<string, unknown>;
    expect(lastForPatient).toMatchObject({ status: 'searching' });
    expect(lastForPatient).not.toHaveProperty('declinedBy');
    expect(staff.connection.frames().at(-1)?.['booking']).toMatchObject({ declinedBy: ['doc-2'] });
  });

  it('closes (1000) after the final status', async () => {
    const { dispatch, open, book, hub } = setup();
    const booking = await book();
    const { connection } = await open(booking.id, 'alice');
    await dispatch.cancel(booking.id, SYSTEM, 'patient_cancelled');
    expect(connection.frames().at(-1)).toMatchObject({ type: 'status', booking: { status: 'cancelled' } });
    expect(connection.closedWith).toEqual([TRACK_CLOSE.done, 'booking finished']);
    expect(hub.trackedBookings).toBe(0);
  });

  it('closes a doctor taken off the booking without showing them the change', async () => {
    const { dispatch, open, book } = setup();
    const booking = await book();
    await dispatch.assign(booking.id, 'doc-1', SYSTEM);
    const doctor = await open(booking.id, 'drOne');
    const patient = await open(booking.id, 'alice');
    await dispatch.reassign(booking.id, SYSTEM, 'closer doctor');
    expect(doctor.connection.frames().map((frame) => frame['type'])).toEqual(['state']);
    expect(doctor.connection.closedWith).toEqual([TRACK_CLOSE.done, 'booking no longer visible']);
    expect(patient.connection.open).toBe(true);
    expect(patient.connection.frames().at(-1)).toMatchObject({ booking: { status: 'searching' } });
  });

  it('answers a frame from the client with an error frame and stays open', async () => {
    const { open, book, route } = setup();
    const booking = await book();
    const { session, connection } = await open(booking.id, 'alice');
    route.message(session, new Uint8Array([1]), true);
    expect(connection.frames().at(-1)).toMatchObject({
      type: 'error',
      code: 'API_VALIDATION_FAILED',
      errors: [{ field: '(frame)' }],
    });
    expect(connection.open).toBe(true);
  });

  it('closes (1008) a client that does not read its frames, and stops tracking for it', async () => {
    const { dispatch, open, book, hub } = setup();
    const booking = await book();
    const { connection } = await open(booking.id, 'alice');
    connection.buffered = 1024 * 1024;
    dispatch.offerTo(booking.id, 'doc-1');
    expect(connection.closedWith).toEqual([TRACK_CLOSE.notReading, 'frames are not being read']);
    expect(hub.trackedBookings).toBe(0);
  });

  it('stops tracking when the socket closes', async () => {
    const { open, book, hub, route } = setup();
    const booking = await book();
    const { session } = await open(booking.id, 'alice');
    expect(hub.trackedBookings).toBe(1);
    route.close(session, 1001);
    expect(hub.trackedBookings).toBe(0);
  });
});
