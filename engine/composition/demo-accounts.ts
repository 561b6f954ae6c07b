/**
 * Accounts for trying the embedded default: a dispatcher (for /console), a patient (for /patient) and an admin. Only
 * when the engine runs its city simulator on the embedded store — a demo with nothing real in it. The password is
 * random per data directory, kept in DATA_DIR/demo-accounts.json (readable by the owner only) and logged at start, so
 * that no well-known password ever opens a running engine.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import type { Role, UserStore } from '../users.ts';

/** The demo accounts' e-mails and roles. */
export const DEMO_ACCOUNTS: readonly { email: string; role: Role; displayName: string }[] = [
  { email: 'dispatcher@demo.test', role: 'dispatcher', displayName: 'Demo dispatcher' },
  { email: 'patient@demo.test', role: 'patient', displayName: 'Demo patient' },
  { email: 'admin@demo.test', role: 'admin', displayName: 'Demo admin' },
];

/**
 * Creates the demo accounts that do not exist yet and logs how to sign in. The password file is written before the
 * accounts, so a crash in between leaves a password that still opens them on the next start; an in-memory store
 * (`dataDir` undefined) gets a fresh password every time.
 */
export async function createDemoAccounts(
  users: Pick<UserStore, 'register'>,
  dataDir: string | undefined,
  logger: Logger,
): Promise<void> {
  const password = demoPassword(dataDir);
  let created = 0;
  for (const account of DEMO_ACCOUNTS) {
    const user = await users.register(
      { email: account.email, password, displayName: account.displayName },
      account.role,
    );
    if (user) created++;
  }
  logger.info(
    { accounts: DEMO_ACCOUNTS.map((account) => account.email), password, created },
    'demo accounts (embedded default with the city simulator): sign in at /console, /patient',
  );
}

function demoPassword(dataDir: string | undefined): string {
  if (dataDir === undefined) return randomBytes(12).toString('base64url');
  const file = join(dataDir, 'demo-accounts.json');
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { password?: unknown };
    if (typeof saved.password === 'string' && saved.password.length >= 10) return saved.password;
  } catch {
    // No file yet (or an unreadable one): a new password below.
  }
  const password = randomBytes(12).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ password })}\n`, { mode: 0o600 });
  return password;
}
