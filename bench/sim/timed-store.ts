/**
 * A store that measures itself: how many statements and transactions went through, and for how long at least one of
 * them was in flight — the share of the simulation's wall time spent in the store.
 */
import { performance } from 'node:perf_hooks';
import type { QueryResult, SqlExecutor, Store } from '../../engine/store.ts';

/** Wraps a {@link Store}; every call is passed on unchanged. */
export class TimedStore implements Store {
  /** Statements run outside a transaction, plus transactions. */
  calls = 0;
  /** Statements run inside transactions. */
  statementsInTransactions = 0;
  private busyMs = 0;
  private inFlight = 0;
  private busySince = 0;

  constructor(private readonly inner: Store) {}

  get kind(): string {
    return this.inner.kind;
  }

  /** Wall seconds during which at least one call was in flight. */
  get busySeconds(): number {
    return this.busyMs / 1000;
  }

  /** Forgets what was measured so far. */
  reset(): void {
    this.calls = 0;
    this.statementsInTransactions = 0;
    this.busyMs = 0;
  }

  async query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    prepared?: string,
  ): Promise<QueryResult<Row>> {
    return this.timed(() => this.inner.query<Row>(text, params, prepared));
  }

  async exec(script: string): Promise<void> {
    return this.timed(() => this.inner.exec(script));
  }

  async transaction<T>(fn: (sql: SqlExecutor) => Promise<T>): Promise<T> {
    return this.timed(() =>
      this.inner.transaction((sql) =>
        fn({
          query: <Row>(text: string, params?: readonly unknown[]) => {
            this.statementsInTransactions++;
            return sql.query<Row>(text, params);
          },
          exec: (script: string) => {
            this.statementsInTransactions++;
            return sql.exec(script);
          },
        }),
      ),
    );
  }

  /** The inner store's insert writer, its calls timed and counted with this store's. */
  insertWriter(): SqlExecutor & Pick<Store, 'transaction'> {
    const writer = this.inner.insertWriter();
    return {
      query: <Row>(text: string, params?: readonly unknown[], prepared?: string) =>
        this.timed(() => writer.query<Row>(text, params, prepared)),
      exec: (script: string) => this.timed(() => writer.exec(script)),
      transaction: <T>(fn: (sql: SqlExecutor) => Promise<T>) => this.timed(() => writer.transaction(fn)),
    };
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async timed<T>(call: () => Promise<T>): Promise<T> {
    this.calls++;
    if (this.inFlight++ === 0) this.busySince = performance.now();
    try {
      return await call();
    } finally {
      if (--this.inFlight === 0) this.busyMs += performance.now() - this.busySince;
    }
  }
}
