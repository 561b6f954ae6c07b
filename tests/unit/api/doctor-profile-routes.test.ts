import { describe, expect, it } from 'vitest';
import { createGuards } from '../../../api/auth/guards.ts';
import { AccessTokens, type Principal } from '../../../api/auth/tokens.ts';
import { problemOf } from '../../../api/errors.ts';
import { Router, type ApiRequest, type Method } from '../../../api/router.ts';
import { addClinicRoutes, type ClinicSource } from '../../../api/routes/clinics.ts';
import { addDoctorProfileRoutes, type ProfileSource } from '../../../api/routes/doctor-profiles.ts';
import type { DoctorProfile, DoctorProfilePatch } from '../../../engine/doctor-profiles.ts';

const CLINIC_A = '11111111-1111-4111-8111-111111111111';
const CLINIC_B = '22222222-2222-4222-8222-222222222222';
const USERS = {
  admin: { userId: 'aaaaaaaa-0000-4000-8000-000000000001', role: 'admin' },
  carol: { userId: 'aaaaaaaa-0000-4000-8000-000000000002', role: 'clinic_admin' },
  bob: { userId: 'aaaaaaaa-0000-4000-8000-000000000003', role: 'clinic_admin' },
  dana: { userId: 'aaaaaaaa-0000-4000-8000-000000000004', role: 'doctor' },
} as const satisfies Record<string, Principal>;

function profile(): DoctorProfile {
  return {
    doctorId: 'doc-a',
    userId: USERS.dana.userId,
    fullName: 'Dana',
    specializations: ['therapist'],
    licenseNumber: 'MD-1',
    experienceYears: 5,
    clinicId: CLINIC_A,
    verified: false,
    verifiedAt: null,
    verifiedBy: null,
    createdAt: 1,
    updatedAt: 1,
  };
}

/** One profile in memory; the real store is covered by the integration suites. */
class MemoryProfiles implements ProfileSource {
  current = profile();
  updates: DoctorProfilePatch[] = [];

  async create(): Promise<DoctorProfile> {
    throw new Error('not used here');
  }
  async get(id: string) {
    return id === this.current.doctorId ? { ...this.current } : undefined;
  }
  async getByUser(userId: string) {
    return userId === this.current.userId ? { ...this.current } : undefined;
  }
  async list() {
    return [{ ...this.current }];
  }
  async update(id: string, patch: DoctorProfilePatch) {
    if (id !== this.current.doctorId) return undefined;
    this.updates.push(patch);
    this.current = { ...this.current, ...(patch as Partial<DoctorProfile>) };
    return { ...this.current };
  }
  async verify(id: string, adminUserId: string) {
    if (id !== this.current.doctorId) return undefined;
    this.current = { ...this.current, verified: true, verifiedAt: 2, verifiedBy: adminUserId };
    return { ...this.current };
  }
  async unverify(id: string) {
    if (id !== this.current.doctorId) return undefined;
    this.current = { ...this.current, verified: false, verifiedAt: null, verifiedBy: null };
    return { ...this.current };
  }
}

const clinics: ClinicSource = {
  create: () => Promise.reject(new Error('not used here')),
  get: () => Promise.resolve(undefined),
  list: () => Promise.resolve([]),
  update: () => Promise.resolve(undefined),
  setAdmin: () => Promise.resolve(undefined),
  removeAdmin: () => Promise.resolve(false),
  admins: () => Promise.resolve([]),
  clinicOfAdmin: (userId) =>
    Promise.resolve(
      userId === USERS.carol.userId ? CLINIC_A : userId === USERS.bob.userId ? CLINIC_B : undefined,
    ),
};

/** A token verifier that counts its calls, to show the guards reuse a principal the server verified. */
class CountingTokens extends AccessTokens {
  verifications = 0;
  override async verify(token: string): Promise<Principal> {
    this.verifications++;
    return super.verify(token);
  }
}

function setUp() {
  const tokens = new CountingTokens({ secret: 'unit-test-secret-0123456789abcdefghij', ttlSeconds: 60 });
  const profiles = new MemoryProfiles();
  const router = new Router();
  const guards = createGuards(tokens);
  addClinicRoutes(router, { clinics, guards });
  addDoctorProfileRoutes(router, { profiles, clinics, guards });
  const call = async (
    method: Method,
    path: string,
    options: { as?: Principal; token?: string; body?: unknown } = {},
  ) => {
    const request: Omit<ApiRequest, 'params'> = {
      method,
      path,
      query: new URLSearchParams(),
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      remoteAddress: '127.0.0.1',
      ...(options.as ? { principal: options.as } : {}),
      ...(options.body === undefined ? {} : { body: options.body }),
    };
    try {
      const response = await router.handle(request);
      return { status: response.status, body: response.body as Record<string, unknown> };
    } catch (error) {
      const problem = problemOf(error);
      return { status: problem.status, body: problem as unknown as Record<string, unknown> };
    }
  };
  return { tokens, profiles, call };
}

const fields = (body: Record<string, unknown>) =>
  ((body['errors'] as { field: string }[] | undefined) ?? []).map((error) => error.field);

describe('doctor profile routes', () => {
  it('use the principal the server verified instead of verifying the token again', async () => {
    const { tokens, call } = setUp();
    expect(await call('GET', '/v1/me/doctor', { as: USERS.dana })).toMatchObject({ status: 200 });
    expect(tokens.verifications).toBe(0);
    // Without it (another adapter, or a direct call) the guard verifies the bearer token itself.
    const token = await tokens.sign(USERS.dana);
    expect(await call('GET', '/v1/me/doctor', { token })).toMatchObject({
      status: 200,
      body: { id: 'doc-a' },
    });
    expect(tokens.verifications).toBe(1);
    expect(await call('GET', '/v1/me/doctor')).toMatchObject({ status: 401 });
  });

  it("let a clinic_admin change their clinic's doctor but not move them, naming the field", async () => {
    const { profiles, call } = setUp();
    const move = await call('PATCH', '/v1/doctors/doc-a', {
      as: USERS.carol,
      body: { clinicId: CLINIC_B, fullName: 'Dana K' },
    });
    expect(move).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    expect(fields(move.body)).toEqual(['body.clinicId']);
    expect(profiles.updates).toEqual([]);
    expect(
      await call('PATCH', '/v1/doctors/doc-a', { as: USERS.carol, body: { specializations: ['surgeon'] } }),
    ).toMatchObject({ status: 200, body: { specializations: ['surgeon'], licenseNumber: 'MD-1' } });
    // Another clinic's administrator is told the profile does not exist.
    expect(
      await call('PATCH', '/v1/doctors/doc-a', { as: USERS.bob, body: { fullName: 'X' } }),
    ).toMatchObject({ status: 404, body: { code: 'ENGINE_PROFILE_NOT_FOUND' } });
    expect(
      await call('PATCH', '/v1/doctors/doc-a', { as: USERS.admin, body: { clinicId: CLINIC_B } }),
    ).toMatchObject({ status: 200, body: { clinicId: CLINIC_B } });
  });

  it('refuse an empty PATCH and every verification field, before any store call', async () => {
    const { profiles, call } = setUp();
    const empty = await call('PATCH', '/v1/doctors/doc-a', { as: USERS.admin, body: {} });
    expect(empty).toMatchObject({ status: 400, body: { code: 'API_VALIDATION_FAILED' } });
    expect(fields(empty.body)).toEqual(['body']);
    const verified = await call('PATCH', '/v1/doctors/doc-a', {
      as: USERS.admin,
      body: { verifiedBy: USERS.admin.userId },
    });
    expect(fields(verified.body)).toEqual(['body.verifiedBy']);
    expect(profiles.updates).toEqual([]);
  });

  it('verify and unverify for an admin only, recording who verified', async () => {
    const { call } = setUp();
    expect(await call('POST', '/v1/doctors/doc-a/verify', { as: USERS.carol })).toMatchObject({
      status: 403,
    });
    expect(await call('POST', '/v1/doctors/doc-a/verify', { as: USERS.admin })).toMatchObject({
      status: 200,
      body: { verified: true, verifiedBy: USERS.admin.userId },
    });
    expect(await call('DELETE', '/v1/doctors/doc-a/verify', { as: USERS.admin })).toMatchObject({
      status: 200,
      body: { verified: false, verifiedBy: null },
    });
    expect(await call('POST', '/v1/doctors/doc-z/verify', { as: USERS.admin })).toMatchObject({
      status: 404,
      body: { code: 'ENGINE_PROFILE_NOT_FOUND' },
    });
  });

  it('do not shadow the live doctor routes', () => {
    const router = new Router();
    const guards = createGuards(
      new AccessTokens({ secret: 'unit-test-secret-0123456789abcdefghij', ttlSeconds: 60 }),
    );
    addDoctorProfileRoutes(router, { profiles: new MemoryProfiles(), clinics, guards });
    router.get('/v1/doctors/nearby', () => ({ status: 200 }));
    router.get('/v1/doctors/:id/position', () => ({ status: 200 }));
    expect(router.match('GET', '/v1/doctors/nearby')).toMatchObject({
      kind: 'found',
      pattern: '/v1/doctors/nearby',
    });
    expect(router.match('PATCH', '/v1/doctors/nearby')).toMatchObject({
      kind: 'found',
      pattern: '/v1/doctors/:id',
    });
    expect(router.match('GET', '/v1/doctors/doc-a/position')).toMatchObject({
      pattern: '/v1/doctors/:id/position',
    });
    expect(router.match('GET', '/v1/doctors/doc-a/profile')).toMatchObject({
      pattern: '/v1/doctors/:id/profile',
    });
    expect(router.match('GET', '/v1/doctors')).toMatchObject({ kind: 'found', pattern: '/v1/doctors' });
  });
});
