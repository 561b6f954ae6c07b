import { z } from 'zod';
import {
  DOCTOR_EDITABLE_FIELDS,
  doctorIdSchema,
  doctorProfileInputSchema,
  doctorProfilePatchSchema,
  specializationSchema,
  type DoctorProfile,
  type DoctorProfileStore,
} from '../../engine/doctor-profiles.ts';
import { TotError } from '../../geo/errors.ts';
import type { Guards } from '../auth/guards.ts';
import type { Principal } from '../auth/tokens.ts';
import { validate } from '../errors.ts';
import type { Router } from '../router.ts';
import {
  actsForClinic,
  clinicNotFound,
  inBody,
  pageOf,
  pageQueryShape,
  queryObject,
  type ClinicSource,
} from './clinics.ts';

/** What the profile routes need of the profile store ({@link DoctorProfileStore} satisfies it). */
export type ProfileSource = Pick<
  DoctorProfileStore,
  'create' | 'get' | 'getByUser' | 'list' | 'update' | 'verify' | 'unverify'
>;

/**
 * Body of POST /v1/doctors: the profile with its doctor id as `id` (the id of the resource, as every view shows it).
 * Strict: `verified`, `verifiedAt`, `verifiedBy` and any other unknown field are refused with 400 naming them.
 */
export const profileCreateSchema = z.strictObject({
  id: doctorIdSchema,
  ...doctorProfileInputSchema.omit({ doctorId: true }).shape,
});

/** Body of PATCH /v1/doctors/:id (strict, at least one field; see {@link DOCTOR_EDITABLE_FIELDS} for doctors). */
export const profilePatchSchema = doctorProfilePatchSchema;

const verifiedParameter = z
  .enum(['true', 'false'], { error: 'must be true or false' })
  .transform((value) => value === 'true');

/** Query of GET /v1/doctors. */
export const profileListQuerySchema = z.strictObject({
  clinicId: z.string().min(1).max(64).optional(),
  verified: verifiedParameter.optional(),
  specialization: specializationSchema.optional(),
  ...pageQueryShape,
});

const doctorParams = z.object({ id: z.string().min(1).max(64) });

/** The profile as any signed-in user sees it. */
function publicView(profile: DoctorProfile) {
  return {
    id: profile.doctorId,
    fullName: profile.fullName,
    specializations: profile.specializations,
    experienceYears: profile.experienceYears,
    clinicId: profile.clinicId,
    verified: profile.verified,
    verifiedAt: profile.verifiedAt,
    createdAt: profile.createdAt,
    updatedAt: profile.updatedAt,
  };
}

/** The profile as an admin, its clinic's clinic_admin and the doctor see it: with the license and the accounts. */
function fullView(profile: DoctorProfile) {
  return {
    ...publicView(profile),
    licenseNumber: profile.licenseNumber,
    userId: profile.userId,
    verifiedBy: profile.verifiedBy,
  };
}

function profileNotFound(id: string, field = 'id'): TotError {
  return new TotError('ENGINE_PROFILE_NOT_FOUND', `no doctor profile ${JSON.stringify(id)}`, {
    field,
    value: id,
  });
}

/**
 * Who sees a profile's private fields: an admin, the profile's own doctor, and the clinic_admin of its clinic (whose
 * clinic is looked up once per request: `adminClinic`).
 */
function seesPrivate(principal: Principal, profile: DoctorProfile, adminClinic: string | undefined): boolean {
  if (principal.role === 'admin') return true;
  if (profile.userId !== null && profile.userId === principal.userId) return true;
  return principal.role === 'clinic_admin' && adminClinic === profile.clinicId;
}

async function adminClinicOf(clinics: ClinicSource, principal: Principal): Promise<string | undefined> {
  return principal.role === 'clinic_admin' ? clinics.clinicOfAdmin(principal.userId) : undefined;
}

/**
 * Doctors' profiles: created by an admin or the clinic's clinic_admin, read by any signed-in user (the license number
 * and the linked accounts only by an admin, the clinic's clinic_admin and the doctor), changed by an admin or the
 * clinic's clinic_admin (a doctor changes {@link DOCTOR_EDITABLE_FIELDS} of their own), verified and unverified only
 * by an admin. Writes reach the live fleet through the store's listener. A profile the caller may not change is
 * answered 404, as one that does not exist. Kept apart from api/routes/doctors.ts (live positions); the paths do not
 * overlap: `/v1/doctors/:id/profile` and `/v1/doctors/:id/verify` beside `/position` and `/track`, and `PATCH
 * /v1/doctors/:id` beside `GET /v1/doctors/nearby`, which the router matches by method.
 */
export function addDoctorProfileRoutes(
  router: Router,
  options: { profiles: ProfileSource; clinics: ClinicSource; guards: Guards },
): void {
  const { profiles, clinics, guards } = options;

  router.post(
    '/v1/doctors',
    guards.requireRole(['admin', 'clinic_admin'], async (request) => {
      const { id, ...input } = validate(profileCreateSchema, request.body, 'body');
      if (!(await actsForClinic(clinics, request.principal, input.clinicId))) {
        throw clinicNotFound(input.clinicId, 'body.clinicId');
      }
      const profile = await inBody(profiles.create({ doctorId: id, ...input })).catch((error: unknown) => {
        // The store names the doctor id `doctorId`; in this body it is `id`.
        if (error instanceof TotError && error.details['field'] === 'body.doctorId') {
          throw new TotError(error.code, error.message, { ...error.details, field: 'body.id' });
        }
        throw error;
      });
      return { status: 201, body: fullView(profile) };
    }),
    {
      summary: "Create a doctor's profile (admin, or the clinic's clinic_admin)",
      description:
        'Unverified until an admin verifies it. With `userId`, that user (role patient or doctor) is linked and ' +
        'becomes a doctor, effective with their next access token.',
      tags: ['doctors'],
      body: profileCreateSchema,
      response: {
        status: 201,
        description: 'the profile; 404 ENGINE_CLINIC_NOT_FOUND / ENGINE_USER_NOT_FOUND, 409 ENGINE_DUPLICATE',
      },
      auth: true,
    },
  );

  router.get(
    '/v1/doctors',
    guards.authenticated(async (request) => {
      const query = validate(profileListQuerySchema, queryObject(request.query), 'query');
      const page = await profiles.list({
        limit: query.limit,
        offset: query.offset,
        ...(query.clinicId === undefined ? {} : { clinicId: query.clinicId }),
        ...(query.verified === undefined ? {} : { verified: query.verified }),
        ...(query.specialization === undefined ? {} : { specialization: query.specialization }),
      });
      const adminClinic = await adminClinicOf(clinics, request.principal);
      const doctors = page.map((profile) =>
        seesPrivate(request.principal, profile, adminClinic) ? fullView(profile) : publicView(profile),
      );
      return { status: 200, body: { doctors, ...pageOf(page.length, query) } };
    }),
    {
      summary: "Doctors' profiles, by clinic, verification and specialization",
      description: 'Ordered by doctor id. Private fields as for GET /v1/doctors/:id/profile.',
      tags: ['doctors'],
      query: profileListQuerySchema,
      response: { status: 200, description: '`{doctors, limit, offset, nextOffset}`' },
      auth: true,
    },
  );

  router.get(
    '/v1/doctors/:id/profile',
    guards.authenticated(async (request) => {
      const { id } = validate(doctorParams, request.params, 'path');
      const profile = await profiles.get(id);
      if (!profile) throw profileNotFound(id);
      const adminClinic = await adminClinicOf(clinics, request.principal);
      const view = seesPrivate(request.principal, profile, adminClinic)
        ? fullView(profile)
        : publicView(profile);
      return { status: 200, body: view };
    }),
    {
      summary: "A doctor's profile",
      description:
        "`licenseNumber`, `userId` and `verifiedBy` only for an admin, the clinic's clinic_admin and the doctor.",
      tags: ['doctors'],
      params: doctorParams,
      response: { status: 200, description: 'the profile; 404 ENGINE_PROFILE_NOT_FOUND' },
      auth: true,
    },
  );

  router.add(
    'PATCH',
    '/v1/doctors/:id',
    guards.requireRole(['admin', 'clinic_admin', 'doctor'], async (request) => {
      const { id } = validate(doctorParams, request.params, 'path');
      const patch = validate(profilePatchSchema, request.body, 'body');
      const { principal } = request;
      const profile = await profiles.get(id);
      if (!profile) throw profileNotFound(id);
      const own = profile.userId !== null && profile.userId === principal.userId;
      const forClinic =
        principal.role !== 'doctor' && (await actsForClinic(clinics, principal, profile.clinicId));
      if (!own && !forClinic) throw profileNotFound(id);
      const allowed: readonly string[] =
        principal.role === 'admin'
          ? Object.keys(patch)
          : forClinic
            ? Object.keys(patch).filter((field) => field !== 'clinicId')
            : DOCTOR_EDITABLE_FIELDS;
      const refused = Object.keys(patch).filter((field) => !allowed.includes(field));
      if (refused.length > 0) {
        const errors = refused.map((field) => ({
          field: `body.${field}`,
          message: `role ${principal.role} may not change it`,
        }));
        throw new TotError(
          'API_FORBIDDEN',
          errors.map((error) => `${error.field}: ${error.message}`).join('; '),
          { errors },
        );
      }
      const updated = await inBody(profiles.update(id, patch));
      if (!updated) throw profileNotFound(id);
      return { status: 200, body: fullView(updated) };
    }),
    {
      summary: "Change a doctor's profile (admin, the clinic's clinic_admin, or the doctor for a few fields)",
      description:
        'A doctor may change `fullName` and `experienceYears` of their own profile; a clinic_admin every field but ' +
        '`clinicId`; an admin every field. `verified*` are never accepted (400 naming them): verification is ' +
        'POST /v1/doctors/:id/verify. A new `licenseNumber` withdraws the verification.',
      tags: ['doctors'],
      params: doctorParams,
      body: profilePatchSchema,
      response: {
        status: 200,
        description: 'the updated profile; 403 API_FORBIDDEN naming a field the role may not change',
      },
      auth: true,
    },
  );

  router.get(
    '/v1/me/doctor',
    guards.requireRole(['doctor'], async (request) => {
      const profile = await profiles.getByUser(request.principal.userId);
      if (!profile) {
        throw new TotError('ENGINE_PROFILE_NOT_FOUND', 'no doctor profile is linked to this user', {});
      }
      return { status: 200, body: fullView(profile) };
    }),
    {
      summary: "The signed-in doctor's own profile",
      tags: ['doctors'],
      response: { status: 200, description: 'the profile; 404 ENGINE_PROFILE_NOT_FOUND when none is linked' },
      auth: true,
    },
  );

  router.post(
    '/v1/doctors/:id/verify',
    guards.requireRole(['admin'], async (request) => {
      const { id } = validate(doctorParams, request.params, 'path');
      const profile = await profiles.verify(id, request.principal.userId);
      if (!profile) throw profileNotFound(id);
      return { status: 200, body: fullView(profile) };
    }),
    {
      summary: "Verify a doctor's profile (admin)",
      description:
        "The profile becomes the doctor's fleet profile (specializations and clinic in the live fleet). Verifying a " +
        'verified profile keeps its first verification.',
      tags: ['doctors'],
      params: doctorParams,
      response: { status: 200, description: 'the verified profile; 404 ENGINE_PROFILE_NOT_FOUND' },
      auth: true,
    },
  );

  router.add(
    'DELETE',
    '/v1/doctors/:id/verify',
    guards.requireRole(['admin'], async (request) => {
      const { id } = validate(doctorParams, request.params, 'path');
      const profile = await profiles.unverify(id);
      if (!profile) throw profileNotFound(id);
      return { status: 200, body: fullView(profile) };
    }),
    {
      summary: "Withdraw a doctor's verification (admin)",
      description: 'The doctor goes off duty in the live fleet.',
      tags: ['doctors'],
      params: doctorParams,
      response: { status: 200, description: 'the unverified profile; 404 ENGINE_PROFILE_NOT_FOUND' },
      auth: true,
    },
  );
}
