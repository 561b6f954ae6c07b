import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from './store.ts';

/** The folder of the SQL migrations: `NNNN_name.sql`, applied in name order, each once. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** A migration file. */
export interface Migration {
  name: string;
  sql: string;
}

/** Reads the migrations of `directory` in name order. */
export async function readMigrations(directory: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(directory)).filter((name) => /^\d{4}_[a-z0-9_]+\.sql$/.test(name)).sort();
  return Promise.all(
    names.map(async (name) => ({ name, sql: await readFile(join(directory, name), 'utf8') })),
  );
}

/**
 * Applies the migrations not yet recorded in `tot_migrations`, each in its own transaction together with its record,
 * under an advisory lock so that two engines starting at once do not both apply one. Returns the names applied.
 */
export async function migrate(store: Store, migrations?: readonly Migration[]): Promise<string[]> {
  const pending = migrations ?? (await readMigrations());
  await store.exec(
    'CREATE TABLE IF NOT EXISTS tot_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied: string[] = [];
  for (const migration of pending) {
    const done = await store.transaction(async (sql) => {
      // Serialises concurrent migrators; released at the end of the transaction.
      await sql.query('SELECT pg_advisory_xact_lock(7007001)');
      const seen = await sql.query('SELECT 1 FROM tot_migrations WHERE name = $1', [migration.name]);
      if (seen.rows.length > 0) return false;
      await sql.exec(migration.sql);
      await sql.query('INSERT INTO tot_migrations (name) VALUES ($1)', [migration.name]);
      return true;
    });
    if (done) applied.push(migration.name);
  }
  return applied;
}
