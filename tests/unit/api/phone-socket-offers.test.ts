import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { OfferAnswers } from '../../../api/gateway/offer-answers.ts';
import { PhoneOfferChannel } from '../../../api/gateway/offer-channel.ts';
import {
  PhoneSession,
  phoneSocketRoute,
  type PhoneSocketOptions,
} from '../../../api/gateway/phone-socket.ts';
import type { SocketConnection } from '../../../api/sockets.ts';
import type { BookingRequest } from '../../../dispatch/booking-types.ts';
import { TotError } from '../../../geo/errors.ts';
import { DOCTOR_PROFILES, BOOKING_BODY, testTokens, USERS } from '../../support/booking-fixture.ts';
import { FakeDispatch } from '../../support/fake-dispatch.ts';
import { gatewayFixture, NOW, TOKENS } from '../../support/gateway-fixture.ts';
import { waitFor } from '../../support/wait.ts';

const packr = new Packr({ useRecords: false });
const text = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** A socket that records what is sent. */
class FakeConnection implements SocketConnection {
  sent: (string | Uint8Array)[] = [];
  closedWith: [number, string] | undefined;
  get open() {
    return this.closedWith === undefined;
  }
  send(data: string | Uint8Array) {
    this.sent.push(data);
    return true;
  }
  bufferedAmount() {
    return 0;
  }
  end(code: number, reason: string) {
    this.closedWith ??= [code, reason];
  }
  /** Every frame sent, decoded (JSON text or msgpack). */
  frames(): Record<string, unknown>[] {
    return this.sent.map((data) =>
      typeof data === 'string'
        ? (JSON.parse(data) as Record<string, unknown>)
        : (packr.unpack(data) as Record<string, unknown>),
    );
  }
}

const fixtures: Awaited<ReturnType<typeof gatewayFixture>>[] = [];
afterEach(async () => {
  for (const fixture of fixtures.splice(0)) await fixture.close();
});

async function setup(options: { offers?: boolean; users?: boolean } = { offers: true, users: true }) {
  const fixture = await gatewayFixture();
  fixtures.push(fixture);
  const channel = new PhoneOfferChannel();
  const dispatch = new FakeDispatch(() => NOW, channel);
  const tokens = testTokens();
  const socketOptions: PhoneSocketOptions = {
    ...(options.offers ? { offers: { channel, answers: new OfferAnswers(() => dispatch) } } : {}),
    ...(options.users
      ? { doctorUsers: { tokens, doctorIdOfUser: async (userId: string) => DOCTOR_PROFILES[userId] } }
      : {}),
  };
  const route = phoneSocketRoute(fixture.gateway, undefined, socketOptions);
  /** Opens a session with `query` and attaches a fake connection, as the server does on open. */
  const open = async (query: string) => {
    const session = await route.accept({
      path: '/v1/doctor',
      query: new URLSearchParams(query),
      headers: {},
      remoteAddress: '',
    });
    const connection = new FakeConnection();
    route.open(session, connection);
    return { session, connection };
  };
  const book = () =>
    dispatch.create({ ...BOOKING_BODY, patientId: USERS.alice.userId } as BookingRequest, {
      id: USERS.alice.userId,
      role: 'patient',
    });
  return { fixture, channel, dispatch, tokens, route, open, book };
}

describe('PhoneOfferChannel', () => {
  it("sends an offer to each of the doctor's sockets and reports whether any was reached", () => {
    const channel = new PhoneOfferChannel();
    const first: unknown[] = [];
    const second: unknown[] = [];
    const detachFirst = channel.attach('doc-1', { push: (frame) => first.push(frame) > 0 });
    channel.attach('doc-1', { push: (frame) => second.push(frame) > 0 });
    channel.attach('doc-2', { push: () => true });
    const offer = {
      type: 'offer' as const,
      bookingId: 'b-1',
      priority: 3 as const,
      emergency: false,
      callType: 'home_visit' as const,
      address: 'a',
      lat: 55.75,
      lng: 37.61,
      symptoms: 's',
      etaSeconds: 240,
      expiresAt: NOW + 30_000,
    };
    expect(channel.offer('doc-1', offer)).toBe(true);
    expect(first).toEqual([offer]);
    expect(second).toEqual([offer]);
    expect(channel.offer('doc-9', offer)).toBe(false);
    channel.assigned('doc-1', { ...offer, bookingId: 'b-2' });
    expect(second.at(-1)).toEqual({ ...offer, type: 'assigned', bookingId: 'b-2' });
    channel.withdraw('doc-1', 'b-1', 'cancelled');
    expect(second.at(-1)).toEqual({ type: 'offer_withdrawn', bookingId: 'b-1', reason: 'cancelled' });
    detachFirst();
    detachFirst();
    expect(channel.socketsOf('doc-1')).toBe(1);
    expect(channel.stats()).toEqual({ offersSent: 1, offersUnreached: 1, doctorsConnected: 2 });
  });

  it('reports a doctor whose only socket cannot take the frame as not reached', () => {
    const channel = new PhoneOfferChannel();
    channel.attach('doc-1', { push: () => false });
    const offer = {
      type: 'offer' as const,
      bookingId: 'b-2',
      priority: 1 as const,
      emergency: true,
      callType: 'emergency' as const,
      address: 'a',
      lat: 55.75,
      lng: 37.61,
      symptoms: 's',
      etaSeconds: 120,
      expiresAt: NOW + 15_000,
    };
    expect(channel.offer('doc-1', offer)).toBe(false);
    expect(channel.stats()).toEqual({ offersSent: 0, offersUnreached: 1, doctorsConnected: 1 });
  });
});

describe('offers on the phone socket', () => {
  it('delivers an offer in JSON before the phone sent anything, then in the encoding of its last frame', async () => {
    const { dispatch, open, book } = await setup();
    const { session, connection } = await open(`token=${TOKENS['phone-1']}`);
    const first = await book();
    dispatch.offerTo(first.id, 'doc-1');
    expect(typeof connection.sent[0]).toBe('string');
    expect(connection.frames()[0]).toMatchObject({
      type: 'offer',
      bookingId: first.id,
      address: BOOKING_BODY.address,
    });

    session.deliver(await session.receive(packr.pack({ lat: 55.75, lng: 37.61, ts: NOW - 1000 }), true));
    const second = await book();
    dispatch.offerTo(second.id, 'doc-1');
    expect(connection.sent.at(-1)).toBeInstanceOf(Uint8Array);
    expect(connection.frames().at(-1)).toMatchObject({ type: 'offer', bookingId: second.id });
  });

  it('speaks msgpack from the start with ?encoding=msgpack', async () => {
    const { dispatch, open, book } = await setup();
    const { connection } = await open(`token=${TOKENS['phone-1']}&encoding=msgpack`);
    dispatch.offerTo((await book()).id, 'doc-1');
    expect(connection.sent[0]).toBeInstanceOf(Uint8Array);
    expect(connection.frames()[0]).toMatchObject({ type: 'offer' });
  });

  it('acknowledges an accept from the offered doctor with the new status, acting as the device', async () => {
    const { dispatch, open, book } = await setup();
    const { session } = await open(`token=${TOKENS['phone-1']}`);
    const booking = await book();
    dispatch.offerTo(booking.id, 'doc-1');
    const reply = await session.receive(text({ type: 'accept', bookingId: booking.id }), false);
    expect(reply).toEqual({
      binary: false,
      frame: { type: 'ack', frame: 1, action: 'accept', bookingId: booking.id, status: 'assigned' },
    });
    expect(dispatch.callsOf('accept')[0]?.args).toEqual([
      booking.id,
      'doc-1',
      { id: 'device:phone-1', role: 'doctor' },
    ]);
  });

  it("answers an accept of another doctor's offer with an error frame naming the booking; nothing changes", async () => {
    const { dispatch, open, book } = await setup();
    const { session } = await open(`token=${TOKENS['phone-2']}`);
    const booking = await book();
    dispatch.offerTo(booking.id, 'doc-1');
    const reply = await session.receive(packr.pack({ type: 'accept', bookingId: booking.id }), true);
    expect(reply).toMatchObject({
      binary: true,
      frame: { type: 'error', frame: 1, code: 'DISPATCH_OFFER_NOT_OPEN', bookingId: booking.id },
    });
    expect(await dispatch.get(booking.id)).toMatchObject({ status: 'offered', doctorId: 'doc-1' });
  });

  it('declines with a reason; the booking searches again', async () => {
    const { dispatch, open, book } = await setup();
    const { session } = await open(`token=${TOKENS['phone-1']}`);
    const booking = await book();
    dispatch.offerTo(booking.id, 'doc-1');
    const reply = await session.receive(
      text({ type: 'decline', bookingId: booking.id, reason: 'stuck in traffic' }),
      false,
    );
    expect(reply.frame).toEqual({
      type: 'ack',
      frame: 1,
      action: 'decline',
      bookingId: booking.id,
      status: 'searching',
    });
    expect(dispatch.callsOf('decline')[0]?.args[3]).toBe('stuck in traffic');
  });

  it.each([
    [{ type: 'accept' }, 'frame.bookingId'],
    [{ type: 'accept', bookingId: '' }, 'frame.bookingId'],
    [{ type: 'accept', bookingId: 'b', doctorId: 'doc-2' }, 'frame.doctorId'],
    [{ type: 'decline', bookingId: 'b', reason: 7 }, 'frame.reason'],
  ])('refuses the answer %j naming %s', async (frame, field) => {
    const { dispatch, open } = await setup();
    const { session } = await open(`token=${TOKENS['phone-1']}`);
    const reply = await session.receive(text(frame), false);
    expect(reply.frame).toMatchObject({
      type: 'error',
      code: 'API_VALIDATION_FAILED',
      errors: [{ field }],
    });
    expect(dispatch.callsOf('accept')).toEqual([]);
    expect(dispatch.callsOf('decline')).toEqual([]);
  });

  it('still takes fixes on the same socket', async () => {
    const { fixture, open } = await setup();
    const { session } = await open(`token=${TOKENS['phone-1']}`);
    const reply = await session.receive(
      text({ type: 'fixes', fixes: [{ lat: 55.7, lng: 37.6, ts: NOW }] }),
      false,
    );
    expect(reply.frame).toMatchObject({ type: 'ack', accepted: 1 });
    await waitFor(() => (fixture.published().length === 1 ? true : undefined), {
      what: 'the fix on the bus',
    });
  });

  it('stops sending offers to a closed socket', async () => {
    const { channel, dispatch, route, open, book } = await setup();
    const { session, connection } = await open(`token=${TOKENS['phone-1']}`);
    expect(channel.socketsOf('doc-1')).toBe(1);
    route.close(session, 1000);
    expect(channel.socketsOf('doc-1')).toBe(0);
    dispatch.offerTo((await book()).id, 'doc-1');
    expect(connection.sent).toEqual([]);
  });

  it('without offers configured, an answer frame is refused as before (type must be "fixes")', async () => {
    const { open } = await setup({ offers: false, users: false });
    const { session } = await open(`token=${TOKENS['phone-1']}`);
    const reply = await session.receive(text({ type: 'accept', bookingId: 'b' }), false);
    expect(reply.frame).toMatchObject({
      type: 'error',
      code: 'API_VALIDATION_FAILED',
      errors: [{ field: 'type' }],
    });
  });
});

describe("a doctor user's access token on the phone socket", () => {
  it('opens the socket as the linked doctor profile; fixes and answers act for it', async () => {
    const { fixture, dispatch, tokens, open, book } = await setup();
    const token = await tokens.sign(USERS.drOne);
    const { session, connection } = await open(`access_token=${token}`);
    expect(session).toBeInstanceOf(PhoneSession);
    expect(session.device).toEqual({
      deviceId: `user:${USERS.drOne.userId}`,
      doctorId: 'doc-1',
      userId: USERS.drOne.userId,
    });

    const booking = await book();
    dispatch.offerTo(booking.id, 'doc-1');
    expect(connection.frames()[0]).toMatchObject({ type: 'offer', bookingId: booking.id });
    await session.receive(text({ type: 'accept', bookingId: booking.id }), false);
    expect(dispatch.callsOf('accept')[0]?.args[2]).toEqual({ id: USERS.drOne.userId, role: 'doctor' });

    const ack = await session.receive(text([{ lat: 55.7, lng: 37.6, ts: NOW }]), false);
    expect(ack.frame).toMatchObject({ type: 'ack', accepted: 1 });
    await waitFor(() => (fixture.published().length === 1 ? true : undefined), {
      what: 'the fix on the bus',
    });
    expect(fixture.published()[0]).toMatchObject({ doctorId: 'doc-1' });
  });

  it.each([
    ['a patient', 'alice', 'API_FORBIDDEN'],
    ['a doctor without a profile', 'drNoProfile', 'API_FORBIDDEN'],
  ] as const)('refuses %s (%s) with %s', async (_, user, code) => {
    const { tokens, route } = await setup();
    const token = await tokens.sign(USERS[user]);
    const refusal = await Promise.resolve(
      route.accept({
        path: '/v1/doctor',
        query: new URLSearchParams(`access_token=${token}`),
        headers: {},
        remoteAddress: '',
      }),
    ).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TotError);
    expect((refusal as TotError).code).toBe(code);
  });

  it('refuses a forged token with 401 API_TOKEN_INVALID and keeps device tokens working', async () => {
    const { tokens, route, open } = await setup();
    const forged = (await tokens.sign(USERS.drOne)).slice(0, -4) + 'AAAA';
    const refusal = await Promise.resolve(
      route.accept({
        path: '/v1/doctor',
        query: new URLSearchParams(`access_token=${forged}`),
        headers: {},
        remoteAddress: '',
      }),
    ).catch((error: unknown) => error);
    expect((refusal as TotError).code).toBe('API_TOKEN_INVALID');
    const { session } = await open(`token=${TOKENS['phone-2']}`);
    expect(session.device).toEqual({ deviceId: 'phone-2', doctorId: 'doc-2' });
  });
});
