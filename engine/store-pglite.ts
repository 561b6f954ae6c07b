import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { PLAN_CACHE_MODE, type QueryResult, type SqlExecutor, type Store } from './store.ts';

/**
 * The embedded store: PostgreSQL compiled to WebAssembly (PGlite) with PostGIS, in a directory or in memory. Same SQL
 * as {@link PostgresStore}; one connection, so statements run one at a time.
 */
export class PgliteStore implements Store {
  readonly kind = 'pglite';

  private constructor(private readonly db: PGlite) {}

  /** Opens (or creates) the database in `dataDir`, or in memory when it is undefined. Loading PostGIS takes seconds. */
  static async open(dataDir?: string): Promise<PgliteStore> {
    if (dataDir) await mkdir(dataDir, { recursive: true });
    const db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { postgis } });
    await db.exec(`SET plan_cache_mode = ${PLAN_CACHE_MODE}`);
    return new PgliteStore(db);
  }

  async query<Row = Record<string, unknown>>(
    text: string,
    params: readonly unknown[] = [],
  ): Promise<QueryResult<Row>> {
    const result = await this.db.query<Row>(text, params as unknown[]);
    return { rows: result.rows };
  }

  async exec(script: string): Promise<void> {
    await this.db.exec(script);
  }

  async transaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(async (tx) =>
      fn({
        query: async <Row>(text: string, params: readonly unknown[] = []) => ({
          rows: (await tx.query<Row>(text, params as unknown[])).rows,
        }),
        exec: async (script: string) => {
          await tx.exec(script);
        },
      }),
    );
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /**
   * The store itself: with one connection there are no connections of its own to give the inserts, and settings
   * changed around each of them would cost more than the planning they save.
   */
  insertWriter(): PgliteStore {
    return this;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
