import { describe, expect, it } from 'vitest';
import { liveSocketRoute } from '../../../api/live/live-route.ts';
import { LiveSession } from '../../../api/live/live-session.ts';
import { AccessTokens } from '../../../api/auth/tokens.ts';
import { problemOf } from '../../../api/errors.ts';
import type { Role } from '../../../engine/users.ts';
import { FakeTopicConnection, liveFixture } from '../../support/live-fixture.ts';

const KREMLIN: [number, number, number, number] = [37.605, 55.745, 37.63, 55.757];

describe('frames from the map', () => {
  it('answers ping with pong, outside the seq', () => {
    const live = liveFixture();
    const dispatcher = live.connect();
    dispatcher.send({ type: 'ping' });
    expect(dispatcher.connection.take()).toEqual([{ type: 'pong' }]);
  });

  it.each([
    ['text that is not JSON', '{"type": "subscribe",', 'API_MALFORMED_JSON', '(frame)'],
    ['an unknown type', { type: 'unsubscribe' }, 'API_VALIDATION_FAILED', 'frame.type'],
    [
      'a bbox crossing the antimeridian',
      { type: 'subscribe', bbox: [179, 0, -179, 1], zoom: 14 },
      'API_VALIDATION_FAILED',
      'frame.bbox',
    ],
    [
      'a bbox of three numbers',
      { type: 'subscribe', bbox: [37.6, 55.7, 37.7], zoom: 14 },
      'API_VALIDATION_FAILED',
      'frame.bbox',
    ],
    ['no zoom', { type: 'subscribe', bbox: KREMLIN }, 'API_VALIDATION_FAILED', 'frame.zoom'],
    ['a zoom of 30', { type: 'subscribe', bbox: KREMLIN, zoom: 30 }, 'API_VALIDATION_FAILED', 'frame.zoom'],
  ])(
    'answers %s with an error frame naming the field; the socket stays open and the view stays',
    (_, frame, code, field) => {
      const live = liveFixture();
      live.fix('a', 55.75, 37.615);
      const dispatcher = live.connect();
      dispatcher.subscribe(KREMLIN, 15);
      dispatcher.connection.take();
      dispatcher.send(frame);
      const [error] = dispatcher.connection.take();
      expect(error).toMatchObject({
        type: 'error',
        code,
        title: expect.any(String),
        detail: expect.any(String),
      });
      expect((error?.['errors'] as { field: string }[]).map((entry) => entry.field)).toContain(field);
      expect(dispatcher.connection.open).toBe(true);
      live.fix('a', 55.751, 37.615);
      live.tick();
      expect(dispatcher.connection.take()).toMatchObject([{ type: 'delta', seq: 2 }]);
    },
  );

  it('refuses binary frames with an error frame', () => {
    const live = liveFixture();
    const dispatcher = live.connect();
    dispatcher.session.receive(new Uint8Array([1, 2, 3]), true);
    expect(dispatcher.connection.take()).toMatchObject([{ type: 'error', code: 'API_VALIDATION_FAILED' }]);
    expect(dispatcher.connection.open).toBe(true);
  });

  it('limits subscribes to subscribesPerSecond, answering API_RATE_LIMITED, and allows more a second later', () => {
    const live = liveFixture({ limits: { subscribesPerSecond: 3 } });
    const dispatcher = live.connect();
    for (let i = 0; i < 4; i++) dispatcher.subscribe(KREMLIN, 15);
    const frames = dispatcher.connection.take();
    expect(frames.map((frame) => frame['type'])).toEqual(['snapshot', 'snapshot', 'snapshot', 'error']);
    expect(frames[3]).toMatchObject({ code: 'API_RATE_LIMITED' });
    live.clock.now += 1_000;
    dispatcher.subscribe(KREMLIN, 15);
    expect(dispatcher.connection.take()).toMatchObject([{ type: 'snapshot', seq: 4 }]);
  });
});

describe('the /v1/live upgrade', () => {
  const tokens = new AccessTokens({ secret: 'live-tests-secret-0123456789abcdef!', ttlSeconds: 900 });
  const route = () => liveSocketRoute({ hub: liveFixture().hub, tokens });
  const upgrade = async (query: string, headers: Record<string, string> = {}) =>
    route().accept({
      path: '/v1/live',
      query: new URLSearchParams(query),
      headers,
      remoteAddress: '127.0.0.1',
    });
  const refusal = async (attempt: Promise<unknown>) => {
    try {
      await attempt;
    } catch (error) {
      return problemOf(error, '/v1/live');
    }
    throw new Error('the upgrade was accepted');
  };
  const token = (role: Role) => tokens.sign({ userId: `user-${role}`, role });

  it('refuses no token with 401 API_UNAUTHENTICATED', async () => {
    expect(await refusal(upgrade(''))).toMatchObject({ status: 401, code: 'API_UNAUTHENTICATED' });
  });

  it('refuses a bad token with 401 API_TOKEN_INVALID', async () => {
    expect(await refusal(upgrade('access_token=not.a.jwt'))).toMatchObject({
      status: 401,
      code: 'API_TOKEN_INVALID',
    });
  });

  it.each(['patient', 'doctor', 'clinic_admin'] as const)(
    'refuses a %s with 403 API_FORBIDDEN',
    async (role) => {
      expect(await refusal(upgrade(`access_token=${await token(role)}`))).toMatchObject({
        status: 403,
        code: 'API_FORBIDDEN',
      });
    },
  );

  it('accepts a dispatcher by ?access_token= and an admin by the Authorization header', async () => {
    const dispatcher = await upgrade(`access_token=${await token('dispatcher')}`);
    expect(dispatcher).toBeInstanceOf(LiveSession);
    expect(dispatcher.principal).toEqual({ userId: 'user-dispatcher', role: 'dispatcher' });
    const admin = await upgrade('', { authorization: `Bearer ${await token('admin')}` });
    expect(admin.principal.role).toBe('admin');
  });

  it('closes a connection that cannot join topics (1011) instead of serving it half', async () => {
    const live = liveFixture();
    const liveRoute = liveSocketRoute({ hub: live.hub, tokens });
    const session = await liveRoute.accept({
      path: '/v1/live',
      query: new URLSearchParams(`access_token=${await token('dispatcher')}`),
      headers: {},
      remoteAddress: '',
    });
    const plain = new FakeTopicConnection();
    const withoutTopics = {
      send: (data: string | Uint8Array) => plain.send(data),
      bufferedAmount: () => 0,
      end: (code: number) => plain.end(code),
      get open() {
        return plain.open;
      },
    };
    liveRoute.open(session, withoutTopics);
    expect(plain.closedWith).toBe(1011);
  });
});
