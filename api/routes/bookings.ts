import type { Booking, DispatchService } from '../../dispatch/booking-types.ts';
import { TotError } from '../../geo/errors.ts';
import type { Guards } from '../auth/guards.ts';
import { validate } from '../errors.ts';
import type { ApiRequest, Router } from '../router.ts';
import {
  actorOf,
  bookingViewFor,
  viewerOf,
  visibleBooking,
  type DoctorIdOfUser,
  type Viewer,
} from './bookings-access.ts';
import { addBookingActionRoutes } from './bookings-actions.ts';
import {
  bookingBodySchema,
  bookingIdParams,
  bookingListQuerySchema,
  cancelBodySchema,
  estimateBodySchema,
} from './bookings-schemas.ts';

/** What the booking routes are given by the composition root. */
export interface BookingRoutesOptions {
  /**
   * The dispatcher. A getter, because it starts after the store; while it cannot serve it throws a coded error
   * (e.g. 503 API_NOT_READY), which the caller receives as is.
   */
  dispatch: () => DispatchService;
  guards: Guards;
  /** The doctor profile linked to a user (engine/doctor-profiles.ts). */
  doctorIdOfUser: DoctorIdOfUser;
}

/** Roles that may list every booking and filter by patient or doctor. */
const STAFF = ['dispatcher', 'admin'] as const;

/**
 * The booking resources: patients book, read and cancel their own bookings and ask for a price; doctors read the
 * bookings offered or assigned to them and act on them (bookings-actions.ts); dispatchers and admins see every booking
 * and override the matcher. Authorization is here; the lifecycle rules (which change is allowed when) are the
 * dispatcher's, whose coded errors pass through unchanged. Every state-changing request is audited by the server.
 */
export function addBookingRoutes(router: Router, options: BookingRoutesOptions): void {
  const { dispatch, guards, doctorIdOfUser } = options;

  router.post(
    '/v1/bookings',
    guards.requireRole(['patient'], async (request) => {
      const input = validate(bookingBodySchema, request.body, 'body');
      // The patient id first: the strict body schema refuses one in the body, and a literal that starts with a
      // spread and then gains a key costs V8 ~0.3 KB more here (524 against 212 B, measured).
      const booking = await dispatch().create(
        { patientId: request.principal.userId, ...input },
        actorOf(request.principal),
      );
      return { status: 201, body: bookingViewFor({ principal: request.principal }, booking) };
    }),
    {
      summary: 'Book a doctor (patient)',
      description:
        'The patient is the caller. Unknown fields (patientId, status, doctorId, …) are refused and named. ' +
        'An emergency (priority 1–2) is matched before the answer. Track it over the WebSocket ' +
        'GET /v1/bookings/{id}/track (docs/API.md, Bookings).',
      tags: ['bookings'],
      body: bookingBodySchema,
      response: { status: 201, description: 'the booking, searching for a doctor (or already offered)' },
      auth: true,
    },
  );

  router.post(
    '/v1/bookings/estimate',
    guards.authenticated((request) => {
      const input = validate(estimateBodySchema, request.body, 'body');
      return { status: 200, body: dispatch().estimatePrice(input) };
    }),
    {
      summary: 'Price estimate of a booking',
      tags: ['bookings'],
      body: estimateBodySchema,
      response: {
        status: 200,
        description: '`{price, currency: "RUB", nearestDoctorKm?, etaSeconds?, breakdown: [{item, amount}]}`',
      },
      auth: true,
    },
  );

  router.get(
    '/v1/bookings',
    guards.authenticated(async (request) => {
      const query = validate(bookingListQuerySchema, queryObject(request.query), 'query');
      const viewer = await viewerOf(request.principal, doctorIdOfUser);
      const scope = ownScope(viewer, query);
      // A doctor without a linked profile holds no booking: nothing to ask the dispatcher.
      const bookings = scope ? await dispatch().list({ ...query, ...scope }) : [];
      const last = bookings.at(-1);
      return {
        status: 200,
        body: {
          bookings: bookings.map((booking) => bookingViewFor(viewer, booking)),
          ...(bookings.length === query.limit && last ? { next: last.id } : {}),
        },
      };
    }),
    {
      summary: 'Bookings, newest first',
      description:
        'A patient gets their own, a doctor those offered or assigned to them, dispatchers and admins all ' +
        '(filters patientId and doctorId are theirs). Keyset paging: pass the answer’s `next` as `after`.',
      tags: ['bookings'],
      query: bookingListQuerySchema,
      response: { status: 200, description: '`{bookings: [...], next?}`; `next` when the page is full' },
      auth: true,
    },
  );

  router.get(
    '/v1/bookings/:id',
    guards.authenticated(async (request) => {
      const { viewer, booking } = await requestedBooking(request, options);
      return { status: 200, body: bookingViewFor(viewer, booking) };
    }),
    {
      summary: 'One booking',
      description:
        'For its patient, its offered or assigned doctor, dispatchers and admins; 404 for anyone else.',
      tags: ['bookings'],
      params: bookingIdParams,
      response: { status: 200, description: 'the booking; 404 DISPATCH_BOOKING_NOT_FOUND' },
      auth: true,
    },
  );

  router.get(
    '/v1/bookings/:id/history',
    guards.authenticated(async (request) => {
      const { booking } = await requestedBooking(request, options);
      return { status: 200, body: { bookingId: booking.id, updates: await dispatch().history(booking.id) } };
    }),
    {
      summary: "A booking's recorded status changes, oldest first",
      tags: ['bookings'],
      params: bookingIdParams,
      response: {
        status: 200,
        description:
          '`{bookingId, updates: [{bookingId, from, to, by: {id, role}, reason?, doctorId?, at}]}`',
      },
      auth: true,
    },
  );

  router.post(
    '/v1/bookings/:id/cancel',
    guards.requireRole(['patient', ...STAFF], async (request) => {
      // The body is read first: a bad request is refused before anything is looked up.
      const { reason } = validate(cancelBodySchema, request.body, 'body');
      const { viewer, booking } = await requestedBooking(request, options);
      const cancelled = await dispatch().cancel(booking.id, actorOf(request.principal), reason);
      return { status: 200, body: bookingViewFor(viewer, cancelled) };
    }),
    {
      summary: 'Cancel a booking',
      description:
        'Its patient (until the visit starts: later is 409 DISPATCH_INVALID_TRANSITION), dispatchers and admins.',
      tags: ['bookings'],
      params: bookingIdParams,
      body: cancelBodySchema,
      response: { status: 200, description: 'the cancelled booking' },
      auth: true,
    },
  );

  addBookingActionRoutes(router, options);
}

/**
 * The booking of the request's `:id` with its viewer.
 *
 * @throws TotError `API_VALIDATION_FAILED` for a bad id; `DISPATCH_BOOKING_NOT_FOUND` when missing or not visible.
 */
async function requestedBooking(
  request: ApiRequest & { principal: Viewer['principal'] },
  options: BookingRoutesOptions,
): Promise<{ viewer: Viewer; booking: Booking }> {
  const { id } = validate(bookingIdParams, request.params, 'path');
  const viewer = await viewerOf(request.principal, options.doctorIdOfUser);
  return { viewer, booking: await visibleBooking(options.dispatch(), viewer, id) };
}

/**
 * The part of the list filter the caller's role fixes: a patient sees their own bookings, a doctor the ones held for
 * their profile (undefined: a doctor without a profile, who holds none). Their filters by patient or doctor are refused rather than ignored, so that
 * nobody mistakes the answer for someone else's bookings.
 *
 * @throws TotError `API_FORBIDDEN` naming `query.patientId` / `query.doctorId` for a caller who is not staff.
 */
function ownScope(
  viewer: Viewer,
  query: { patientId?: string | undefined; doctorId?: string | undefined },
): { patientId?: string; doctorId?: string } | undefined {
  const { role, userId } = viewer.principal;
  if ((STAFF as readonly string[]).includes(role)) return {};
  for (const field of ['patientId', 'doctorId'] as const) {
    if (query[field] !== undefined) {
      throw new TotError('API_FORBIDDEN', `role ${role} may not filter bookings by ${field}`, {
        field: `query.${field}`,
      });
    }
  }
  if (role === 'patient') return { patientId: userId };
  if (role === 'doctor') return viewer.doctorId === undefined ? undefined : { doctorId: viewer.doctorId };
  throw new TotError('API_FORBIDDEN', `role ${role} may not list bookings`, {});
}

/** The query string as an object; only the first value of a repeated parameter counts. */
function queryObject(query: URLSearchParams): Record<string, string | null> {
  return Object.fromEntries([...new Set(query.keys())].map((key) => [key, query.get(key)]));
}
