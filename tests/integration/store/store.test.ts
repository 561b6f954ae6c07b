import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../../engine/migrate.ts';
import type { Store } from '../../../engine/store.ts';
import { storeImplementations } from '../../support/stores.ts';

/** One suite, every implementation of the store interface. */

describe.each(storeImplementations)('store: %s', (_name, open) => {
  let store: Store;
  const table = `store_suite_${process.pid}_${Math.floor(Math.random() * 1e6)}`;

  beforeAll(async () => {
    store = await open();
    await migrate(store);
  });
  afterAll(async () => {
    await store.exec(`DROP TABLE IF EXISTS ${table}`);
    await store.close();
  });

  it('has applied every migration exactly once, and a second run applies nothing', async () => {
    const names = (await readMigrations()).map((migration) => migration.name);
    const rows = await store.query<{ name: string }>('SELECT name FROM tot_migrations ORDER BY name');
    // A database shared with a newer checkout may hold later migrations too; ours must all be there.
    expect(rows.rows.map((row) => row.name)).toEqual(expect.arrayContaining(names));
    expect(await migrate(store)).toEqual([]);
  });

  it('answers PostGIS geography queries', async () => {
    await store.exec(`CREATE TABLE ${table} (id text PRIMARY KEY, geog geography(Point, 4326) NOT NULL)`);
    await store.query(
      `INSERT INTO ${table} (id, geog) VALUES ($1, ST_MakePoint($2, $3)::geography), ($4, ST_MakePoint($5, $6)::geography)`,
      ['near', 37.62, 55.755, 'far', 37.9, 55.9],
    );
    const rows = await store.query<{ id: string }>(
      `SELECT id FROM ${table} WHERE ST_DWithin(geog, ST_MakePoint($1, $2)::geography, $3) ORDER BY id`,
      [37.6173, 55.7558, 1000],
    );
    expect(rows.rows.map((row) => row.id)).toEqual(['near']);
  });

  it('commits a transaction and rolls back one that throws', async () => {
    await store.transaction(async (sql) => {
      await sql.query(`INSERT INTO fleet.doctors (id, specializations) VALUES ($1, $2)`, [
        `tx-ok-${table}`,
        ['therapist'],
      ]);
    });
    await expect(
      store.transaction(async (sql) => {
        await sql.query(`INSERT INTO fleet.doctors (id) VALUES ($1)`, [`tx-bad-${table}`]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const rows = await store.query<{ id: string; specializations: string[] }>(
      'SELECT id, specializations FROM fleet.doctors WHERE id LIKE $1 ORDER BY id',
      [`tx-%-${table}`],
    );
    expect(rows.rows).toEqual([{ id: `tx-ok-${table}`, specializations: ['therapist'] }]);
    await store.query('DELETE FROM fleet.doctors WHERE id LIKE $1', [`tx-%-${table}`]);
  });

  it('rejects a rating outside 0..5 and changes nothing', async () => {
    await expect(
      store.query(`INSERT INTO fleet.doctors (id, rating) VALUES ($1, 7)`, [`bad-${table}`]),
    ).rejects.toThrow();
    const rows = await store.query('SELECT 1 FROM fleet.doctors WHERE id = $1', [`bad-${table}`]);
    expect(rows.rows).toEqual([]);
  });

  it('pings', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
