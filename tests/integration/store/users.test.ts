import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../engine/audit-log.ts';
import { migrate } from '../../../engine/migrate.ts';
import type { Store } from '../../../engine/store.ts';
import { storeImplementations } from '../../support/stores.ts';
import { UserStore } from '../../../engine/users.ts';

describe.each(storeImplementations)('users, refresh tokens and audit log: %s', (_name, open) => {
  let store: Store;
  const tag = `u${process.pid}x${Math.floor(Math.random() * 1e9)}`;
  const email = (name: string) => `${name}.${tag}@example.test`;
  const password = 'a long enough password';

  beforeAll(async () => {
    store = await open();
    await migrate(store);
  });
  afterAll(async () => {
    await store.query('DELETE FROM auth.users WHERE email LIKE $1', [`%.${tag}@example.test`]);
    await store.query('DELETE FROM security.audit_log WHERE path LIKE $1', [`/${tag}/%`]);
    await store.close();
  });

  it('registers a patient once per e-mail (any case) and authenticates only the right password', async () => {
    const users = new UserStore(store, { refreshTtlMs: 60_000 });
    const user = await users.register({ email: email('Ann').toUpperCase(), password, displayName: 'Ann' });
    expect(user).toMatchObject({ email: email('ann'), role: 'patient', displayName: 'Ann', disabled: false });
    expect(await users.register({ email: email('ann'), password, displayName: 'Other' })).toBeUndefined();
    expect(await users.authenticate(email('ANN'), password)).toEqual(user);
    expect(await users.authenticate(email('ann'), 'a wrong password!')).toBeUndefined();
    expect(await users.authenticate(email('nobody'), password)).toBeUndefined();
    expect(await users.get(user!.id)).toEqual(user);
    expect(await users.get('not-a-uuid')).toBeUndefined();
    expect(await users.setRole(user!.id, 'dispatcher')).toMatchObject({ role: 'dispatcher' });
    const stored = await store.query<{ password_hash: string }>(
      'SELECT password_hash FROM auth.users WHERE id = $1',
      [user!.id],
    );
    expect(stored.rows[0]?.password_hash).toMatch(/^scrypt\$/);
  });

  it('rotates refresh tokens and revokes the whole family when a used one comes back', async () => {
    const users = new UserStore(store, { refreshTtlMs: 60_000 });
    const user = await users.register({ email: email('bob'), password, displayName: 'Bob' });
    const first = await users.issueRefreshToken(user!.id);
    const second = await users.rotateRefreshToken(first.token);
    expect(second).toMatchObject({ kind: 'rotated', user: { id: user!.id } });
    if (second.kind !== 'rotated') throw new Error('not rotated');
    expect(second.refresh.familyId).toBe(first.familyId);

    expect(await users.rotateRefreshToken(first.token)).toEqual({ kind: 'reused', familyId: first.familyId });
    // The newest token of the family died with it.
    expect(await users.rotateRefreshToken(second.refresh.token)).toEqual({ kind: 'invalid' });
    expect(await users.rotateRefreshToken('unknown.token')).toEqual({ kind: 'invalid' });

    // Logout revokes its family; another login of the same user is untouched.
    const login = await users.issueRefreshToken(user!.id);
    const other = await users.issueRefreshToken(user!.id);
    expect(await users.logout(login.token)).toBe(true);
    expect(await users.rotateRefreshToken(login.token)).toEqual({ kind: 'invalid' });
    expect((await users.rotateRefreshToken(other.token)).kind).toBe('rotated');
  });

  it('refuses an expired refresh token', async () => {
    let clock = Date.now();
    const users = new UserStore(store, { refreshTtlMs: 1_000, clock: () => clock });
    const user = await users.register({ email: email('cat'), password, displayName: 'Cat' });
    const token = await users.issueRefreshToken(user!.id);
    clock += 2_000;
    expect(await users.rotateRefreshToken(token.token)).toEqual({ kind: 'expired' });
  });

  it('writes audit entries in batches and lists them by user and time, newest first', async () => {
    const users = new UserStore(store, { refreshTtlMs: 60_000 });
    const user = await users.register({ email: email('dan'), password, displayName: 'Dan' });
    const audit = new AuditLog({ store, batchRows: 2 });
    const base = Date.UTC(2026, 10, 22, 9);
    for (let i = 0; i < 5; i++) {
      audit.append({
        at: base + i * 1000,
        userId: i % 2 === 0 ? user!.id : null,
        role: i % 2 === 0 ? 'patient' : null,
        method: 'POST',
        path: `/${tag}/things`,
        target: `t${i}`,
        status: 201,
        ip: '127.0.0.1',
        ...(i === 4 ? { detail: { code: 'API_FORBIDDEN' } } : {}),
      });
    }
    expect(audit.pending).toBe(5);
    expect(await audit.flush()).toBe(5);
    expect(audit.pending).toBe(0);
    const mine = await audit.list({ userId: user!.id, limit: 10 });
    expect(mine.map((entry) => entry.target)).toEqual(['t4', 't2', 't0']);
    expect(mine[0]).toMatchObject({
      at: base + 4000,
      role: 'patient',
      status: 201,
      detail: { code: 'API_FORBIDDEN' },
    });
    const window = await audit.list({ userId: user!.id, from: base + 1000, to: base + 4000, limit: 10 });
    expect(window.map((entry) => entry.target)).toEqual(['t2']);
  });

  it('keeps audit entries when the store fails and counts the failure', async () => {
    const audit = new AuditLog({
      store: {
        query: () => Promise.reject(new Error('store down')),
        exec: () => Promise.reject(new Error('store down')),
      },
      maxBufferedRows: 2,
    });
    const entry = {
      at: 0,
      userId: null,
      role: null,
      method: 'POST',
      path: '/x',
      target: null,
      status: 200,
      ip: null,
    };
    audit.append(entry);
    audit.append(entry);
    audit.append(entry);
    expect(audit.dropped).toBe(1);
    await expect(audit.flush()).rejects.toThrow('store down');
    expect(audit.failedFlushes).toBe(1);
    expect(audit.pending).toBe(2);
  });
});
