import type { Booking, DispatchService } from '../../dispatch/booking-types.ts';
import { TotError } from '../../geo/errors.ts';
import type { AuthenticatedRequest, Guards } from '../auth/guards.ts';
import { validate } from '../errors.ts';
import type { Router, RouteMeta } from '../router.ts';
import { actorOf, bookingViewFor, type DoctorIdOfUser } from './bookings-access.ts';
import {
  assignBodySchema,
  bookingIdParams,
  declineBodySchema,
  emptyBodySchema,
  priorityBodySchema,
  reassignBodySchema,
} from './bookings-schemas.ts';

/** What the action routes need (a subset of the booking routes' options). */
export interface BookingActionOptions {
  dispatch: () => DispatchService;
  guards: Guards;
  doctorIdOfUser: DoctorIdOfUser;
}

/** The doctor's actions on the booking offered or assigned to them, as DispatchService methods. */
const DOCTOR_ACTIONS = {
  accept: { summary: 'Accept the offer (the offered doctor)', call: 'accept' },
  arrived: { summary: 'Report arrival at the address (the assigned doctor)', call: 'arrived' },
  start: { summary: 'Start the visit (the assigned doctor)', call: 'start' },
  complete: { summary: 'Complete the visit (the assigned doctor)', call: 'complete' },
} as const;

/**
 * The routes that change a booking on someone's behalf: the dispatcher's overrides (assign, reassign, priority;
 * dispatchers and admins) and the doctor's actions (accept, decline, arrived, start, complete; role doctor, acting as
 * the doctor profile linked to the user). Whether the booking is in a state that allows the change — and, for a
 * doctor, whether it is theirs — is the dispatcher's decision: its coded error (409 DISPATCH_OFFER_NOT_OPEN,
 * DISPATCH_INVALID_TRANSITION, 404 DISPATCH_BOOKING_NOT_FOUND, …) is the answer.
 */
export function addBookingActionRoutes(router: Router, options: BookingActionOptions): void {
  const { dispatch, guards } = options;
  const staff = ['dispatcher', 'admin'] as const;
  const meta = (summary: string, body: RouteMeta['body'], description?: string): RouteMeta => ({
    summary,
    ...(description ? { description } : {}),
    tags: ['bookings'],
    params: bookingIdParams,
    ...(body ? { body } : {}),
    response: { status: 200, description: 'the booking after the change' },
    auth: true,
  });

  router.post(
    '/v1/bookings/:id/assign',
    guards.requireRole(staff, async (request) => {
      const { doctorId } = validate(assignBodySchema, request.body, 'body');
      const id = staffTarget(request);
      return { status: 200, body: await dispatch().assign(id, doctorId, actorOf(request.principal)) };
    }),
    meta(
      'Assign a doctor now, without an offer (dispatcher override)',
      assignBodySchema,
      '409 DISPATCH_DOCTOR_UNAVAILABLE when the doctor cannot take it.',
    ),
  );

  router.post(
    '/v1/bookings/:id/reassign',
    guards.requireRole(staff, async (request) => {
      const { reason } = validate(reassignBodySchema, request.body, 'body');
      const id = staffTarget(request);
      return { status: 200, body: await dispatch().reassign(id, actorOf(request.principal), reason) };
    }),
    meta(
      'Take the doctor off the booking and search again, or search again for a booking without a doctor (dispatcher override)',
      reassignBodySchema,
    ),
  );

  router.post(
    '/v1/bookings/:id/priority',
    guards.requireRole(staff, async (request) => {
      const { priority } = validate(priorityBodySchema, request.body, 'body');
      const id = staffTarget(request);
      return {
        status: 200,
        body: await dispatch().changePriority(id, priority, actorOf(request.principal)),
      };
    }),
    meta('Change the triage category (dispatcher override)', priorityBodySchema),
  );

  for (const [action, { summary, call }] of Object.entries(DOCTOR_ACTIONS)) {
    router.post(
      `/v1/bookings/:id/${action}`,
      guards.requireRole(['doctor'], async (request) => {
        validate(emptyBodySchema, request.body, 'body');
        const { id, doctorId } = await doctorTarget(request, options);
        const booking = await dispatch()[call](id, doctorId, actorOf(request.principal));
        return { status: 200, body: doctorView(request, booking) };
      }),
      meta(summary, emptyBodySchema),
    );
  }

  router.post(
    '/v1/bookings/:id/decline',
    guards.requireRole(['doctor'], async (request) => {
      const body = validate(declineBodySchema, request.body, 'body');
      const { id, doctorId } = await doctorTarget(request, options);
      const booking = await dispatch().decline(id, doctorId, actorOf(request.principal), body?.reason);
      return { status: 200, body: doctorView(request, booking) };
    }),
    meta('Decline the offer (the offered doctor); the search goes on without them', declineBodySchema),
  );
}

/** The booking id of a staff override; the dispatcher answers 404 for an unknown one. */
function staffTarget(request: AuthenticatedRequest): string {
  return validate(bookingIdParams, request.params, 'path').id;
}

/**
 * The booking id and the caller's doctor profile.
 *
 * @throws TotError `API_FORBIDDEN` when no doctor profile is linked to the user.
 */
async function doctorTarget(
  request: AuthenticatedRequest,
  options: BookingActionOptions,
): Promise<{ id: string; doctorId: string }> {
  const { id } = validate(bookingIdParams, request.params, 'path');
  const doctorId = await options.doctorIdOfUser(request.principal.userId);
  if (doctorId === undefined) {
    throw new TotError(
      'API_FORBIDDEN',
      `user ${JSON.stringify(request.principal.userId)} has no doctor profile: ask an admin to link one`,
      {},
    );
  }
  return { id, doctorId };
}

/** What a doctor is shown of a booking they acted on (declined: they no longer hold it, but see the answer). */
function doctorView(request: AuthenticatedRequest, booking: Booking) {
  return bookingViewFor({ principal: request.principal }, booking);
}
