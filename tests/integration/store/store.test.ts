import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../../../engine/migrate.ts';
import { PLAN_CACHE_MODE, type Store } from '../../../engine/store.ts';
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

  it('sets the plan cache mode on every connection', async () => {
    const modes = await Promise.all(
      Array.from({ length: 6 }, () => store.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode')),
    );
    expect(modes.map((result) => result.rows[0]?.plan_cache_mode)).toEqual(
      new Array(6).fill(PLAN_CACHE_MODE),
    );
  });

  it('plans foreign-key checks afresh: a check first planned on an empty table does not scan it once it has grown', async () => {
    const parent = `${table}_parent`;
    const child = `${table}_child`;
    await store.exec(
      `CREATE TABLE ${parent} (id integer PRIMARY KEY, pad text NOT NULL);
       CREATE TABLE ${child} (id serial PRIMARY KEY, parent integer NOT NULL REFERENCES ${parent} (id))`,
    );
    // Vacuumed empty: the planner believes the table has no pages until it is analysed again.
    await store.query(`VACUUM ${parent}`);
    try {
      const scans = await store.transaction(async (sql) => {
        for (let id = 0; id < 400; id++) {
          await sql.query(`INSERT INTO ${parent} (id, pad) VALUES ($1, repeat('x', 200))`, [id]);
          await sql.query(`INSERT INTO ${child} (parent) VALUES ($1)`, [id]);
        }
        const counted = await sql.query<{ seq: string; probes: string }>(
          `SELECT pg_stat_get_xact_numscans($1::regclass) AS seq, pg_stat_get_xact_numscans($2::regclass) AS probes`,
          [parent, `${parent}_pkey`],
        );
        return { seq: Number(counted.rows[0]?.seq), probes: Number(counted.rows[0]?.probes) };
      });
      // Planned afresh, the checks read the table whole while it fits a page or two (about the first hundred rows),
      // then probe its key; a plan kept from the first checks reads the whole table for each of the 400 (no probes).
      expect(scans.seq).toBeLessThan(150);
      expect(scans.probes).toBeGreaterThan(250);
    } finally {
      await store.exec(`DROP TABLE ${child}; DROP TABLE ${parent}`);
    }
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
    const rows = `${table}_tx`;
    await store.exec(
      `CREATE TABLE ${rows} (id text PRIMARY KEY, tags text[] NOT NULL DEFAULT '{}',
         rating real CHECK (rating IS NULL OR (rating >= 0 AND rating <= 5)))`,
    );
    try {
      await store.transaction(async (sql) => {
        await sql.query(`INSERT INTO ${rows} (id, tags) VALUES ($1, $2)`, ['ok', ['therapist']]);
      });
      await expect(
        store.transaction(async (sql) => {
          await sql.query(`INSERT INTO ${rows} (id) VALUES ($1)`, ['bad']);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      // A statement the database refuses changes nothing either.
      await expect(
        store.query(`INSERT INTO ${rows} (id, rating) VALUES ($1, 7)`, ['rated']),
      ).rejects.toThrow();
      const result = await store.query<{ id: string; tags: string[] }>(
        `SELECT id, tags FROM ${rows} ORDER BY id`,
      );
      expect(result.rows).toEqual([{ id: 'ok', tags: ['therapist'] }]);
    } finally {
      await store.exec(`DROP TABLE IF EXISTS ${rows}`);
    }
  });

  it('has dropped the roster table doctor profiles replaced', async () => {
    const result = await store.query<{ name: string | null }>(
      `SELECT to_regclass('fleet.doctors')::text AS name`,
    );
    expect(result.rows).toEqual([{ name: null }]);
  });

  it('pings', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
