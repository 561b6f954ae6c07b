import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apiClient } from './api-client.ts';
import { startEngineProcess, waitUntilReady, type EngineProcess } from './engine-process.ts';
import { waitFor } from './wait.ts';

/** The bootstrap admin of engines started by {@link startApiEngine}. Test values only. */
export const TEST_ADMIN = { email: 'admin@example.test', password: 'admin password 123' };

/** An embedded engine for API suites, its JSON client, and how to stop it. */
export interface ApiEngine {
  engine: EngineProcess;
  api: ReturnType<typeof apiClient>;
  /** Kills the engine and removes its data directory. */
  stop(): void;
}

/** Options of {@link startApiEngine}. */
export interface ApiEngineOptions {
  /** Bootstrap {@link TEST_ADMIN} and wait for its login. Default true. */
  admin?: boolean;
  /** Bound of the wait for /readyz 200. Default 60 s. */
  readyTimeoutMs?: number;
  /** Bound of the wait for the admin's first login. Default 10 s. */
  adminLoginTimeoutMs?: number;
}

/**
 * Starts an embedded engine (PGlite in memory, no simulator, its own data directory) for the suite `name`, with
 * {@link TEST_ADMIN} as bootstrap admin unless `admin` is false, and `environment` on top. Resolves once /readyz
 * answers 200 and, with an admin, once the admin can log in (the bootstrap admin is created just after the store
 * reports ready). Stops the engine again if it does not get there.
 */
export async function startApiEngine(
  name: string,
  environment: Record<string, string> = {},
  options: ApiEngineOptions = {},
): Promise<ApiEngine> {
  const withAdmin = options.admin ?? true;
  const dataDir = mkdtempSync(path.join(tmpdir(), `tot-${name}-`));
  let engine: EngineProcess;
  try {
    engine = await startEngineProcess({
      DATA_DIR: dataDir,
      SIMULATOR: 'false',
      PGLITE_IN_MEMORY: 'true',
      JWT_SECRET: `${name}-suite-secret-0123456789abcdef`,
      ...(withAdmin ? { ADMIN_EMAIL: TEST_ADMIN.email, ADMIN_PASSWORD: TEST_ADMIN.password } : {}),
      ...environment,
    });
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const stop = () => {
    engine.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  const api = apiClient(engine);
  try {
    await waitUntilReady(engine, options.readyTimeoutMs ?? 60_000);
    if (withAdmin) {
      await waitFor(
        async () =>
          (await api.send('POST', '/v1/auth/login', { body: TEST_ADMIN })).status === 200 ? true : undefined,
        { what: 'bootstrap admin login', intervalMs: 200, timeoutMs: options.adminLoginTimeoutMs ?? 10_000 },
      );
    }
  } catch (error) {
    stop();
    throw error;
  }
  return { engine, api, stop };
}
