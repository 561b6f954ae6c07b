import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoAccounts, DEMO_ACCOUNTS } from '../../../engine/composition/demo-accounts.ts';
import { createLogger } from '../../../engine/logger.ts';
import type { Registration, Role, User } from '../../../engine/users.ts';

/** Records registrations like the user store would: an e-mail registers once. */
function recordingUsers() {
  const registered = new Map<string, { password: string; role: Role }>();
  return {
    registered,
    register: async (input: Registration, role: Role = 'patient'): Promise<User | undefined> => {
      if (registered.has(input.email)) return undefined;
      registered.set(input.email, { password: input.password, role });
      return { id: input.email, email: input.email, role, displayName: input.displayName } as User;
    },
  };
}

describe('demo accounts of the embedded default', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const logger = createLogger('silent');

  it('creates a dispatcher, a patient and an admin with one random password kept in the data directory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tot-demo-'));
    dirs.push(dir);
    const users = recordingUsers();
    await createDemoAccounts(users, dir, logger);
    expect([...users.registered.keys()]).toEqual(DEMO_ACCOUNTS.map((account) => account.email));
    expect(users.registered.get('dispatcher@demo.test')?.role).toBe('dispatcher');
    const file = path.join(dir, 'demo-accounts.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { password: string };
    expect(saved.password.length).toBeGreaterThanOrEqual(10);
    expect(users.registered.get('patient@demo.test')?.password).toBe(saved.password);
    expect(statSync(file).mode & 0o077).toBe(0);

    // The next start reads the same password back, so the accounts it created still open.
    const again = recordingUsers();
    await createDemoAccounts(again, dir, logger);
    expect(again.registered.get('admin@demo.test')?.password).toBe(saved.password);
  });

  it('gives an in-memory store a fresh password each start', async () => {
    const first = recordingUsers();
    const second = recordingUsers();
    await createDemoAccounts(first, undefined, logger);
    await createDemoAccounts(second, undefined, logger);
    expect(first.registered.get('dispatcher@demo.test')?.password).not.toBe(
      second.registered.get('dispatcher@demo.test')?.password,
    );
  });
});
