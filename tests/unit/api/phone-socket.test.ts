import { afterEach, describe, expect, it } from 'vitest';
import {
  PhoneSession,
  phoneSocketRoute,
  PHONE_SOCKET_LIMITS,
  type Reply,
} from '../../../api/gateway/phone-socket.ts';
import type { SocketConnection } from '../../../api/sockets.ts';
import { TotError } from '../../../geo/errors.ts';
import { encode, decode, gatewayFixture, NOW, TOKENS } from '../../support/gateway-fixture.ts';
import { waitFor } from '../../support/wait.ts';

const fixtures: Awaited<ReturnType<typeof gatewayFixture>>[] = [];
afterEach(async () => {
  for (const fixture of fixtures.splice(0)) await fixture.close();
});

async function session(limits = PHONE_SOCKET_LIMITS) {
  const fixture = await gatewayFixture();
  fixtures.push(fixture);
  const route = phoneSocketRoute(fixture.gateway, limits);
  const accepted = await route.accept({
    path: '/v1/doctor',
    query: new URLSearchParams(`token=${TOKENS['phone-1']}`),
    headers: {},
    remoteAddress: '',
  });
  return { fixture, route, session: accepted };
}

const text = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const fix = { lat: 55.75, lng: 37.61, ts: NOW - 1000 };

/** A socket that records what is sent, with a settable backlog. */
class FakeConnection implements SocketConnection {
  sent: (string | Uint8Array)[] = [];
  buffered = 0;
  closedWith: [number, string] | undefined;
  get open() {
    return this.closedWith === undefined;
  }
  send(data: string | Uint8Array) {
    this.sent.push(data);
    return true;
  }
  bufferedAmount() {
    return this.buffered;
  }
  end(code: number, reason: string) {
    this.closedWith ??= [code, reason];
  }
}

describe('the phone socket at the upgrade', () => {
  it('accepts the token from the Authorization header or the query', async () => {
    const { route } = await session();
    const byHeader = await route.accept({
      path: '/v1/doctor',
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${TOKENS['phone-2']}` },
      remoteAddress: '',
    });
    expect(byHeader).toBeInstanceOf(PhoneSession);
    expect(byHeader.device).toEqual({ deviceId: 'phone-2', doctorId: 'doc-2' });
  });

  it.each([
    ['no token', ''],
    ['a wrong token', 'token=not-the-right-token-at-all'],
  ])('refuses %s with API_UNAUTHORIZED (401), opening nothing', async (_, query) => {
    const { route } = await session();
    const refusal = await Promise.resolve()
      .then(() =>
        route.accept({
          path: '/v1/doctor',
          query: new URLSearchParams(query),
          headers: {},
          remoteAddress: '',
        }),
      )
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(TotError);
    expect((refusal as TotError).code).toBe('API_UNAUTHORIZED');
  });
});

describe('PhoneSession frames', () => {
  it('acknowledges a JSON envelope with its batch id once the fixes are on the bus, rejecting another doctor’s fix', async () => {
    const { fixture, session: phone } = await session();
    const reply = await phone.receive(
      text({ type: 'fixes', batchId: 'b-1', fixes: [fix, { ...fix, doctorId: 'doc-2' }] }),
      false,
    );
    expect(reply).toEqual({
      binary: false,
      frame: {
        type: 'ack',
        frame: 1,
        batchId: 'b-1',
        accepted: 1,
        rejected: [
          { index: 1, code: 'API_DOCTOR_MISMATCH', field: 'doctorId', message: expect.any(String) as string },
        ],
      },
    });
    await waitFor(() => (fixture.published().length === 1 ? true : undefined), {
      what: 'the fix on the bus',
    });
    expect(fixture.published()).toEqual([{ doctorId: 'doc-1', ...fix }]);
  });

  it('takes msgpack binary frames (one fix or an array) and answers in msgpack', async () => {
    const { fixture, session: phone } = await session();
    const one = await phone.receive(encode(fix), true);
    const many = await phone.receive(encode([fix, { ...fix, ts: fix.ts + 1 }]), true);
    expect(one).toMatchObject({ binary: true, frame: { type: 'ack', frame: 1, accepted: 1, rejected: [] } });
    expect(many).toMatchObject({ binary: true, frame: { type: 'ack', frame: 2, accepted: 2 } });
    const connection = new FakeConnection();
    phone.attach(connection);
    phone.deliver(many);
    expect(decode(connection.sent[0] as Uint8Array)).toMatchObject({ type: 'ack', frame: 2, accepted: 2 });
    await waitFor(() => (fixture.published().length === 3 ? true : undefined), {
      what: 'three fixes on the bus',
    });
  });

  it.each([
    ['text that is not JSON', text('{"lat": '), false, 'API_MALFORMED_JSON'],
    ['bytes that are not msgpack', new Uint8Array([0x92, 0x01]), true, 'API_MALFORMED_MSGPACK'],
    ['the reserved msgpack byte', new Uint8Array([0xc1]), true, 'API_MALFORMED_MSGPACK'],
    ['an empty array', text([]), false, 'API_VALIDATION_FAILED'],
    ['an unknown frame type', text({ type: 'hello' }), false, 'API_VALIDATION_FAILED'],
    ['too many fixes', text(Array.from({ length: 1001 }, () => fix)), false, 'API_BATCH_TOO_LARGE'],
  ])('answers %s with an error frame and publishes nothing', async (_, data, binary, code) => {
    const { fixture, session: phone } = await session();
    const reply = await phone.receive(data, binary);
    expect(reply.frame).toMatchObject({
      type: 'error',
      code,
      frame: 1,
      title: expect.any(String) as string,
      detail: expect.any(String) as string,
    });
    await fixture.publisher.flush();
    expect(fixture.records).toEqual([]);
  });

  it('names the field of a malformed envelope in the error frame', async () => {
    const { session: phone } = await session();
    const reply = await phone.receive(text({ type: 'fixes', fixes: 'none' }), false);
    expect(reply.frame).toMatchObject({ code: 'API_VALIDATION_FAILED', errors: [{ field: 'fixes' }] });
  });

  it('answers API_RATE_LIMITED while too many frames wait for the bus', async () => {
    const { fixture, session: phone } = await session({ ...PHONE_SOCKET_LIMITS, maxFramesInFlight: 2 });
    // The first two wait for the publisher's linger (the next turn of the loop) when the third arrives.
    const waiting = [phone.receive(text(fix), false), phone.receive(text(fix), false)];
    const third = await phone.receive(text(fix), false);
    expect(third.frame).toMatchObject({ type: 'error', code: 'API_RATE_LIMITED', frame: 3 });
    await fixture.publisher.flush();
    const replies = await Promise.all(waiting);
    expect(replies.map((reply) => reply.frame.type)).toEqual(['ack', 'ack']);
    expect((await phone.receive(text(fix), false)).frame.type).toBe('ack');
  });

  it('answers API_PUBLISH_FAILED when the bus refuses, and the socket stays usable', async () => {
    const { fixture, session: phone } = await session();
    await fixture.bus.close();
    const reply = await phone.receive(text(fix), false);
    expect(reply.frame).toMatchObject({ type: 'error', code: 'API_PUBLISH_FAILED', frame: 1 });
  });
});

describe('PhoneSession backpressure', () => {
  const reply: Reply = { binary: false, frame: { type: 'ack', frame: 1, accepted: 1, rejected: [] } };

  it('sends replies while the phone reads them', async () => {
    const { session: phone } = await session();
    const connection = new FakeConnection();
    phone.attach(connection);
    expect(phone.deliver(reply)).toBe(true);
    expect(JSON.parse(connection.sent[0] as string)).toEqual(reply.frame);
  });

  it('closes with 1008 a phone that lets replies pile up unread, instead of buffering without bound', async () => {
    const { fixture, session: phone } = await session();
    const connection = new FakeConnection();
    phone.attach(connection);
    connection.buffered = PHONE_SOCKET_LIMITS.maxBufferedBytes + 1;
    expect(phone.deliver(reply)).toBe(false);
    expect(connection.closedWith?.[0]).toBe(1008);
    expect(connection.sent).toEqual([]);
    expect(await fixture.registry.getSingleMetricAsString('tot_gateway_sockets_closed_total')).toContain(
      'reason="backpressure"} 1',
    );
  });

  it('drops a reply for a socket that already closed', async () => {
    const { session: phone } = await session();
    const connection = new FakeConnection();
    phone.attach(connection);
    connection.end(1000, 'bye');
    expect(phone.deliver(reply)).toBe(false);
    expect(connection.sent).toEqual([]);
  });
});
