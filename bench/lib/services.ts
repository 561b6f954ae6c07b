/**
 * Where the peer services of the benchmarks (Redis, PostgreSQL/PostGIS) are: REDIS_URL and DATABASE_URL from the
 * environment, or else the project's own native services, started with `bash scripts/services.sh up postgres redis`
 * (idempotent) and read from the env file it writes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Reporter } from './harness.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ServiceUrls {
  redisUrl?: string;
  databaseUrl?: string;
}

function parseEnvFile(path: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values[match[1] as string] = (match[2] as string).trim().replace(/^["']|["']$/g, '');
  }
  return values;
}

/** URLs of the peers; a peer whose URL cannot be found is left out (the bench then skips it, saying so). */
export function serviceUrls(reporter: Reporter): ServiceUrls {
  const fromEnv: ServiceUrls = {};
  if (process.env['REDIS_URL']) fromEnv.redisUrl = process.env['REDIS_URL'];
  if (process.env['DATABASE_URL']) fromEnv.databaseUrl = process.env['DATABASE_URL'];
  if (fromEnv.redisUrl && fromEnv.databaseUrl) return fromEnv;
  reporter.note(
    'REDIS_URL / DATABASE_URL not set: starting the native services (scripts/services.sh up postgres redis)',
  );
  const result = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'services.sh'), 'up', 'postgres', 'redis'], {
    cwd: REPO_ROOT,
    // The script's output goes to stderr so that it never mixes with --json lines on stdout.
    stdio: ['ignore', 2, 2],
  });
  if (result.status !== 0) {
    reporter.note(`scripts/services.sh up failed (exit ${String(result.status)}); peers will be skipped`);
    return fromEnv;
  }
  const envFile = join(process.env['TOT_DATA_DIR'] ?? join(REPO_ROOT, '.data'), 'services.env');
  if (!existsSync(envFile)) {
    reporter.note(`${envFile} not found after scripts/services.sh up; peers will be skipped`);
    return fromEnv;
  }
  const values = parseEnvFile(envFile);
  return {
    ...(values['REDIS_URL'] ? { redisUrl: values['REDIS_URL'] } : {}),
    ...(values['DATABASE_URL'] ? { databaseUrl: values['DATABASE_URL'] } : {}),
    ...fromEnv,
  };
}
