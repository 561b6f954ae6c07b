import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClinicStore } from '../../../engine/clinics.ts';
import { DoctorProfileStore, type DoctorProfile } from '../../../engine/doctor-profiles.ts';
import { migrate } from '../../../engine/migrate.ts';
import type { Store } from '../../../engine/store.ts';
import { UserStore, type Role } from '../../../engine/users.ts';
import { storeImplementations } from '../../support/stores.ts';

describe.each(storeImplementations)('clinics and doctor profiles: %s', (_name, open) => {
  let store: Store;
  let users: UserStore;
  const tag = `cd${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const password = 'a long enough password';
  const license = (name: string) => `${tag}-${name}`;
  const doctorId = (name: string) => `${tag}-${name}`;

  async function user(name: string, role: Role = 'patient'): Promise<string> {
    const created = await users.register(
      { email: `${name}.${tag}@example.test`, password, displayName: name },
      role,
    );
    return created!.id;
  }

  beforeAll(async () => {
    store = await open();
    await migrate(store);
    users = new UserStore(store, { refreshTtlMs: 60_000 });
  });
  afterAll(async () => {
    await store.query('DELETE FROM auth.doctor_profiles WHERE doctor_id LIKE $1', [`${tag}-%`]);
    await store.query('DELETE FROM auth.clinics WHERE license_number LIKE $1', [`${tag}-%`]);
    await store.query('DELETE FROM auth.users WHERE email LIKE $1', [`%.${tag}@example.test`]);
    await store.close();
  });

  it('creates the domain schemas with a comment each', async () => {
    const result = await store.query<{ name: string; comment: string | null }>(
      `SELECT nspname AS name, obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace
        WHERE nspname = ANY($1::text[]) ORDER BY nspname`,
      [
        [
          'auth',
          'booking',
          'chat',
          'emergency',
          'event',
          'geo',
          'notification',
          'payment',
          'rating',
          'security',
        ],
      ],
    );
    expect(result.rows.map((row) => row.name)).toEqual([
      'auth',
      'booking',
      'chat',
      'emergency',
      'event',
      'geo',
      'notification',
      'payment',
      'rating',
      'security',
    ]);
    expect(result.rows.every((row) => typeof row.comment === 'string' && row.comment.length > 0)).toBe(true);
  });

  it('creates, reads, lists by name substring in pages and updates clinics', async () => {
    const clinics = new ClinicStore(store);
    const north = await clinics.create({
      name: `North ${tag} Clinic`,
      address: '1 Tverskaya St',
      licenseNumber: license('north'),
      location: { lat: 55.76, lng: 37.61 },
    });
    expect(north).toMatchObject({
      name: `North ${tag} Clinic`,
      licenseNumber: license('north'),
      location: { lat: 55.76, lng: 37.61 },
    });
    expect(north.createdAt).toBeGreaterThan(0);
    const south = await clinics.create({
      name: `south ${tag}`,
      address: '2 Lenina',
      licenseNumber: license('south'),
    });
    expect(south.location).toBeNull();
    expect(await clinics.get(north.id)).toEqual(north);
    expect(await clinics.get('not-a-uuid')).toBeUndefined();

    // Any case; `%` is a character, not a pattern.
    const both = await clinics.list({ nameContains: tag.toUpperCase(), limit: 10, offset: 0 });
    expect(both.map((clinic) => clinic.id)).toEqual([north.id, south.id]);
    expect(await clinics.list({ nameContains: `${tag}%`, limit: 10, offset: 0 })).toEqual([]);
    expect(await clinics.list({ nameContains: tag, limit: 1, offset: 1 })).toEqual([south]);
    await expect(clinics.list({ limit: 0, offset: 0 })).rejects.toMatchObject({
      code: 'ENGINE_INVALID_ARGUMENT',
      details: { field: 'limit' },
    });

    const moved = await clinics.update(south.id, { address: '3 Lenina', location: { lat: 55.7, lng: 37.5 } });
    expect(moved).toMatchObject({
      name: south.name,
      address: '3 Lenina',
      location: { lat: 55.7, lng: 37.5 },
    });
    expect(moved!.updatedAt).toBeGreaterThanOrEqual(south.updatedAt);
    expect((await clinics.update(south.id, { location: null }))!.location).toBeNull();
    expect(await clinics.update('00000000-0000-4000-8000-000000000000', { name: 'x' })).toBeUndefined();
  });

  it('refuses a taken license number, naming it, and writes nothing', async () => {
    const clinics = new ClinicStore(store);
    const first = await clinics.create({ name: 'First', address: 'a', licenseNumber: license('dup') });
    await expect(
      clinics.create({ name: 'Second', address: 'b', licenseNumber: license('dup') }),
    ).rejects.toMatchObject({ code: 'ENGINE_DUPLICATE', details: { field: 'licenseNumber' } });
    const other = await clinics.create({ name: 'Other', address: 'c', licenseNumber: license('dup2') });
    await expect(clinics.update(other.id, { licenseNumber: license('dup') })).rejects.toMatchObject({
      code: 'ENGINE_DUPLICATE',
    });
    expect((await clinics.get(other.id))!.licenseNumber).toBe(license('dup2'));
    const rows = await store.query('SELECT 1 FROM auth.clinics WHERE license_number = $1', [license('dup')]);
    expect(rows.rows).toHaveLength(1);
    expect(first.name).toBe('First');
  });

  it('links one clinic per clinic admin, making them clinic_admin, and never demotes another role', async () => {
    const clinics = new ClinicStore(store);
    const a = await clinics.create({ name: 'A', address: 'a', licenseNumber: license('admins-a') });
    const b = await clinics.create({ name: 'B', address: 'b', licenseNumber: license('admins-b') });
    const carol = await user('carol');
    expect(await clinics.setAdmin(a.id, carol)).toEqual({ clinicId: a.id, userId: carol });
    expect((await users.get(carol))!.role).toBe('clinic_admin');
    expect(await clinics.clinicOfAdmin(carol)).toBe(a.id);
    // A second link replaces the first: one clinic per administrator.
    await clinics.setAdmin(b.id, carol);
    expect(await clinics.clinicOfAdmin(carol)).toBe(b.id);
    expect(await clinics.admins(a.id)).toEqual([]);
    expect(await clinics.admins(b.id)).toEqual([carol]);

    const admin = await user('root', 'admin');
    await expect(clinics.setAdmin(a.id, admin)).rejects.toMatchObject({
      code: 'ENGINE_ROLE_CONFLICT',
      details: { field: 'userId' },
    });
    expect((await users.get(admin))!.role).toBe('admin');
    expect(await clinics.clinicOfAdmin(admin)).toBeUndefined();
    await expect(clinics.setAdmin(a.id, '00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 'ENGINE_USER_NOT_FOUND',
    });
    expect(await clinics.setAdmin('00000000-0000-4000-8000-000000000000', carol)).toBeUndefined();

    expect(await clinics.removeAdmin(a.id, carol)).toBe(false);
    expect(await clinics.removeAdmin(b.id, carol)).toBe(true);
    expect(await clinics.clinicOfAdmin(carol)).toBeUndefined();
  });

  it('creates profiles linking a user as doctor, refusing duplicates and other roles without writing', async () => {
    const clinics = new ClinicStore(store);
    const clinic = await clinics.create({ name: 'Docs', address: 'd', licenseNumber: license('docs') });
    const changes: DoctorProfile[] = [];
    const profiles = new DoctorProfileStore(store, { onChange: (profile) => changes.push(profile) });
    const dana = await user('dana');
    const input = {
      doctorId: doctorId('dana'),
      userId: dana,
      fullName: 'Dana Petrova',
      specializations: ['therapist', 'pediatrics', 'therapist'],
      licenseNumber: license('md-dana'),
      experienceYears: 12,
      clinicId: clinic.id,
    };
    const created = await profiles.create(input);
    expect(created).toMatchObject({
      doctorId: doctorId('dana'),
      userId: dana,
      specializations: ['therapist', 'pediatrics'],
      experienceYears: 12,
      clinicId: clinic.id,
      verified: false,
      verifiedAt: null,
      verifiedBy: null,
    });
    expect(changes).toEqual([created]);
    expect((await users.get(dana))!.role).toBe('doctor');
    expect(await profiles.get(doctorId('dana'))).toEqual(created);
    expect(await profiles.getByUser(dana)).toEqual(created);
    expect(await profiles.doctorIdOfUser(dana)).toBe(doctorId('dana'));
    expect(await profiles.doctorIdOfUser(await user('nobody'))).toBeUndefined();

    const eve = await user('eve');
    const duplicates: [Partial<typeof input>, string][] = [
      [{ doctorId: doctorId('dana') }, 'doctorId'],
      [{ licenseNumber: license('md-dana') }, 'licenseNumber'],
      [{ userId: dana }, 'userId'],
    ];
    for (const [change, field] of duplicates) {
      await expect(
        profiles.create({
          ...input,
          doctorId: doctorId('eve'),
          licenseNumber: license('md-eve'),
          userId: eve,
          ...change,
        }),
        field,
      ).rejects.toMatchObject({ code: 'ENGINE_DUPLICATE', details: { field } });
    }
    const dispatcher = await user('dispatcher', 'dispatcher');
    await expect(
      profiles.create({
        ...input,
        doctorId: doctorId('eve'),
        licenseNumber: license('md-eve'),
        userId: dispatcher,
      }),
    ).rejects.toMatchObject({ code: 'ENGINE_ROLE_CONFLICT', details: { field: 'userId' } });
    await expect(
      profiles.create({
        ...input,
        doctorId: doctorId('eve'),
        licenseNumber: license('md-eve'),
        userId: eve,
        clinicId: '00000000-0000-4000-8000-000000000000',
      }),
    ).rejects.toMatchObject({ code: 'ENGINE_CLINIC_NOT_FOUND', details: { field: 'clinicId' } });
    await expect(
      profiles.create({ ...input, doctorId: 'doc 1', verified: true } as typeof input),
    ).rejects.toMatchObject({ code: 'ENGINE_INVALID_ARGUMENT' });
    // Nothing of the refused ones was written: eve is still a patient with no profile.
    expect(await profiles.get(doctorId('eve'))).toBeUndefined();
    expect((await users.get(eve))!.role).toBe('patient');
    expect((await users.get(dispatcher))!.role).toBe('dispatcher');
    expect(changes).toHaveLength(1);
  });

  it('lists by clinic, verification and specialization; verifies, unverifies and updates with the listener told', async () => {
    const clinics = new ClinicStore(store);
    const one = await clinics.create({ name: 'One', address: 'o', licenseNumber: license('one') });
    const two = await clinics.create({ name: 'Two', address: 't', licenseNumber: license('two') });
    const changes: DoctorProfile[] = [];
    const profiles = new DoctorProfileStore(store, { onChange: (profile) => changes.push(profile) });
    const base = { fullName: 'Doctor', experienceYears: 3 };
    await profiles.create({
      ...base,
      doctorId: doctorId('l1'),
      specializations: ['therapist'],
      licenseNumber: license('l1'),
      clinicId: one.id,
    });
    await profiles.create({
      ...base,
      doctorId: doctorId('l2'),
      specializations: ['surgeon', 'therapist'],
      licenseNumber: license('l2'),
      clinicId: one.id,
    });
    await profiles.create({
      ...base,
      doctorId: doctorId('l3'),
      specializations: ['surgeon'],
      licenseNumber: license('l3'),
      clinicId: two.id,
    });
    const admin = await user('verifier', 'admin');
    const verified = await profiles.verify(doctorId('l2'), admin);
    expect(verified).toMatchObject({ verified: true, verifiedBy: admin });
    expect(verified!.verifiedAt).toBeGreaterThan(0);
    // Verifying again keeps the first verification.
    const again = await profiles.verify(doctorId('l2'), await user('other-admin', 'admin'));
    expect(again).toMatchObject({ verifiedBy: admin, verifiedAt: verified!.verifiedAt });
    expect(changes.at(-1)).toEqual(again);

    const ids = async (options: Parameters<DoctorProfileStore['list']>[0]) =>
      (await profiles.list(options)).map((profile) => profile.doctorId);
    const page = { limit: 10, offset: 0 };
    expect(await ids({ ...page, clinicId: one.id })).toEqual([doctorId('l1'), doctorId('l2')]);
    expect(await ids({ ...page, clinicId: one.id, verified: true })).toEqual([doctorId('l2')]);
    expect(await ids({ ...page, clinicId: one.id, verified: false })).toEqual([doctorId('l1')]);
    expect(await ids({ ...page, clinicId: two.id, specialization: 'surgeon' })).toEqual([doctorId('l3')]);
    expect(await ids({ ...page, clinicId: one.id, specialization: 'surgeon' })).toEqual([doctorId('l2')]);
    expect(await ids({ limit: 1, offset: 1, clinicId: one.id })).toEqual([doctorId('l2')]);
    expect(await ids({ ...page, clinicId: 'not-a-uuid' })).toEqual([]);

    const renamed = await profiles.update(doctorId('l2'), {
      fullName: 'Dr Two',
      specializations: ['cardiology'],
    });
    expect(renamed).toMatchObject({ fullName: 'Dr Two', specializations: ['cardiology'], verified: true });
    // A new license number withdraws the verification.
    const relicensed = await profiles.update(doctorId('l2'), { licenseNumber: license('l2-new') });
    expect(relicensed).toMatchObject({ verified: false, verifiedBy: null, licenseNumber: license('l2-new') });
    await expect(profiles.update(doctorId('l2'), { licenseNumber: license('l3') })).rejects.toMatchObject({
      code: 'ENGINE_DUPLICATE',
      details: { field: 'licenseNumber' },
    });
    await expect(
      profiles.update(doctorId('l2'), { verifiedAt: 1 } as Parameters<DoctorProfileStore['update']>[1]),
    ).rejects.toMatchObject({
      code: 'ENGINE_INVALID_ARGUMENT',
      details: { errors: [{ field: 'verifiedAt' }] },
    });
    await expect(
      profiles.update(doctorId('l2'), { clinicId: '00000000-0000-4000-8000-000000000000' }),
    ).rejects.toMatchObject({ code: 'ENGINE_CLINIC_NOT_FOUND' });
    expect(await profiles.update(doctorId('missing'), { fullName: 'x' })).toBeUndefined();

    await profiles.verify(doctorId('l3'), admin);
    const unverified = await profiles.unverify(doctorId('l3'));
    expect(unverified).toMatchObject({ verified: false, verifiedAt: null, verifiedBy: null });
    expect(changes.at(-1)).toEqual(unverified);
    expect(await profiles.verify(doctorId('missing'), admin)).toBeUndefined();
    expect(await profiles.unverify(doctorId('missing'))).toBeUndefined();
  });

  it('replays every profile to the listener, and a failing listener never undoes a write', async () => {
    const clinics = new ClinicStore(store);
    const clinic = await clinics.create({ name: 'Sync', address: 's', licenseNumber: license('sync') });
    const failures: string[] = [];
    const profiles = new DoctorProfileStore(store, {
      onChange: () => {
        throw new Error('fleet refused');
      },
      onChangeFailed: (_error, profile) => failures.push(profile.doctorId),
    });
    const created = await profiles.create({
      doctorId: doctorId('sync'),
      fullName: 'Sync',
      specializations: [],
      licenseNumber: license('md-sync'),
      experienceYears: 0,
      clinicId: clinic.id,
    });
    expect(failures).toEqual([doctorId('sync')]);
    expect(await profiles.get(doctorId('sync'))).toEqual(created);

    const seen: string[] = [];
    const replay = new DoctorProfileStore(store, { onChange: (profile) => seen.push(profile.doctorId) });
    const count = await replay.syncAll();
    expect(count).toBe(seen.length);
    expect(seen).toContain(doctorId('sync'));
    expect(new Set(seen).size).toBe(seen.length);
  });
});
