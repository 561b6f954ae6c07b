import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { decoyHash, hashPassword, verifyPassword } from './passwords.ts';
import type { SqlExecutor, Store } from './store.ts';

/** Roles of the product, least to most privileged in spirit (checks are by name, never by order). */
export const ROLES = ['patient', 'doctor', 'clinic_admin', 'dispatcher', 'admin'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** Shortest accepted password. */
export const MIN_PASSWORD_LENGTH = 10;

/**
 * Self-registration: unknown fields are refused (a client cannot choose its role: every self-registered user is a
 * patient; other roles are given by an admin).
 */
export const registrationSchema = z.strictObject({
  email: z
    .string()
    .trim()
    .max(254)
    .pipe(z.email({ error: 'must be an e-mail address' }))
    .transform((value) => value.toLowerCase()),
  password: z
    .string()
    .min(MIN_PASSWORD_LENGTH, { error: `must be at least ${MIN_PASSWORD_LENGTH} characters` })
    .max(1024, { error: 'must be at most 1024 characters' }),
  displayName: z.string().trim().min(1).max(100),
});

/** What {@link UserStore.register} accepts. */
export type Registration = z.input<typeof registrationSchema>;

/** A user as the API shows it (never the password hash). Times are ms since the epoch. */
export interface User {
  id: string;
  email: string;
  role: Role;
  displayName: string;
  createdAt: number;
  disabled: boolean;
}

/** A refresh token as handed to a client: `<row id>.<secret>`; only its SHA-256 is stored. */
export interface IssuedRefreshToken {
  token: string;
  familyId: string;
  expiresAt: number;
}

/** The outcome of {@link UserStore.rotateRefreshToken}. */
export type RotationResult =
  | { kind: 'rotated'; user: User; refresh: IssuedRefreshToken }
  /** Unknown, malformed, revoked, or belonging to a disabled user. */
  | { kind: 'invalid' }
  | { kind: 'expired' }
  /** The token had been used already: its whole family is now revoked. */
  | { kind: 'reused'; familyId: string };

interface UserRow {
  id: string;
  email: string;
  role: Role;
  display_name: string;
  created_at: Date | string;
  disabled: boolean;
  password_hash?: string;
}

const USER_COLUMNS = 'id, email, role, display_name, created_at, disabled';

function userOf(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    displayName: row.display_name,
    createdAt: new Date(row.created_at).getTime(),
    disabled: row.disabled,
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID (ids of users); lets callers answer "not found" without asking the store. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Users, passwords and refresh tokens in the store (schema `auth`). Passwords are scrypt hashes with a per-user salt;
 * refresh tokens are random, stored as SHA-256 digests, rotated on every use, and grouped in families so that a
 * stolen-and-replayed token revokes the login it came from.
 */
export class UserStore {
  constructor(
    private readonly store: Pick<Store, 'query' | 'transaction'>,
    private readonly options: { refreshTtlMs: number; clock?: () => number },
  ) {}

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  /**
   * Registers a user. The role is `patient` unless `role` is given (only trusted callers — the admin bootstrap — pass
   * one; the API's registration never does). Resolves undefined when the e-mail is taken; nothing is written then.
   * The input must already satisfy {@link registrationSchema} (it is parsed again here).
   */
  async register(input: Registration, role: Role = 'patient'): Promise<User | undefined> {
    const { email, password, displayName } = registrationSchema.parse(input);
    const passwordHash = await hashPassword(password);
    const result = await this.store.query<UserRow>(
      `INSERT INTO auth.users (email, password_hash, role, display_name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email) DO NOTHING RETURNING ${USER_COLUMNS}`,
      [email, passwordHash, role, displayName],
    );
    const row = result.rows[0];
    return row ? userOf(row) : undefined;
  }

  /**
   * The user with that e-mail and password, or undefined — for an unknown e-mail, a wrong password and a disabled
   * user alike, and in about the same time (an unknown e-mail is checked against a decoy hash).
   */
  async authenticate(email: string, password: string): Promise<User | undefined> {
    const result = await this.store.query<UserRow>(
      `SELECT ${USER_COLUMNS}, password_hash FROM auth.users WHERE email = $1`,
      [email.trim().toLowerCase()],
    );
    const row = result.rows[0];
    const matches = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
    if (!row || !matches || row.disabled) return undefined;
    return userOf(row);
  }

  /** The user with that id, or undefined. */
  async get(id: string): Promise<User | undefined> {
    if (!isUuid(id)) return undefined;
    const result = await this.store.query<UserRow>(`SELECT ${USER_COLUMNS} FROM auth.users WHERE id = $1`, [
      id,
    ]);
    const row = result.rows[0];
    return row ? userOf(row) : undefined;
  }

  /** The user with that e-mail (any case), or undefined. */
  async getByEmail(email: string): Promise<User | undefined> {
    const result = await this.store.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM auth.users WHERE email = $1`,
      [email.trim().toLowerCase()],
    );
    const row = result.rows[0];
    return row ? userOf(row) : undefined;
  }

  /** Gives a user another role; resolves the updated user, or undefined when there is no such user. */
  async setRole(id: string, role: Role): Promise<User | undefined> {
    if (!isUuid(id)) return undefined;
    const result = await this.store.query<UserRow>(
      `UPDATE auth.users SET role = $2 WHERE id = $1 RETURNING ${USER_COLUMNS}`,
      [id, role],
    );
    const row = result.rows[0];
    return row ? userOf(row) : undefined;
  }

  /** Issues a refresh token for a new login (a new family), or the next one of `familyId`. */
  async issueRefreshToken(
    userId: string,
    familyId: string = randomUUID(),
    sql: Pick<SqlExecutor, 'query'> = this.store,
  ): Promise<IssuedRefreshToken> {
    const id = randomUUID();
    const token = `${id}.${randomBytes(32).toString('base64url')}`;
    const expiresAt = this.now() + this.options.refreshTtlMs;
    await sql.query(
      `INSERT INTO auth.refresh_tokens (id, user_id, family_id, token_hash, expires_at)
       VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0))`,
      [id, userId, familyId, sha256(token), expiresAt],
    );
    return { token, familyId, expiresAt };
  }

  /**
   * Exchanges a refresh token for the next one of its family. The presented token becomes used; presenting a used
   * token again (a replay: someone else holds a copy) revokes every token of the family, the newest included, so the
   * thief and the owner both have to log in again.
   */
  async rotateRefreshToken(token: string): Promise<RotationResult> {
    return this.store.transaction(async (sql) => {
      const result = await sql.query<{
        id: string;
        user_id: string;
        family_id: string;
        expired: boolean;
        used_at: Date | null;
        revoked_at: Date | null;
      }>(
        `SELECT id, user_id, family_id, used_at, revoked_at, expires_at <= to_timestamp($2 / 1000.0) AS expired
           FROM auth.refresh_tokens WHERE token_hash = $1 FOR UPDATE`,
        [sha256(token), this.now()],
      );
      const row = result.rows[0];
      if (!row || row.revoked_at !== null) return { kind: 'invalid' };
      if (row.used_at !== null) {
        await this.revokeFamilyWith(sql, row.family_id);
        return { kind: 'reused', familyId: row.family_id };
      }
      if (row.expired) return { kind: 'expired' };
      const users = await sql.query<UserRow>(`SELECT ${USER_COLUMNS} FROM auth.users WHERE id = $1`, [
        row.user_id,
      ]);
      const user = users.rows[0];
      if (!user || user.disabled) return { kind: 'invalid' };
      await sql.query('UPDATE auth.refresh_tokens SET used_at = to_timestamp($2 / 1000.0) WHERE id = $1', [
        row.id,
        this.now(),
      ]);
      const refresh = await this.issueRefreshToken(row.user_id, row.family_id, sql);
      return { kind: 'rotated', user: userOf(user), refresh };
    });
  }

  /**
   * Logs out the login a refresh token belongs to: revokes its whole family. Resolves false when the token is unknown
   * (logout is idempotent for the client either way).
   */
  async logout(token: string): Promise<boolean> {
    const result = await this.store.query<{ family_id: string }>(
      'SELECT family_id FROM auth.refresh_tokens WHERE token_hash = $1',
      [sha256(token)],
    );
    const row = result.rows[0];
    if (!row) return false;
    await this.revokeFamilyWith(this.store, row.family_id);
    return true;
  }

  private async revokeFamilyWith(sql: Pick<SqlExecutor, 'query'>, familyId: string): Promise<void> {
    await sql.query(
      'UPDATE auth.refresh_tokens SET revoked_at = to_timestamp($2 / 1000.0) WHERE family_id = $1 AND revoked_at IS NULL',
      [familyId, this.now()],
    );
  }
}
