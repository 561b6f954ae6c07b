/**
 * The store interface: what the engine keeps in PostgreSQL (with PostGIS). Two implementations honour it and one test
 * suite runs against both: {@link PostgresStore} (engine/store-postgres.ts, `pg`) for production and
 * {@link PgliteStore} (engine/store-pglite.ts, PGlite with its PostGIS extension) for the embedded default.
 */

/**
 * How a connection plans the statements it keeps (the named ones, and the foreign-key checks PostgreSQL runs for each
 * row written): afresh each time. A kept plan is made once and kept for the connection's life, so one made while a
 * table was empty scans it whole for ever after — each status update's check that its booking exists read every
 * booking, 177 million rows in a 12-second bench run on a freshly vacuumed database. Planning each time costs tens of
 * microseconds.
 */
export const PLAN_CACHE_MODE = 'force_custom_plan';

/** Rows of a query. */
export interface QueryResult<Row> {
  rows: Row[];
}

/** The SQL surface both implementations share: parameterised queries and multi-statement scripts. */
export interface SqlExecutor {
  /**
   * Runs one parameterised statement ($1, $2, …). `prepared` names a statement run very often, always with this text:
   * a store that can keeps it parsed per connection, others run it as any. It is still planned for each run, with
   * its values ({@link PLAN_CACHE_MODE}).
   */
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    prepared?: string,
  ): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** A store: SQL plus lifecycle. */
export interface Store extends SqlExecutor {
  /** `postgres` or `pglite`, for /readyz and logs. */
  readonly kind: string;
  /** Runs `fn` in one transaction; rolls back if it throws. */
  transaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T>;
  /** Resolves when the store answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Releases connections or files. */
  close(): Promise<void>;
}
