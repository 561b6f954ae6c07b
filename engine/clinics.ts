import { z } from 'zod';
import { TotError } from '../geo/errors.ts';
import type { SqlExecutor, Store } from './store.ts';
import { isUuid, type Role } from './users.ts';

/** A clinic's position, degrees. */
export const clinicLocationSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
});

/** A new clinic: the single source of the checks for {@link ClinicStore.create} and POST /v1/clinics. */
export const clinicInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  address: z.string().trim().min(1).max(500),
  licenseNumber: z.string().trim().min(1).max(64),
  /** Absent or null: the clinic has no known position. */
  location: clinicLocationSchema.nullish(),
});

/** What {@link ClinicStore.create} accepts. */
export type ClinicInput = z.input<typeof clinicInputSchema>;

/** A change of a clinic: any fields of {@link clinicInputSchema}, at least one; `location: null` forgets the position. */
export const clinicPatchSchema = clinicInputSchema
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, {
    error: 'must name at least one field',
    // Only once the fields themselves are fine, so that an unknown field is reported alone.
    when: (payload) => payload.issues.length === 0,
  });

/** What {@link ClinicStore.update} accepts. */
export type ClinicPatch = z.input<typeof clinicPatchSchema>;

/** A clinic. Times are ms since the epoch. */
export interface Clinic {
  id: string;
  name: string;
  address: string;
  licenseNumber: string;
  location: { lat: number; lng: number } | null;
  createdAt: number;
  updatedAt: number;
}

/** Filters and page of {@link ClinicStore.list}. */
export interface ClinicListOptions {
  /** Clinics whose name contains this text, any case. */
  nameContains?: string;
  /** At most this many, 1–{@link MAX_PAGE_LIMIT}. */
  limit: number;
  /** Rows skipped, in the list's order (name, then id). */
  offset: number;
}

/** Most rows one page of a list returns. */
export const MAX_PAGE_LIMIT = 200;

/** Roles a user may have when an admin makes them a clinic's administrator (the role becomes clinic_admin). */
export const CLINIC_ADMIN_FROM_ROLES: readonly Role[] = ['patient', 'clinic_admin'];

interface ClinicRow {
  id: string;
  name: string;
  address: string;
  license_number: string;
  lat: number | null;
  lng: number | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS = `id, name, address, license_number,
  ST_Y(location::geometry) AS lat, ST_X(location::geometry) AS lng,
  (extract(epoch from created_at) * 1000)::float8 AS created_at,
  (extract(epoch from updated_at) * 1000)::float8 AS updated_at`;

/** Which input field a unique constraint of the auth schema guards, for {@link duplicateOf}. */
const UNIQUE_FIELDS: Record<string, string> = {
  clinics_license_number_key: 'licenseNumber',
  doctor_profiles_pkey: 'doctorId',
  doctor_profiles_license_number_key: 'licenseNumber',
  doctor_profiles_user_id_key: 'userId',
};

/**
 * The `ENGINE_DUPLICATE` error of a unique violation (SQLSTATE 23505) of the auth schema's constraints, naming the
 * input field and its value; undefined for any other error. Both stores report the violated constraint by name.
 */
export function duplicateOf(error: unknown, values: Record<string, unknown>): TotError | undefined {
  const { code, constraint } = (error ?? {}) as { code?: unknown; constraint?: unknown };
  if (code !== '23505' || typeof constraint !== 'string') return undefined;
  const field = UNIQUE_FIELDS[constraint];
  if (field === undefined) return undefined;
  const value = values[field];
  return new TotError('ENGINE_DUPLICATE', `${field} ${JSON.stringify(value)} is already taken`, {
    field,
    value,
  });
}

/** Checks a page's limit and offset. Throws `ENGINE_INVALID_ARGUMENT` naming the bad one. */
export function assertPage(page: { limit: number; offset: number }): void {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_PAGE_LIMIT) {
    throw new TotError(
      'ENGINE_INVALID_ARGUMENT',
      `limit must be an integer in [1, ${MAX_PAGE_LIMIT}], got ${page.limit}`,
      { field: 'limit', value: page.limit },
    );
  }
  if (!Number.isSafeInteger(page.offset) || page.offset < 0) {
    throw new TotError(
      'ENGINE_INVALID_ARGUMENT',
      `offset must be a non-negative integer, got ${page.offset}`,
      {
        field: 'offset',
        value: page.offset,
      },
    );
  }
}

function clinicOf(row: ClinicRow): Clinic {
  return {
    id: row.id,
    name: row.name,
    address: row.address,
    licenseNumber: row.license_number,
    location: row.lat === null || row.lng === null ? null : { lat: Number(row.lat), lng: Number(row.lng) },
    createdAt: Math.round(Number(row.created_at)),
    updatedAt: Math.round(Number(row.updated_at)),
  };
}

/**
 * Parses a store's input with its schema.
 *
 * @throws TotError `ENGINE_INVALID_ARGUMENT` naming every field at fault in `details.errors`; an unknown field of a
 *   strict schema is named itself (`verifiedAt`), not its parent.
 */
export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: key, message: 'is not an accepted field' }))
      : [{ field: issue.path.map(String).join('.') || '(input)', message: issue.message }],
  );
  throw new TotError(
    'ENGINE_INVALID_ARGUMENT',
    errors.map((error) => `${error.field}: ${error.message}`).join('; '),
    { errors },
  );
}

/**
 * Clinics and their administrators in the store (auth.clinics with an optional PostGIS position, auth.clinic_admins).
 * A clinic administrator acts for one clinic: {@link clinicOfAdmin} is the check every clinic-scoped route makes.
 */
export class ClinicStore {
  constructor(private readonly store: Pick<Store, 'query' | 'transaction'>) {}

  /**
   * Creates a clinic.
   *
   * @throws TotError `ENGINE_INVALID_ARGUMENT` naming every field at fault; `ENGINE_DUPLICATE` (field
   *   `licenseNumber`) when another clinic has the license number. Nothing is written on a throw.
   */
  async create(input: ClinicInput): Promise<Clinic> {
    const clinic = parseInput(clinicInputSchema, input);
    try {
      const result = await this.store.query<ClinicRow>(
        `INSERT INTO auth.clinics (name, address, license_number, location)
         VALUES ($1, $2, $3, CASE WHEN $4::float8 IS NULL THEN NULL
                                  ELSE ST_SetSRID(ST_MakePoint($4::float8, $5::float8), 4326)::geography END)
         RETURNING ${COLUMNS}`,
        [
          clinic.name,
          clinic.address,
          clinic.licenseNumber,
          clinic.location?.lng ?? null,
          clinic.location?.lat ?? null,
        ],
      );
      return clinicOf(result.rows[0]!);
    } catch (error) {
      throw duplicateOf(error, clinic) ?? error;
    }
  }

  /** The clinic with that id, or undefined (also for an id that is not a UUID). */
  async get(id: string): Promise<Clinic | undefined> {
    if (!isUuid(id)) return undefined;
    const result = await this.store.query<ClinicRow>(`SELECT ${COLUMNS} FROM auth.clinics WHERE id = $1`, [
      id,
    ]);
    const row = result.rows[0];
    return row ? clinicOf(row) : undefined;
  }

  /**
   * A page of clinics ordered by name, then id; `nameContains` keeps those whose name contains it in any case (a plain
   * substring: `%` and `_` are not patterns).
   *
   * @throws TotError `ENGINE_INVALID_ARGUMENT` for a bad limit or offset.
   */
  async list(options: ClinicListOptions): Promise<Clinic[]> {
    assertPage(options);
    const result = await this.store.query<ClinicRow>(
      `SELECT ${COLUMNS} FROM auth.clinics
        WHERE ($1::text IS NULL OR strpos(lower(name), lower($1::text)) > 0)
        ORDER BY name, id
        LIMIT $2 OFFSET $3`,
      [options.nameContains ?? null, options.limit, options.offset],
    );
    return result.rows.map(clinicOf);
  }

  /**
   * Changes the given fields of a clinic; resolves the updated clinic, or undefined when there is none.
   *
   * @throws TotError `ENGINE_INVALID_ARGUMENT` naming every field at fault; `ENGINE_DUPLICATE` (field
   *   `licenseNumber`). Nothing is written on a throw.
   */
  async update(id: string, patch: ClinicPatch): Promise<Clinic | undefined> {
    const change = parseInput(clinicPatchSchema, patch);
    if (!isUuid(id)) return undefined;
    const location = change.location;
    try {
      const result = await this.store.query<ClinicRow>(
        `UPDATE auth.clinics SET
           name = COALESCE($2, name),
           address = COALESCE($3, address),
           license_number = COALESCE($4, license_number),
           location = CASE WHEN NOT $5::boolean THEN location
                           WHEN $6::float8 IS NULL THEN NULL
                           ELSE ST_SetSRID(ST_MakePoint($6::float8, $7::float8), 4326)::geography END,
           updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id,
          change.name ?? null,
          change.address ?? null,
          change.licenseNumber ?? null,
          location !== undefined,
          location?.lng ?? null,
          location?.lat ?? null,
        ],
      );
      const row = result.rows[0];
      return row ? clinicOf(row) : undefined;
    } catch (error) {
      throw duplicateOf(error, change) ?? error;
    }
  }

  /**
   * Makes a user the administrator of a clinic: the link replaces any earlier one (a clinic administrator acts for one
   * clinic) and the user's role becomes clinic_admin, in one transaction. The new role shows in the user's next
   * access token. Resolves undefined when the clinic does not exist.
   *
   * @throws TotError `ENGINE_USER_NOT_FOUND` (field `userId`); `ENGINE_ROLE_CONFLICT` when the user's role is not one
   *   of {@link CLINIC_ADMIN_FROM_ROLES} (an admin, dispatcher or doctor is never demoted as a side effect). Nothing
   *   is written on a throw.
   */
  async setAdmin(
    clinicId: string,
    userId: string,
  ): Promise<{ clinicId: string; userId: string } | undefined> {
    if (!isUuid(clinicId)) return undefined;
    return this.store.transaction(async (sql) => {
      const clinic = await sql.query('SELECT 1 FROM auth.clinics WHERE id = $1 FOR SHARE', [clinicId]);
      if (clinic.rows.length === 0) return undefined;
      await takeUserInto(sql, userId, 'clinic_admin', CLINIC_ADMIN_FROM_ROLES);
      await sql.query(
        `INSERT INTO auth.clinic_admins (user_id, clinic_id) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET clinic_id = EXCLUDED.clinic_id, linked_at = now()`,
        [userId, clinicId],
      );
      return { clinicId, userId };
    });
  }

  /**
   * Ends a user's administration of a clinic; resolves false when they were not its administrator. The role stays
   * (an admin changes it with the role route); without a link it acts for no clinic.
   */
  async removeAdmin(clinicId: string, userId: string): Promise<boolean> {
    if (!isUuid(clinicId) || !isUuid(userId)) return false;
    const result = await this.store.query(
      'DELETE FROM auth.clinic_admins WHERE clinic_id = $1 AND user_id = $2 RETURNING user_id',
      [clinicId, userId],
    );
    return result.rows.length > 0;
  }

  /** The id of the clinic a user administers, or undefined when they administer none. */
  async clinicOfAdmin(userId: string): Promise<string | undefined> {
    if (!isUuid(userId)) return undefined;
    const result = await this.store.query<{ clinic_id: string }>(
      'SELECT clinic_id FROM auth.clinic_admins WHERE user_id = $1',
      [userId],
    );
    return result.rows[0]?.clinic_id;
  }

  /** The user ids of a clinic's administrators, in link order. */
  async admins(clinicId: string): Promise<string[]> {
    if (!isUuid(clinicId)) return [];
    const result = await this.store.query<{ user_id: string }>(
      'SELECT user_id FROM auth.clinic_admins WHERE clinic_id = $1 ORDER BY linked_at, user_id',
      [clinicId],
    );
    return result.rows.map((row) => row.user_id);
  }
}

/**
 * Gives a user `role` inside a transaction when their current role is one of `from`.
 *
 * @throws TotError `ENGINE_USER_NOT_FOUND` (field `userId`); `ENGINE_ROLE_CONFLICT` (field `userId`) for another role.
 */
export async function takeUserInto(
  sql: Pick<SqlExecutor, 'query'>,
  userId: string,
  role: Role,
  from: readonly Role[],
): Promise<void> {
  const users = isUuid(userId)
    ? await sql.query<{ role: Role }>('SELECT role FROM auth.users WHERE id = $1 FOR UPDATE', [userId])
    : { rows: [] };
  const current = users.rows[0]?.role;
  if (current === undefined) {
    throw new TotError('ENGINE_USER_NOT_FOUND', `no user ${JSON.stringify(userId)}`, {
      field: 'userId',
      value: userId,
    });
  }
  if (!from.includes(current)) {
    throw new TotError(
      'ENGINE_ROLE_CONFLICT',
      `user ${userId} has role ${current}; only a user with role ${from.join(' or ')} can be made ${role}`,
      { field: 'userId', value: userId, role: current },
    );
  }
  if (current !== role) await sql.query('UPDATE auth.users SET role = $2 WHERE id = $1', [userId, role]);
}
