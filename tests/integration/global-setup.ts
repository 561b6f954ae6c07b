/**
 * Global setup of the `integration` vitest project: makes sure the real PostgreSQL+PostGIS, Redis and Kafka run (through
 * `scripts/services.sh up`, the same script developers and CI use) and tells the test files where they are.
 *
 * Test files see `KAFKA_BROKERS`, `DATABASE_URL` and `REDIS_URL` both in `process.env` and through `inject(NAME)`.
 * Services are left running afterwards (the next run reuses them); `npm run services:down` stops them.
 *
 * With `TOT_SERVICES_EXTERNAL=1` nothing is started: the three variables come from the environment, or else from
 * `services.env` in the data directory.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

/** The variables the services script writes and the test files read. */
export const SERVICE_VARIABLES = ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL'] as const;

/** One of {@link SERVICE_VARIABLES}. */
export type ServiceVariable = (typeof SERVICE_VARIABLES)[number];

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated `host:port` list of Kafka brokers. */
    KAFKA_BROKERS: string;
    /** `postgres://` URL of the database with PostGIS. */
    DATABASE_URL: string;
    /** `redis://` URL. */
    REDIS_URL: string;
  }
}

const repositoryRoot = path.resolve(import.meta.dirname, '../..');

/** Where the services script keeps its data and `services.env`: TOT_DATA_DIR (relative: to the cwd) or `.data/`. */
function dataDirectory(): string {
  const configured = process.env.TOT_DATA_DIR;
  return configured ? path.resolve(process.cwd(), configured) : path.join(repositoryRoot, '.data');
}

/**
 * Parses `KEY=VALUE` lines (blank lines and `#` comments ignored).
 *
 * @throws Error naming the file and line when a line is neither.
 */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const values: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const equals = line.indexOf('=');
    if (equals <= 0) throw new Error(`${file}:${index + 1}: expected KEY=VALUE, got "${line}"`);
    values[line.slice(0, equals)] = line.slice(equals + 1);
  });
  return values;
}

/** Runs `bash scripts/services.sh up`, its output going to ours; rejects if it fails. */
function startServices(): Promise<void> {
  const script = path.join(repositoryRoot, 'scripts', 'services.sh');
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, 'up'], {
      cwd: process.cwd(),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', (error) => reject(new Error(`could not run bash ${script} up: ${error.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`bash ${script} up failed (exit code ${code}, signal ${signal}); see its output above`),
        );
    });
  });
}

/**
 * Starts the services unless `TOT_SERVICES_EXTERNAL=1`, then provides their addresses to the test files.
 *
 * @throws Error when the services script fails or an address is known neither from the environment nor services.env.
 */
export default async function setup(project: TestProject): Promise<void> {
  if (process.env.TOT_SERVICES_EXTERNAL !== '1') await startServices();

  const envFile = path.join(dataDirectory(), 'services.env');
  const fromFile = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, 'utf8'), envFile) : {};
  for (const name of SERVICE_VARIABLES) {
    const value = process.env[name] || fromFile[name];
    if (!value) {
      throw new Error(
        `${name} is not set and ${envFile} does not define it: run "bash scripts/services.sh up" or set ${name}`,
      );
    }
    // Set before vitest spawns the test workers, which inherit this environment.
    process.env[name] = value;
    project.provide(name, value);
  }
}
