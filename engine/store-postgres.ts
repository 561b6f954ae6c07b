import pg from 'pg';
import {
  INSERT_WRITER_SETTINGS,
  PLAN_CACHE_MODE,
  type QueryResult,
  type SqlExecutor,
  type Store,
} from './store.ts';

/** Connections of {@link PostgresStore.insertWriter}: as many as grouped booking writes go out at once (engine/main.ts). */
const INSERT_WRITER_CONNECTIONS = 2;

/**
 * How the store's connections name themselves to PostgreSQL (`application_name`, in pg_stat_activity and the server's
 * log), unless the connection string names them: the pool, and the insert writer's own connections.
 */
export const APPLICATION_NAME = 'tot-dispatch';
export const INSERT_WRITER_APPLICATION_NAME = 'tot-dispatch-inserts';

/** The PostgreSQL store over a `pg` connection pool. */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;
  private insertWrites: PostgresStore | undefined;

  /**
   * Opens a pool to `connectionString`; connections are made lazily.
   *
   * @param options.settings the connections' settings, by default `plan_cache_mode` {@link PLAN_CACHE_MODE}.
   * @param options.applicationName default {@link APPLICATION_NAME}.
   */
  constructor(
    private readonly connectionString: string,
    options: {
      maxConnections?: number;
      settings?: Readonly<Record<string, string>>;
      applicationName?: string;
    } = {},
  ) {
    const settings = options.settings ?? { plan_cache_mode: PLAN_CACHE_MODE };
    this.pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      application_name: options.applicationName ?? APPLICATION_NAME,
      // Start-up parameters, so every connection has them before its first query. (A SET sent from the pool's
      // 'connect' event ran alongside the first query: pg warns of that, and pg 9 refuses it.)
      options: Object.entries(settings)
        .map(([name, value]) => `-c ${name}=${value}`)
        .join(' '),
    });
    // An idle client losing its connection must not crash the process; the next query reports the error.
    this.pool.on('error', () => {});
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

  /**
   * A pool of its own ({@link INSERT_WRITER_CONNECTIONS} connections, {@link INSERT_WRITER_SETTINGS}, named
   * {@link INSERT_WRITER_APPLICATION_NAME}), opened lazily. Typed as the executor it is, not as a store, so that
   * nobody asks it for an insert writer of its own.
   */
  insertWriter(): SqlExecutor & Pick<Store, 'transaction'> {
    this.insertWrites ??= new PostgresStore(this.connectionString, {
      maxConnections: INSERT_WRITER_CONNECTIONS,
      settings: INSERT_WRITER_SETTINGS,
      applicationName: INSERT_WRITER_APPLICATION_NAME,
    });
    return this.insertWrites;
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.insertWrites?.close()]);
  }
}
