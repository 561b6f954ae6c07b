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

  /** How a transaction read a table: whole reads and the rows they returned, index scans and the entries they read. */
  interface TableReads {
    seqScans: number;
    seqRows: number;
    indexScans: number;
    indexEntries: number;
  }

  /**
   * Creates a parent table (vacuumed empty: the planner then believes it has no pages until it is analysed again) and
   * a child referencing it; then, in one transaction of `sql`, for 400 ids: inserts a parent row and a child row, whose
   * foreign-key check looks the parent up by key, and, with `change`, changes the parent row the way grouped booking
   * changes do (a prepared UPDATE … FROM jsonb_to_recordset … LIMIT, joined by key). Returns how the parent was read.
   */
  async function parentReads(sql: Pick<Store, 'transaction'>, change: boolean): Promise<TableReads> {
    const parent = `${table}_parent`;
    const child = `${table}_child`;
    await store.exec(
      `CREATE TABLE ${parent} (id integer PRIMARY KEY, pad text NOT NULL);
       CREATE TABLE ${child} (id serial PRIMARY KEY, parent integer NOT NULL REFERENCES ${parent} (id))`,
    );
    await store.query(`VACUUM ${parent}`);
    try {
      return await sql.transaction(async (tx) => {
        await tx.exec(
          `PREPARE ${parent}_change (jsonb, integer) AS
             UPDATE ${parent} p SET pad = i.pad
               FROM (SELECT * FROM jsonb_to_recordset($1) AS r(id integer, pad text) LIMIT $2) AS i
              WHERE p.id = i.id`,
        );
        for (let id = 0; id < 400; id++) {
          await tx.query(`INSERT INTO ${parent} (id, pad) VALUES ($1, repeat('x', 200))`, [id]);
          await tx.query(`INSERT INTO ${child} (parent) VALUES ($1)`, [id]);
          if (change) await tx.query(`EXECUTE ${parent}_change('[{"id": ${id}, "pad": "y"}]', 1)`);
        }
        await tx.exec(`DEALLOCATE ${parent}_change`);
        const counted = await tx.query<Record<keyof TableReads, string>>(
          `SELECT pg_stat_get_xact_numscans($1::regclass) AS "seqScans",
                  pg_stat_get_xact_tuples_returned($1::regclass) AS "seqRows",
                  pg_stat_get_xact_numscans($2::regclass) AS "indexScans",
                  pg_stat_get_xact_tuples_returned($2::regclass) AS "indexEntries"`,
          [parent, `${parent}_pkey`],
        );
        const row = counted.rows[0] as Record<keyof TableReads, string>;
        return {
          seqScans: Number(row.seqScans),
          seqRows: Number(row.seqRows),
          indexScans: Number(row.indexScans),
          indexEntries: Number(row.indexEntries),
        };
      });
    } finally {
      await store.exec(`DROP TABLE ${child}; DROP TABLE ${parent}`);
    }
  }

  it('plans kept statements afresh: lookups by key first planned on an empty table do not read it once it has grown', async () => {
    const reads = await parentReads(store, true);
    // Planned afresh, the checks and changes read the table whole while it fits a page or two (about the first
    // hundred rows: at most some 10 000 rows read), then probe its key, one entry each. A plan kept from the first
    // runs reads the whole table (or the whole key) for each of the 800: some 160 000 rows or entries.
    expect(reads.seqRows).toBeLessThan(20_000);
    expect(reads.indexEntries).toBeLessThan(1_000);
    expect(reads.indexScans).toBeGreaterThan(500);
  });

  it("keeps the insert writer's foreign-key checks probes: a check first planned on an empty table probes its key once it has grown", async () => {
    const reads = await parentReads(store.insertWriter(), false);
    expect(reads.seqRows).toBeLessThan(10_000);
    expect(reads.indexEntries).toBeLessThan(500);
    expect(reads.indexScans).toBeGreaterThan(250);
    // PostgreSQL's insert writer probes from the first check on; PGlite's is the store itself.
    if (store.insertWriter() !== store) expect(reads).toMatchObject({ seqScans: 0, indexScans: 400 });
  });

  it('keeps the plans of the insert writer (PostgreSQL) and plans everything else afresh', async () => {
    const planCounts = (sql: Pick<Store, 'transaction'>) =>
      sql.transaction(async (tx) => {
        await tx.exec(`PREPARE ${table}_kept AS SELECT count(*) FROM pg_class WHERE oid = $1::regclass`);
        for (let run = 0; run < 10; run++) await tx.query(`EXECUTE ${table}_kept('pg_class')`);
        const counted = await tx.query<{ generic: string; custom: string }>(
          `SELECT generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements WHERE name = $1`,
          [`${table}_kept`],
        );
        await tx.exec(`DEALLOCATE ${table}_kept`);
        return { generic: Number(counted.rows[0]?.generic), custom: Number(counted.rows[0]?.custom) };
      });
    expect(await planCounts(store)).toEqual({ generic: 0, custom: 10 });
    const kept = await planCounts(store.insertWriter());
    if (store.insertWriter() === store) expect(kept).toEqual({ generic: 0, custom: 10 });
    else expect(kept).toEqual({ generic: 5, custom: 5 });
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
