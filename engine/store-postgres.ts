import pg from 'pg';
import type { QueryResult, SqlExecutor, Store } from './store.ts';

/**
 * How a connection plans the statements it keeps (the named ones, and the foreign-key checks PostgreSQL runs for each
 * row written): afresh each time. A kept plan is made once and kept for the connection's life, so one made while a
 * table was empty scans it whole for ever after — each status update's check that its booking exists read every
 * booking, 177 million rows in a 12-second bench run on a freshly vacuumed database. Planning each time costs tens of
 * microseconds.
 */
export const PLAN_CACHE_MODE = 'force_custom_plan';

/** The PostgreSQL store over a `pg` connection pool. */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;

  /** Opens a pool to `connectionString`; connections are made lazily. */
  constructor(connectionString: string, options: { maxConnections?: number } = {}) {
    this.pool = new pg.Pool({ connectionString, max: options.maxConnections ?? 10 });
    // An idle client losing its connection must not crash the process; the next query reports the error.
    this.pool.on('error', () => {});
    // Runs before the connection's first query (a client runs its queries in order).
    this.pool.on('connect', (client) => {
      client.query(`SET plan_cache_mode = ${PLAN_CACHE_MODE}`).catch(() => {});
    });
  }

  async query<Row = Record<string, unknown>>(
    text: string,
    params: readonly unknown[] = [],
    prepared?: string,
  ): Promise<QueryResult<Row>> {
    const values = params as unknown[];
    const result = await this.pool.query(
      prepared === undefined ? { text, values } : { name: prepared, text, values },
    );
    return { rows: result.rows as Row[] };
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const sql: SqlExecutor = {
        query: async <Row>(text: string, params: readonly unknown[] = []) => ({
          rows: (await client.query(text, params as unknown[])).rows as Row[],
        }),
        exec: async (script: string) => {
          await client.query(script);
        },
      };
      const result = await fn(sql);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
