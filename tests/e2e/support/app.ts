import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEngineProcess, waitUntilReady, type EngineProcess } from '../../support/engine-process.ts';
import { waitFor } from '../../support/wait.ts';

/** Test values only. */
export const JWT_SECRET = 'e2e-suite-secret-0123456789abcdef0123';
export const ADMIN = { email: 'admin@example.test', password: 'admin password 123' };
export const PASSWORD = 'e2e password 12345';

/** A reply of the API. */
export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

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
  /** Calls the API; `token` is sent as the bearer. */
  api(method: string, pathname: string, options?: { token?: string; body?: unknown }): Promise<Reply>;
  /** Registers a user, gives it `role` (through the admin) and signs it in. */
  createUser(name: string, role: 'patient' | 'doctor' | 'dispatcher' | 'admin'): Promise<TestUser>;
  /** The admin's access token. */
  adminToken(): Promise<string>;
  /** Stops the engine (SIGTERM, then SIGKILL after a bound) and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts an embedded engine (PGlite in memory, in-process bus) with an admin, a fixed JWT key and limits a test can
 * live with, plus `environment`; resolves once /readyz is 200.
 */
export async function startApp(environment: Record<string, string> = {}): Promise<E2eApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tot-e2e-'));
  let engine: EngineProcess;
  try {
    engine = await startEngineProcess({
      DATA_DIR: dataDir,
      PGLITE_IN_MEMORY: 'true',
      JWT_SECRET,
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_AUTH_PER_MINUTE: '10000',
      RATE_LIMIT_PER_MINUTE: '1000000',
      ...environment,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = (pathname: string) => engine.url(pathname);
  const api: E2eApp['api'] = async (method, pathname, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url(pathname), {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    let body: Record<string, unknown> = {};
    if (text !== '') {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { text };
      }
    }
    return { status: response.status, body };
  };
  const login = async (email: string, password: string): Promise<string> => {
    const reply = await api('POST', '/v1/auth/login', { body: { email, password } });
    if (reply.status !== 200)
      throw new Error(`login of ${email} failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    return reply.body['accessToken'] as string;
  };
  let admin: string | undefined;
  // The bootstrap admin is created just after the store reports ready: the first logins may come too early.
  const adminToken = async () =>
    (admin ??= await waitFor(() => login(ADMIN.email, ADMIN.password).catch(() => undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'the bootstrap admin signing in',
    }));
  const app: E2eApp = {
    engine,
    url,
    api,
    adminToken,
    createUser: async (name, role) => {
      const email = `${name}@example.test`;
      const registered = await api('POST', '/v1/auth/register', {
        body: { email, password: PASSWORD, displayName: name },
      });
      if (registered.status !== 201) {
        throw new Error(`register ${email}: ${registered.status} ${JSON.stringify(registered.body)}`);
      }
      const id = registered.body['id'] as string;
      if (role !== 'patient') {
        const changed = await api('PATCH', `/v1/users/${id}/role`, {
          token: await adminToken(),
          body: { role },
        });
        if (changed.status !== 200)
          throw new Error(`role of ${email}: ${changed.status} ${JSON.stringify(changed.body)}`);
      }
      return { id, email, password: PASSWORD, accessToken: await login(email, PASSWORD) };
    },
    stop: async () => {
      if (engine.child.exitCode === null && engine.child.signalCode === null) {
        engine.child.kill('SIGTERM');
        const timer = setTimeout(() => engine.child.kill('SIGKILL'), 15_000);
        await engine.exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntilReady(engine, 90_000);
  } catch (error) {
    await app.stop();
    throw error;
  }
  return app;
}
