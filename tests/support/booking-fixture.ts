/**
 * The booking routes over a {@link FakeDispatch}, with signed access tokens for a cast of users, and a `call` that
 * answers as the server would (problems for thrown errors). No sockets, no store.
 */
import { createGuards } from '../../api/auth/guards.ts';
import { AccessTokens } from '../../api/auth/tokens.ts';
import { problemOf } from '../../api/errors.ts';
import { Router, type ApiResponse, type Method } from '../../api/router.ts';
import { addBookingRoutes } from '../../api/routes/bookings.ts';
import type { BookingRequest, OfferChannel } from '../../dispatch/booking-types.ts';
import type { Role } from '../../engine/users.ts';
import { FakeDispatch } from './fake-dispatch.ts';

/** The time the booking fixtures live at. */
export const BOOKING_NOW = Date.UTC(2026, 10, 22, 9, 0, 0);

/** Test users: id and role; doctors' linked profiles in {@link DOCTOR_PROFILES}. */
export const USERS = {
  alice: { userId: 'user-alice', role: 'patient' },
  bob: { userId: 'user-bob', role: 'patient' },
  drOne: { userId: 'user-dr-one', role: 'doctor' },
  drTwo: { userId: 'user-dr-two', role: 'doctor' },
  drNoProfile: { userId: 'user-dr-none', role: 'doctor' },
  dispatcher: { userId: 'user-dispatcher', role: 'dispatcher' },
  admin: { userId: 'user-admin', role: 'admin' },
  clinic: { userId: 'user-clinic', role: 'clinic_admin' },
} as const satisfies Record<string, { userId: string; role: Role }>;

/** Who is calling. */
export type UserName = keyof typeof USERS;

/** Doctor profiles linked to the doctor users. */
export const DOCTOR_PROFILES: Record<string, string> = { 'user-dr-one': 'doc-1', 'user-dr-two': 'doc-2' };

/** A valid booking body (what a patient's app sends). */
export const BOOKING_BODY = {
  callType: 'home_visit',
  symptoms: 'fever 38.5 since yesterday',
  address: 'Tverskaya 1, apt 5',
  lat: 55.7575,
  lng: 37.6139,
  priority: 3,
} as const;

/** Signs tokens with a test secret. */
export const testTokens = () =>
  new AccessTokens({ secret: 'booking-tests-secret-0123456789abcdef', ttlSeconds: 900 });

/** The routes over a fresh fake dispatcher. */
export function bookingFixture(options: { channel?: OfferChannel } = {}) {
  const tokens = testTokens();
  const dispatch = new FakeDispatch(() => BOOKING_NOW, options.channel);
  const router = new Router();
  const doctorIdOfUser = async (userId: string) => DOCTOR_PROFILES[userId];
  addBookingRoutes(router, { dispatch: () => dispatch, guards: createGuards(tokens), doctorIdOfUser });
  const tokenCache = new Map<UserName, string>();
  const tokenOf = async (user: UserName) => {
    let token = tokenCache.get(user);
    if (!token) {
      token = await tokens.sign(USERS[user]);
      tokenCache.set(user, token);
    }
    return token;
  };

  /** Calls a route as `user` (undefined: without a token). */
  const call = async (
    user: UserName | undefined,
    method: Method,
    url: string,
    body?: unknown,
  ): Promise<ApiResponse & { body: Record<string, unknown> }> => {
    const parsed = new URL(url, 'http://test');
    try {
      const response = await router.handle({
        method,
        path: parsed.pathname,
        query: parsed.searchParams,
        headers: user ? { authorization: `Bearer ${await tokenOf(user)}` } : {},
        remoteAddress: '127.0.0.1',
        ...(body === undefined ? {} : { body }),
      });
      return { ...response, body: (response.body ?? {}) as Record<string, unknown> };
    } catch (error) {
      const problem = problemOf(error, parsed.pathname);
      return { status: problem.status, body: problem as unknown as Record<string, unknown> };
    }
  };

  /** A booking made by `patient` straight on the dispatcher. */
  const book = async (patient: 'alice' | 'bob', overrides: Partial<BookingRequest> = {}) =>
    dispatch.create({ ...BOOKING_BODY, patientId: USERS[patient].userId, ...overrides } as BookingRequest, {
      id: USERS[patient].userId,
      role: 'patient',
    });

  return { tokens, tokenOf, dispatch, router, call, book, doctorIdOfUser };
}

/** The fields named by a problem's `errors`. */
export function fieldsOf(body: Record<string, unknown>): string[] {
  return ((body['errors'] as { field: string }[] | undefined) ?? []).map((error) => error.field);
}
