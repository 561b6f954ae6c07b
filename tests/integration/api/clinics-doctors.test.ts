import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type apiClient, fieldsOf } from '../../support/api-client.ts';
import type { EngineProcess } from '../../support/engine-process.ts';
import { startApiEngine, TEST_ADMIN } from '../../support/api-engine.ts';
import { waitFor } from '../../support/wait.ts';

/** Test values only. */
const DEVICE_TOKEN = 'phone-of-doc-a-token-0001';
const HERE = { lat: 55.7512, lng: 37.6184 };

describe('clinics and doctor profiles on a real socket (embedded engine)', () => {
  let engine: EngineProcess;
  let client: ReturnType<typeof apiClient>;
  const cleanups: (() => void)[] = [];
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const clinicIds: Record<'a' | 'b', string> = { a: '', b: '' };

  const profileBody = (id: string, clinicId: string, extra: Record<string, unknown> = {}) => ({
    id,
    fullName: `Doctor ${id}`,
    specializations: ['pediatrics'],
    licenseNumber: `MD-${id}`,
    experienceYears: 7,
    clinicId,
    ...extra,
  });

  const nearbyIds = async (query: string): Promise<string[]> => {
    const reply = await client.send(
      'GET',
      `/v1/doctors/nearby?lat=${HERE.lat}&lng=${HERE.lng}&k=100${query}`,
    );
    expect(reply.status).toBe(200);
    return (reply.body['doctors'] as { id: string }[]).map((doctor) => doctor.id);
  };

  beforeAll(async () => {
    const started = await startApiEngine('clinics', {
      JWT_SECRET: 'clinics-suite-secret-0123456789abcdef',
      DEVICE_TOKENS: `phone-a:doc-a:${DEVICE_TOKEN}`,
      RATE_LIMIT_AUTH_PER_MINUTE: '10000',
      RATE_LIMIT_PER_MINUTE: '100000',
      RATE_LIMIT_USER_PER_MINUTE: '100000',
    });
    cleanups.push(started.stop);
    engine = started.engine;
    client = started.api;

    tokens['admin'] = await client.login(TEST_ADMIN.email, TEST_ADMIN.password);
    for (const name of ['carol', 'bob', 'pat', 'dana', 'dave']) {
      const user = await client.register(name);
      ids[name] = user.id;
    }
    for (const key of ['a', 'b'] as const) {
      const created = await client.send('POST', '/v1/clinics', {
        token: tokens['admin'],
        body: {
          name: `Clinic ${key.toUpperCase()}`,
          address: `${key} street 1`,
          licenseNumber: `LIC-${key}`,
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      clinicIds[key] = created.body['id'] as string;
    }
    // carol administers clinic A, bob clinic B.
    for (const [name, clinic] of [
      ['carol', clinicIds.a],
      ['bob', clinicIds.b],
    ] as const) {
      const linked = await client.send('PUT', `/v1/clinics/${clinic}/admins/${ids[name]}`, {
        token: tokens['admin'],
      });
      expect(linked.status, JSON.stringify(linked.body)).toBe(200);
    }
    // A new access token carries the new role.
    for (const name of ['carol', 'bob', 'pat']) tokens[name] = await client.login(`${name}@example.test`);
  }, 120_000);

  afterAll(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it('refuses a patient creating a clinic or a profile with 403, writing nothing', async () => {
    const clinic = await client.send('POST', '/v1/clinics', {
      token: tokens['pat'],
      body: { name: 'Patient Clinic', address: 'x', licenseNumber: 'LIC-pat' },
    });
    expect(clinic).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    const profile = await client.send('POST', '/v1/doctors', {
      token: tokens['pat'],
      body: profileBody('doc-pat', clinicIds.a),
    });
    expect(profile).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });

    const list = await client.send('GET', '/v1/clinics?name=patient', { token: tokens['pat'] });
    expect(list).toMatchObject({ status: 200, body: { clinics: [], nextOffset: null } });
    expect(await client.send('GET', '/v1/doctors/doc-pat/profile', { token: tokens['admin'] })).toMatchObject(
      {
        status: 404,
        body: { code: 'ENGINE_PROFILE_NOT_FOUND' },
      },
    );
    expect(await client.send('GET', '/v1/clinics')).toMatchObject({
      status: 401,
      body: { code: 'API_UNAUTHENTICATED' },
    });
  });

  it("answers a clinic_admin of another clinic 404 on that clinic's writes, and lets its own admin write", async () => {
    const foreign = await client.send('PATCH', `/v1/clinics/${clinicIds.a}`, {
      token: tokens['bob'],
      body: { name: 'Taken over' },
    });
    expect(foreign).toMatchObject({ status: 404, body: { code: 'ENGINE_CLINIC_NOT_FOUND' } });
    // Exactly like a clinic that does not exist.
    const missing = await client.send('PATCH', '/v1/clinics/00000000-0000-4000-8000-000000000000', {
      token: tokens['bob'],
      body: { name: 'Taken over' },
    });
    expect(missing).toMatchObject({ status: 404, body: { code: 'ENGINE_CLINIC_NOT_FOUND' } });
    const foreignDoctor = await client.send('POST', '/v1/doctors', {
      token: tokens['bob'],
      body: profileBody('doc-x', clinicIds.a),
    });
    expect(foreignDoctor).toMatchObject({ status: 404, body: { code: 'ENGINE_CLINIC_NOT_FOUND' } });
    expect(fieldsOf(foreignDoctor.body)).toEqual(['body.clinicId']);
    expect(await client.send('GET', `/v1/clinics/${clinicIds.a}`, { token: tokens['pat'] })).toMatchObject({
      status: 200,
      body: { name: 'Clinic A' },
    });

    const own = await client.send('PATCH', `/v1/clinics/${clinicIds.a}`, {
      token: tokens['carol'],
      body: { name: 'Clinic A North', location: HERE },
    });
    expect(own).toMatchObject({ status: 200, body: { name: 'Clinic A North', location: HERE } });
    expect(
      await client.send('PATCH', `/v1/clinics/${clinicIds.a}`, { token: tokens['pat'], body: { name: 'P' } }),
    ).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });

    // Profiles: carol creates doc-a (linking dana) in her clinic; an admin creates doc-b (linking dave) in B.
    const created = await client.send('POST', '/v1/doctors', {
      token: tokens['carol'],
      body: profileBody('doc-a', clinicIds.a, { userId: ids['dana'] }),
    });
    expect(created).toMatchObject({
      status: 201,
      body: { id: 'doc-a', userId: ids['dana'], licenseNumber: 'MD-doc-a', verified: false },
    });
    const second = await client.send('POST', '/v1/doctors', {
      token: tokens['admin'],
      body: profileBody('doc-b', clinicIds.b, { userId: ids['dave'], specializations: ['therapist'] }),
    });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    const duplicate = await client.send('POST', '/v1/doctors', {
      token: tokens['admin'],
      body: profileBody('doc-c', clinicIds.b, { licenseNumber: 'MD-doc-a' }),
    });
    expect(duplicate).toMatchObject({ status: 409, body: { code: 'ENGINE_DUPLICATE' } });
    expect(fieldsOf(duplicate.body)).toEqual(['body.licenseNumber']);
    tokens['dana'] = await client.login('dana@example.test');
    tokens['dave'] = await client.login('dave@example.test');
  });

  it("shows a doctor another doctor's profile without the license, and their own with it", async () => {
    const other = await client.send('GET', '/v1/doctors/doc-b/profile', { token: tokens['dana'] });
    expect(other).toMatchObject({ status: 200, body: { id: 'doc-b', specializations: ['therapist'] } });
    expect(other.body).not.toHaveProperty('licenseNumber');
    expect(other.body).not.toHaveProperty('userId');

    const own = await client.send('GET', '/v1/doctors/doc-a/profile', { token: tokens['dana'] });
    expect(own).toMatchObject({ status: 200, body: { id: 'doc-a', licenseNumber: 'MD-doc-a' } });
    expect(await client.send('GET', '/v1/me/doctor', { token: tokens['dana'] })).toMatchObject({
      status: 200,
      body: { id: 'doc-a', licenseNumber: 'MD-doc-a', userId: ids['dana'] },
    });
    // The clinic's own administrator sees it; another clinic's and a patient do not.
    const byCarol = await client.send('GET', '/v1/doctors/doc-a/profile', { token: tokens['carol'] });
    expect(byCarol.body['licenseNumber']).toBe('MD-doc-a');
    for (const name of ['bob', 'pat']) {
      const reply = await client.send('GET', '/v1/doctors/doc-a/profile', { token: tokens[name] });
      expect(reply.status).toBe(200);
      expect(reply.body, name).not.toHaveProperty('licenseNumber');
    }
    const listed = await client.send('GET', `/v1/doctors?clinicId=${clinicIds.a}`, { token: tokens['dave'] });
    expect(listed).toMatchObject({ status: 200, body: { doctors: [{ id: 'doc-a' }] } });
    expect((listed.body['doctors'] as object[])[0]).not.toHaveProperty('licenseNumber');
    expect(await client.send('GET', '/v1/me/doctor', { token: tokens['pat'] })).toMatchObject({
      status: 403,
    });
  });

  it('refuses verified and verifiedAt in a PATCH with 400 naming them, and writes nothing', async () => {
    const reply = await client.send('PATCH', '/v1/doctors/doc-a', {
      token: tokens['admin'],
      body: { fullName: 'Renamed', verified: true, verifiedAt: Date.now() },
    });
    expect(reply).toMatchObject({ status: 400, body: { code: 'API_VALIDATION_FAILED' } });
    expect(fieldsOf(reply.body)).toEqual(['body.verified', 'body.verifiedAt']);
    const after = await client.send('GET', '/v1/doctors/doc-a/profile', { token: tokens['admin'] });
    expect(after.body).toMatchObject({ fullName: 'Doctor doc-a', verified: false, verifiedAt: null });

    // A doctor changes only their own few fields.
    const license = await client.send('PATCH', '/v1/doctors/doc-a', {
      token: tokens['dana'],
      body: { licenseNumber: 'MD-forged' },
    });
    expect(license).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    expect(fieldsOf(license.body)).toEqual(['body.licenseNumber']);
    expect(
      await client.send('PATCH', '/v1/doctors/doc-a', {
        token: tokens['dana'],
        body: { experienceYears: 8 },
      }),
    ).toMatchObject({ status: 200, body: { experienceYears: 8, licenseNumber: 'MD-doc-a' } });
    expect(
      await client.send('PATCH', '/v1/doctors/doc-b', {
        token: tokens['dana'],
        body: { fullName: 'Mine now' },
      }),
    ).toMatchObject({ status: 404, body: { code: 'ENGINE_PROFILE_NOT_FOUND' } });
  });

  it('refuses a verification by anyone but an admin with 403', async () => {
    for (const name of ['carol', 'dana', 'pat']) {
      const reply = await client.send('POST', '/v1/doctors/doc-a/verify', { token: tokens[name] });
      expect(reply, name).toMatchObject({ status: 403, body: { code: 'API_FORBIDDEN' } });
    }
    expect(await client.send('DELETE', '/v1/doctors/doc-a/verify', { token: tokens['carol'] })).toMatchObject(
      {
        status: 403,
      },
    );
    const profile = await client.send('GET', '/v1/doctors/doc-a/profile', { token: tokens['admin'] });
    expect(profile.body).toMatchObject({ verified: false, verifiedBy: null });
  });

  it('puts a verified doctor into the fleet with its specialization, and takes an unverified one off duty', async () => {
    const fix = await fetch(engine.url('/v1/fixes'), {
      method: 'POST',
      headers: { authorization: `Bearer ${DEVICE_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fixes: [{ ...HERE, ts: Date.now() }] }),
    });
    expect(fix.status).toBe(202);
    await waitFor(
      async () =>
        (await client.send('GET', '/v1/doctors/doc-a/position')).status === 200 ? true : undefined,
      { what: 'doc-a placed in the fleet', timeoutMs: 20_000 },
    );
    // Its phone placed it, but an unverified profile is not the fleet's profile: no specialization.
    expect(await nearbyIds('')).toContain('doc-a');
    expect(await nearbyIds('&specialization=pediatrics')).not.toContain('doc-a');

    const verified = await client.send('POST', '/v1/doctors/doc-a/verify', { token: tokens['admin'] });
    expect(verified).toMatchObject({
      status: 200,
      body: { id: 'doc-a', verified: true, verifiedBy: expect.any(String) },
    });
    expect(await nearbyIds('&specialization=pediatrics')).toEqual(['doc-a']);
    expect(await nearbyIds('&specialization=therapist')).toEqual([]);
    expect(
      await client.send('GET', '/v1/doctors?verified=true&specialization=pediatrics', {
        token: tokens['pat'],
      }),
    ).toMatchObject({ status: 200, body: { doctors: [{ id: 'doc-a', verified: true }] } });

    const unverified = await client.send('DELETE', '/v1/doctors/doc-a/verify', { token: tokens['admin'] });
    expect(unverified).toMatchObject({ status: 200, body: { verified: false, verifiedAt: null } });
    expect(await client.send('GET', '/v1/doctors/doc-a/position')).toMatchObject({
      status: 200,
      body: { status: 'offline' },
    });
    expect(await nearbyIds('')).not.toContain('doc-a');
  });
});
