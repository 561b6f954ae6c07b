/**
 * The store interface: what the engine keeps in PostgreSQL (with PostGIS). Two implementations honour it and one test
 * suite runs against both: {@link PostgresStore} (engine/store-postgres.ts, `pg`) for production and
 * {@link PgliteStore} (engine/store-pglite.ts, PGlite with its PostGIS extension) for the embedded default.
 */

/**
 * How a connection plans the statements it keeps (the named ones, and the foreign-key checks PostgreSQL runs for each
 * row written): afresh each time. A kept plan is made once and kept for the connection's life, so one made while a
 * table was empty scans it whole for ever after — each status update's check that its booking exists read every
 * booking, 177 million rows in a 12-second bench run on a freshly vacuumed database. Planning afresh costs ~0.1 ms
 * for a grouped change of bookings, ~0.25 ms for a grouped new booking with its checks (measured): the new bookings,
 * a thousand a second, go through {@link Store.insertWriter} instead.
 */
export const PLAN_CACHE_MODE = 'force_custom_plan';

/**
 * Settings of the connections behind {@link Store.insertWriter}: they keep the plans they make (`auto`: planned for
 * the first five runs, then kept when no dearer than those), and no plan of theirs reads a table whole while an index
 * can answer (`enable_seqscan` off: a penalty, not a ban). A lookup of one table by its key — a foreign-key check —
 * then keeps a probe of the key even when first planned on an empty table. A join could still keep a whole read of
 * an index made while the table was empty (a nested loop over the whole key): statements that join tables do not
 * belong on these connections.
 */
export const INSERT_WRITER_SETTINGS: Readonly<Record<string, string>> = {
  plan_cache_mode: 'auto',
  enable_seqscan: 'off',
};

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
  /**
   * An executor for the store's hottest inserts (new bookings with their status updates): statements that insert rows
   * and read tables only in lookups of one table by its key (the foreign-key checks). Where the store can, they run on
   * connections of their own that keep the plans they make ({@link INSERT_WRITER_SETTINGS}); otherwise on the store
   * itself. A statement that joins a table or searches one (a change of rows found by a join, a report) does not
   * belong here.
   */
  insertWriter(): SqlExecutor & Pick<Store, 'transaction'>;
  /** Releases connections or files. */
  close(): Promise<void>;
}
