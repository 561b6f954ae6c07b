import { z } from 'zod';
import { clinicInputSchema, clinicPatchSchema, type ClinicStore } from '../../engine/clinics.ts';
import { TotError } from '../../geo/errors.ts';
import type { Guards } from '../auth/guards.ts';
import type { Principal } from '../auth/tokens.ts';
import { validate } from '../errors.ts';
import type { Router } from '../router.ts';

/** What the clinic routes need of the clinic store ({@link ClinicStore} satisfies it). */
export type ClinicSource = Pick<
  ClinicStore,
  'create' | 'get' | 'list' | 'update' | 'setAdmin' | 'removeAdmin' | 'clinicOfAdmin' | 'admins'
>;

/** Largest page a list route returns. */
export const MAX_PAGE_SIZE = 100;

const wholeNumber = z.string().trim().regex(/^\d+$/, { error: 'must be a whole number' }).transform(Number);

/** `limit` and `offset` of a paged list: at most {@link MAX_PAGE_SIZE} rows (default 50), from `offset` (default 0). */
export const pageQueryShape = {
  limit: wholeNumber.pipe(z.number().int().min(1).max(MAX_PAGE_SIZE)).default(50),
  offset: wholeNumber.pipe(z.number().int().min(0).max(1_000_000)).default(0),
};

/** Query of GET /v1/clinics. */
export const clinicListQuerySchema = z.strictObject({
  /** Clinics whose name contains this text, any case. */
  name: z.string().trim().min(1).max(200).optional(),
  ...pageQueryShape,
});

const clinicIdParams = z.object({ id: z.string().min(1).max(64) });
const clinicAdminParams = z.object({ id: z.string().min(1).max(64), userId: z.string().min(1).max(64) });

/** The query string as an object; a repeated parameter counts once, as URLSearchParams.get gives it. */
export function queryObject(query: URLSearchParams): Record<string, string | null> {
  return Object.fromEntries([...new Set(query.keys())].map((key) => [key, query.get(key)]));
}

/** The page part of a list response: `nextOffset` is null once a page came back short. */
export function pageOf(rows: number, query: { limit: number; offset: number }) {
  return {
    limit: query.limit,
    offset: query.offset,
    nextOffset: rows < query.limit ? null : query.offset + query.limit,
  };
}

/**
 * Runs a store call whose errors name input fields (`licenseNumber`) and names them as the request body's
 * (`body.licenseNumber`), like every other field error of the API.
 */
export async function inBody<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof TotError && typeof error.details['field'] === 'string') {
      throw new TotError(error.code, error.message, {
        ...error.details,
        field: `body.${error.details['field']}`,
      });
    }
    throw error;
  }
}

/** The answer for a clinic that does not exist or that the caller may not act on: the same, so ids cannot be probed. */
export function clinicNotFound(id: string, field = 'id'): TotError {
  return new TotError('ENGINE_CLINIC_NOT_FOUND', `no clinic ${JSON.stringify(id)}`, { field, value: id });
}

/**
 * Whether `principal` acts for clinic `clinicId`: an admin for every clinic, a clinic_admin for the one clinic an
 * admin linked them to, nobody else.
 */
export async function actsForClinic(
  clinics: Pick<ClinicSource, 'clinicOfAdmin'>,
  principal: Principal,
  clinicId: string,
): Promise<boolean> {
  if (principal.role === 'admin') return true;
  if (principal.role !== 'clinic_admin') return false;
  return (await clinics.clinicOfAdmin(principal.userId)) === clinicId;
}

/**
 * Clinics: an admin creates them and links their administrators; any signed-in user lists and reads them; an admin or
 * the clinic's own clinic_admin changes one. A clinic_admin of another clinic is answered 404, as for a clinic that
 * does not exist.
 */
export function addClinicRoutes(router: Router, options: { clinics: ClinicSource; guards: Guards }): void {
  const { clinics, guards } = options;

  router.post(
    '/v1/clinics',
    guards.requireRole(['admin'], async (request) => {
      const input = validate(clinicInputSchema, request.body, 'body');
      return { status: 201, body: await inBody(clinics.create(input)) };
    }),
    {
      summary: 'Create a clinic (admin)',
      tags: ['clinics'],
      body: clinicInputSchema,
      response: { status: 201, description: 'the clinic; 409 ENGINE_DUPLICATE for a taken license number' },
      auth: true,
    },
  );

  router.get(
    '/v1/clinics',
    guards.authenticated(async (request) => {
      const query = validate(clinicListQuerySchema, queryObject(request.query), 'query');
      const page = await clinics.list({
        limit: query.limit,
        offset: query.offset,
        ...(query.name === undefined ? {} : { nameContains: query.name }),
      });
      return { status: 200, body: { clinics: page, ...pageOf(page.length, query) } };
    }),
    {
      summary: 'Clinics, by name',
      description: 'Ordered by name; `name` keeps clinics whose name contains it (any case).',
      tags: ['clinics'],
      query: clinicListQuerySchema,
      response: { status: 200, description: '`{clinics, limit, offset, nextOffset}`' },
      auth: true,
    },
  );

  router.get(
    '/v1/clinics/:id',
    guards.authenticated(async (request) => {
      const { id } = validate(clinicIdParams, request.params, 'path');
      const clinic = await clinics.get(id);
      if (!clinic) throw clinicNotFound(id);
      return { status: 200, body: clinic };
    }),
    {
      summary: 'A clinic',
      tags: ['clinics'],
      params: clinicIdParams,
      response: { status: 200, description: 'the clinic; 404 ENGINE_CLINIC_NOT_FOUND' },
      auth: true,
    },
  );

  router.add(
    'PATCH',
    '/v1/clinics/:id',
    guards.requireRole(['admin', 'clinic_admin'], async (request) => {
      const { id } = validate(clinicIdParams, request.params, 'path');
      const patch = validate(clinicPatchSchema, request.body, 'body');
      if (!(await actsForClinic(clinics, request.principal, id))) throw clinicNotFound(id);
      const clinic = await inBody(clinics.update(id, patch));
      if (!clinic) throw clinicNotFound(id);
      return { status: 200, body: clinic };
    }),
    {
      summary: "Change a clinic (admin, or the clinic's clinic_admin)",
      description: 'Fields left out keep their value; `location: null` forgets the position.',
      tags: ['clinics'],
      params: clinicIdParams,
      body: clinicPatchSchema,
      response: {
        status: 200,
        description: 'the updated clinic; 404 also for a clinic the caller may not change',
      },
      auth: true,
    },
  );

  router.get(
    '/v1/clinics/:id/admins',
    guards.requireRole(['admin', 'clinic_admin'], async (request) => {
      const { id } = validate(clinicIdParams, request.params, 'path');
      if (!(await actsForClinic(clinics, request.principal, id)) || !(await clinics.get(id))) {
        throw clinicNotFound(id);
      }
      return { status: 200, body: { clinicId: id, userIds: await clinics.admins(id) } };
    }),
    {
      summary: "A clinic's administrators (admin, or the clinic's clinic_admin)",
      tags: ['clinics'],
      params: clinicIdParams,
      response: { status: 200, description: '`{clinicId, userIds}`' },
      auth: true,
    },
  );

  router.add(
    'PUT',
    '/v1/clinics/:id/admins/:userId',
    guards.requireRole(['admin'], async (request) => {
      const { id, userId } = validate(clinicAdminParams, request.params, 'path');
      const linked = await clinics.setAdmin(id, userId).catch((error: unknown) => {
        if (error instanceof TotError && error.details['field'] === 'userId') {
          throw new TotError(error.code, error.message, { ...error.details, field: 'path.userId' });
        }
        throw error;
      });
      if (!linked) throw clinicNotFound(id);
      return { status: 200, body: linked };
    }),
    {
      summary: "Make a user the clinic's administrator (admin)",
      description:
        'The user (role patient or clinic_admin) gets the role clinic_admin, effective with their next access token; ' +
        'a link to another clinic is replaced (a clinic_admin acts for one clinic).',
      tags: ['clinics'],
      params: clinicAdminParams,
      response: {
        status: 200,
        description: '`{clinicId, userId}`; 404 ENGINE_USER_NOT_FOUND, 409 ENGINE_ROLE_CONFLICT',
      },
      auth: true,
    },
  );

  router.add(
    'DELETE',
    '/v1/clinics/:id/admins/:userId',
    guards.requireRole(['admin'], async (request) => {
      const { id, userId } = validate(clinicAdminParams, request.params, 'path');
      if (!(await clinics.removeAdmin(id, userId))) {
        throw new TotError(
          'ENGINE_USER_NOT_FOUND',
          `user ${JSON.stringify(userId)} is not an administrator of clinic ${JSON.stringify(id)}`,
          { field: 'path.userId', value: userId },
        );
      }
      return { status: 204 };
    }),
    {
      summary: "End a user's administration of a clinic (admin)",
      description:
        'The role stays clinic_admin (change it with PATCH /v1/users/:id/role); it acts for no clinic.',
      tags: ['clinics'],
      params: clinicAdminParams,
      response: { status: 204, description: 'unlinked; 404 ENGINE_USER_NOT_FOUND when not linked' },
      auth: true,
    },
  );
}
