import { TEST_PASSWORD, type Reply } from '../../support/api-client.ts';
import { startApiEngine, TEST_ADMIN } from '../../support/api-engine.ts';
import type { EngineProcess } from '../../support/engine-process.ts';

export type { Reply } from '../../support/api-client.ts';

/** Test values only. */
export const JWT_SECRET = 'e2e-suite-secret-0123456789abcdef0123';
/** The bootstrap admin of every app (the one {@link startApiEngine} makes). */
export const ADMIN = TEST_ADMIN;
/** The password of every user {@link E2eApp.createUser} makes. */
export const PASSWORD = TEST_PASSWORD;

/** How long a stopping engine gets to shut down cleanly before it is killed. */
const STOP_GRACE_MS = 15_000;

/** A user made for a test, signed in. */
export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
}

/** An engine process for a browser test, with helpers to call its API. */
export interface E2eApp {
  engine: EngineProcess;
  url(pathname: string): string;
  /** Calls the API; `token` is sent as the bearer. Rejects when the answer is not JSON. */
  api(method: string, pathname: string, options?: { token?: string; body?: unknown }): Promise<Reply>;
  /** Registers a user, gives it `role` (through the admin) and signs it in. */
  createUser(name: string, role: 'patient' | 'doctor' | 'dispatcher' | 'admin'): Promise<TestUser>;
  /** The admin's access token. */
  adminToken(): Promise<string>;
  /** Stops the engine (SIGTERM, then SIGKILL after a bound) and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts an embedded engine through {@link startApiEngine} (PGlite in memory, in-process bus, no simulator unless
 * `SIMULATOR=true`) with the admin, a fixed JWT key and a sign-in limit a test can live with, plus `environment`;
 * resolves once /readyz is 200 and the admin can sign in.
 *
 * @throws Error when the engine does not start, get ready or let the admin sign in within the bounds.
 */
export async function startApp(environment: Record<string, string> = {}): Promise<E2eApp> {
  // A simulated city of a few thousand doctors makes start-up slow on a loaded machine: wider bounds than the API suites.
  const { engine, api, stop } = await startApiEngine(
    'e2e',
    { JWT_SECRET, RATE_LIMIT_AUTH_PER_MINUTE: '10000', ...environment },
    { readyTimeoutMs: 90_000, adminLoginTimeoutMs: 30_000 },
  );
  let admin: string | undefined;
  const adminToken = async () => (admin ??= await api.login(ADMIN.email, ADMIN.password));
  return {
    engine,
    url: (pathname) => engine.url(pathname),
    api: (method, pathname, options = {}) => api.send(method, pathname, options),
    adminToken,
    createUser: async (name, role) => {
      const { id, email } = await api.register(name);
      if (role !== 'patient') {
        const changed = await api.send('PATCH', `/v1/users/${id}/role`, {
          token: await adminToken(),
          body: { role },
        });
        if (changed.status !== 200)
          throw new Error(`role of ${email}: ${changed.status} ${JSON.stringify(changed.body)}`);
      }
      return { id, email, password: PASSWORD, accessToken: await api.login(email) };
    },
    stop: async () => {
      // SIGTERM first: the engine closes its sockets and store itself, and the data directory goes once it has exited.
      if (engine.child.exitCode === null && engine.child.signalCode === null) {
        engine.child.kill('SIGTERM');
        const timer = setTimeout(() => engine.child.kill('SIGKILL'), STOP_GRACE_MS);
        await engine.exited;
        clearTimeout(timer);
      }
      stop();
    },
  };
}
