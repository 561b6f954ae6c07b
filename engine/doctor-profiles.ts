import { z } from 'zod';
import { TotError } from '../geo/errors.ts';
import { assertPage, duplicateOf, parseInput, takeUserInto } from './clinics.ts';
import type { Fleet } from './fleet.ts';
import type { Store } from './store.ts';
import { isUuid, type Role } from './users.ts';

/** A doctor id: the id the fleet, the phones' device tokens and the fixes use (`doc-17`). */
export const doctorIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1–64 letters, digits, dots, dashes or underscores' });

/** A specialization: a lower-case slug such as `therapist` or `pediatrics`. */
export const specializationSchema = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, {
  error: 'must be a lower-case slug like "therapist" (a–z, 0–9, _ or -)',
});

/** Most specializations of one doctor. */
export const MAX_SPECIALIZATIONS = 16;

const specializations = z
  .array(specializationSchema)
  .max(MAX_SPECIALIZATIONS)
  .transform((names) => [...new Set(names)]);
const fullName = z.string().trim().min(1).max(200);
const licenseNumber = z.string().trim().min(1).max(64);
const experienceYears = z.number().int().min(0).max(70);
const uuid = z.string().refine(isUuid, { error: 'must be a UUID' });

/**
 * A new profile: the single source of the checks for {@link DoctorProfileStore.create} and POST /v1/doctors. Strict:
 * the verification fields (or any other unknown field) are refused, never ignored.
 */
export const doctorProfileInputSchema = z.strictObject({
  doctorId: doctorIdSchema,
  /** An existing user with role patient or doctor, who becomes this doctor (role doctor). */
  userId: uuid.optional(),
  fullName,
  specializations,
  licenseNumber,
  experienceYears,
  clinicId: uuid,
});

/** What {@link DoctorProfileStore.create} accepts. */
export type DoctorProfileInput = z.input<typeof doctorProfileInputSchema>;

/** A change of a profile: any of these fields, at least one. Strict, so `verified`, `verifiedAt` … are refused. */
export const doctorProfilePatchSchema = z
  .strictObject({
    fullName: fullName.optional(),
    specializations: specializations.optional(),
    licenseNumber: licenseNumber.optional(),
    experienceYears: experienceYears.optional(),
    clinicId: uuid.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, {
    error: 'must name at least one field',
    // Only once the fields themselves are fine, so that an unknown field is reported alone.
    when: (payload) => payload.issues.length === 0,
  });

/** What {@link DoctorProfileStore.update} accepts. */
export type DoctorProfilePatch = z.input<typeof doctorProfilePatchSchema>;

/** Fields a doctor may change in their own profile; the others are what an admin's verification vouches for. */
export const DOCTOR_EDITABLE_FIELDS = ['fullName', 'experienceYears'] as const;

/** A doctor's profile. Times are ms since the epoch. */
export interface DoctorProfile {
  doctorId: string;
  /** The user who is this doctor, or null when no account is linked yet. */
  userId: string | null;
  fullName: string;
  specializations: string[];
  licenseNumber: string;
  experienceYears: number;
  clinicId: string;
  verified: boolean;
  verifiedAt: number | null;
  /** The admin who verified the profile (null when unverified, or when that admin's account is gone). */
  verifiedBy: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Filters and page of {@link DoctorProfileStore.list}. */
export interface DoctorProfileListOptions {
  clinicId?: string;
  verified?: boolean;
  /** Profiles having this specialization. */
  specialization?: string;
  limit: number;
  /** Rows skipped, in the list's order (doctor id). */
  offset: number;
}

/** Roles a linked user may have; the role becomes doctor. */
export const DOCTOR_FROM_ROLES: readonly Role[] = ['patient', 'doctor'];

/** Called after every committed change of a profile (and for each profile by {@link DoctorProfileStore.syncAll}). */
export type ProfileListener = (profile: DoctorProfile) => void;

interface ProfileRow {
  doctor_id: string;
  user_id: string | null;
  full_name: string;
  specializations: string[];
  license_number: string;
  experience_years: number;
  clinic_id: string;
  verified_at: number | null;
  verified_by: string | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS = `doctor_id, user_id, full_name, specializations, license_number, experience_years, clinic_id,
  (extract(epoch from verified_at) * 1000)::float8 AS verified_at, verified_by,
  (extract(epoch from created_at) * 1000)::float8 AS created_at,
  (extract(epoch from updated_at) * 1000)::float8 AS updated_at`;

function profileOf(row: ProfileRow): DoctorProfile {
  const verifiedAt = row.verified_at === null ? null : Math.round(Number(row.verified_at));
  return {
    doctorId: row.doctor_id,
    userId: row.user_id,
    fullName: row.full_name,
    specializations: row.specializations,
    licenseNumber: row.license_number,
    experienceYears: Number(row.experience_years),
    clinicId: row.clinic_id,
    verified: verifiedAt !== null,
    verifiedAt,
    verifiedBy: row.verified_by,
    createdAt: Math.round(Number(row.created_at)),
    updatedAt: Math.round(Number(row.updated_at)),
  };
}

function clinicNotFound(clinicId: string): TotError {
  return new TotError('ENGINE_CLINIC_NOT_FOUND', `no clinic ${JSON.stringify(clinicId)}`, {
    field: 'clinicId',
    value: clinicId,
  });
}

/**
 * Doctors' profiles in the store (auth.doctor_profiles). A verified profile is the doctor's fleet profile: after every
 * committed create, update, verify and unverify the store calls `onChange` with the profile (the composition root
 * passes {@link fleetProfileSync}), and {@link syncAll} replays every profile when the engine starts. A listener that
 * throws is reported to `onChangeFailed` and never undoes the write.
 */
export class DoctorProfileStore {
  constructor(
    private readonly store: Pick<Store, 'query' | 'transaction'>,
    private readonly options: {
      onChange?: ProfileListener;
      onChangeFailed?: (error: unknown, profile: DoctorProfile) => void;
    } = {},
  ) {}

  private changed(profile: DoctorProfile): DoctorProfile {
    try {
      this.options.onChange?.(profile);
    } catch (error) {
      this.options.onChangeFailed?.(error, profile);
    }
    return profile;
  }

  /**
   * Creates a profile (unverified). With `userId`, the user is linked and their role becomes doctor in the same
   * transaction (it shows in their next access token).
   *
   * @throws TotError `ENGINE_INVALID_ARGUMENT` naming every field at fault; `ENGINE_CLINIC_NOT_FOUND` (field
   *   `clinicId`); `ENGINE_USER_NOT_FOUND` / `ENGINE_ROLE_CONFLICT` (field `userId`, a role other than patient or
   *   doctor); `ENGINE_DUPLICATE` naming `doctorId`, `licenseNumber` or `userId` (already linked to another doctor).
   *   Nothing is written on a throw.
   */
  async create(input: DoctorProfileInput): Promise<DoctorProfile> {
    const profile = parseInput(doctorProfileInputSchema, input);
    const created = await this.store
      .transaction(async (sql) => {
        const clinic = await sql.query('SELECT 1 FROM auth.clinics WHERE id = $1 FOR SHARE', [
          profile.clinicId,
        ]);
        if (clinic.rows.length === 0) throw clinicNotFound(profile.clinicId);
        if (profile.userId !== undefined)
          await takeUserInto(sql, profile.userId, 'doctor', DOCTOR_FROM_ROLES);
        const result = await sql.query<ProfileRow>(
          `INSERT INTO auth.doctor_profiles
             (doctor_id, user_id, full_name, specializations, license_number, experience_years, clinic_id)
           VALUES ($1, $2, $3, $4::text[], $5, $6, $7)
           RETURNING ${COLUMNS}`,
          [
            profile.doctorId,
            profile.userId ?? null,
            profile.fullName,
            profile.specializations,
            profile.licenseNumber,
            profile.experienceYears,
            profile.clinicId,
          ],
        );
        return profileOf(result.rows[0]!);
      })
      .catch((error: unknown) => {
        throw duplicateOf(error, profile) ?? error;
      });
    return this.changed(created);
  }

  /** The profile of a doctor id, or undefined. */
  async get(doctorId: string): Promise<DoctorProfile | undefined> {
    const result = await this.store.query<ProfileRow>(
      `SELECT ${COLUMNS} FROM auth.doctor_profiles WHERE doctor_id = $1`,
      [doctorId],
    );
    const row = result.rows[0];
    return row ? profileOf(row) : undefined;
  }

  /** The profile linked to a user, or undefined. */
  async getByUser(userId: string): Promise<DoctorProfile | undefined> {
    if (!isUuid(userId)) return undefined;
    const result = await this.store.query<ProfileRow>(
      `SELECT ${COLUMNS} FROM auth.doctor_profiles WHERE user_id = $1`,
      [userId],
    );
    const row = result.rows[0];
    return row ? profileOf(row) : undefined;
  }

  /** The doctor id of the profile linked to a user (what dispatch routes act as), or undefined. */
  async doctorIdOfUser(userId: string): Promise<string | undefined> {
    if (!isUuid(userId)) return undefined;
    const result = await this.store.query<{ doctor_id: string }>(
      'SELECT doctor_id FROM auth.doctor_profiles WHERE user_id = $1',
      [userId],
    );
    return result.rows[0]?.doctor_id;
  }

  /**
   * A page of profiles ordered by doctor id, filtered by clinic, verification and specialization.
   *
   * @throws TotError `ENGINE_INVALID_ARGUMENT` for a bad limit or offset.
   */
  async list(options: DoctorProfileListOptions): Promise<DoctorProfile[]> {
    assertPage(options);
    if (options.clinicId !== undefined && !isUuid(options.clinicId)) return [];
    const result = await this.store.query<ProfileRow>(
      `SELECT ${COLUMNS} FROM auth.doctor_profiles
        WHERE ($1::uuid IS NULL OR clinic_id = $1::uuid)
          AND ($2::boolean IS NULL OR (verified_at IS NOT NULL) = $2::boolean)
          AND ($3::text IS NULL OR specializations @> ARRAY[$3::text])
        ORDER BY doctor_id
        LIMIT $4 OFFSET $5`,
      [
        options.clinicId ?? null,
        options.verified ?? null,
        options.specialization ?? null,
        options.limit,
        options.offset,
      ],
    );
    return result.rows.map(profileOf);
  }

  /**
   * Changes the given fields; resolves the updated profile, or undefined when there is none. A new license number
   * withdraws the verification (what an admin verified was the old one).
   *
   * @throws TotError `ENGINE_INVALID_ARGUMENT` naming every field at fault (`verified` and the like included);
   *   `ENGINE_CLINIC_NOT_FOUND` (field `clinicId`); `ENGINE_DUPLICATE` (field `licenseNumber`). Nothing is written
   *   on a throw.
   */
  async update(doctorId: string, patch: DoctorProfilePatch): Promise<DoctorProfile | undefined> {
    const change = parseInput(doctorProfilePatchSchema, patch);
    const updated = await this.store
      .transaction(async (sql) => {
        if (change.clinicId !== undefined) {
          const clinic = await sql.query('SELECT 1 FROM auth.clinics WHERE id = $1 FOR SHARE', [
            change.clinicId,
          ]);
          if (clinic.rows.length === 0) throw clinicNotFound(change.clinicId);
        }
        const result = await sql.query<ProfileRow>(
          `UPDATE auth.doctor_profiles SET
             full_name = COALESCE($2, full_name),
             specializations = COALESCE($3::text[], specializations),
             experience_years = COALESCE($5, experience_years),
             clinic_id = COALESCE($6::uuid, clinic_id),
             verified_at = CASE WHEN $4::text IS DISTINCT FROM license_number AND $4::text IS NOT NULL
                                THEN NULL ELSE verified_at END,
             verified_by = CASE WHEN $4::text IS DISTINCT FROM license_number AND $4::text IS NOT NULL
                                THEN NULL ELSE verified_by END,
             license_number = COALESCE($4, license_number),
             updated_at = now()
           WHERE doctor_id = $1 RETURNING ${COLUMNS}`,
          [
            doctorId,
            change.fullName ?? null,
            change.specializations ?? null,
            change.licenseNumber ?? null,
            change.experienceYears ?? null,
            change.clinicId ?? null,
          ],
        );
        const row = result.rows[0];
        return row ? profileOf(row) : undefined;
      })
      .catch((error: unknown) => {
        throw duplicateOf(error, change) ?? error;
      });
    return updated && this.changed(updated);
  }

  /**
   * Marks a profile verified by an admin (the first verification's time and admin are kept when it is verified
   * already); resolves the profile, or undefined when there is none.
   */
  async verify(doctorId: string, adminUserId: string): Promise<DoctorProfile | undefined> {
    const result = await this.store.query<ProfileRow>(
      `UPDATE auth.doctor_profiles SET
         verified_by = CASE WHEN verified_at IS NULL THEN $2::uuid ELSE verified_by END,
         verified_at = COALESCE(verified_at, now()),
         updated_at = now()
       WHERE doctor_id = $1 RETURNING ${COLUMNS}`,
      [doctorId, isUuid(adminUserId) ? adminUserId : null],
    );
    const row = result.rows[0];
    return row && this.changed(profileOf(row));
  }

  /** Withdraws a profile's verification; resolves the profile, or undefined when there is none. */
  async unverify(doctorId: string): Promise<DoctorProfile | undefined> {
    const result = await this.store.query<ProfileRow>(
      `UPDATE auth.doctor_profiles SET verified_at = NULL, verified_by = NULL, updated_at = now()
        WHERE doctor_id = $1 RETURNING ${COLUMNS}`,
      [doctorId],
    );
    const row = result.rows[0];
    return row && this.changed(profileOf(row));
  }

  /**
   * Calls `onChange` for every profile, in pages of 1 000, so the live fleet matches the store (at start-up, after
   * the fleet was restored from its snapshot). Resolves with the number of profiles.
   */
  async syncAll(): Promise<number> {
    const pageSize = 1_000;
    let count = 0;
    let after = '';
    for (;;) {
      const result = await this.store.query<ProfileRow>(
        `SELECT ${COLUMNS} FROM auth.doctor_profiles WHERE doctor_id > $1 ORDER BY doctor_id LIMIT $2`,
        [after, pageSize],
      );
      for (const row of result.rows) this.changed(profileOf(row));
      count += result.rows.length;
      if (result.rows.length < pageSize) return count;
      after = result.rows[result.rows.length - 1]!.doctor_id;
    }
  }
}

/**
 * The listener that keeps the live fleet in step with the profiles: a verified profile is registered as the doctor's
 * fleet profile (id, specializations, clinic; the status and position stay the fleet's); an unverified one takes a
 * doctor the fleet knows off duty, so that the matcher never offers a visit to an unverified doctor. `fleet` is a
 * getter because a restore replaces the fleet object.
 */
export function fleetProfileSync(fleet: () => Fleet, clock: () => number): ProfileListener {
  return (profile) => {
    const now = clock();
    const current = fleet();
    if (profile.verified) {
      current.register(
        { id: profile.doctorId, specializations: profile.specializations, clinicId: profile.clinicId },
        now,
      );
    } else if (current.get(profile.doctorId) !== undefined) {
      current.setDuty(profile.doctorId, false, now);
    }
  };
}
