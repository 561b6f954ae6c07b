/**
 * The store interface: what the engine keeps in PostgreSQL (with PostGIS). Two implementations honour it and one test
 * suite runs against both: {@link PostgresStore} (engine/store-postgres.ts, `pg`) for production and
 * {@link PgliteStore} (engine/store-pglite.ts, PGlite with its PostGIS extension) for the embedded default.
 */

/** Rows of a query. */
export interface QueryResult<Row> {
  rows: Row[];
}

/** The SQL surface both implementations share: parameterised queries and multi-statement scripts. */
export interface SqlExecutor {
  /**
   * Runs one parameterised statement ($1, $2, …). `prepared` names a statement run very often, always with this text:
   * a store that can keeps it parsed per connection, others run it as any. It is still planned for each run, with
   * its values (PLAN_CACHE_MODE in store-postgres.ts).
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
