import type { SqlExecutor } from './store.ts';

/** One state-changing request as the audit log keeps it. `at` is ms since the epoch. */
export interface AuditEntry {
  at: number;
  userId: string | null;
  role: string | null;
  method: string;
  path: string;
  /** The id of the object acted upon, when the route names one. */
  target: string | null;
  status: number;
  ip: string | null;
  detail?: Record<string, unknown>;
}

/** Filters of {@link AuditLog.list}; `from` inclusive, `to` exclusive, ms since the epoch. */
export interface AuditQuery {
  userId?: string;
  from?: number;
  to?: number;
  limit: number;
}

/** A stored entry: an {@link AuditEntry} with its id (a string: bigserial may exceed 2^53). */
export interface StoredAuditEntry extends AuditEntry {
  id: string;
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  store: SqlExecutor;
  /** Rows per INSERT statement. Default 1 000. */
  batchRows?: number;
  /** Most rows held while the store is unreachable; beyond it the oldest are dropped and counted. Default 100 000. */
  maxBufferedRows?: number;
  /** Called with the number of rows dropped because the buffer was full. */
  onDropped?: (rows: number) => void;
}

/**
 * The security audit log (security.audit_log). Entries are buffered in memory and written in multi-row batches by
 * {@link flush}, which the composition root calls on a timer, so that recording never delays a response. While the
 * store is down the buffer keeps up to `maxBufferedRows`; past that the oldest entries are dropped and counted.
 */
export class AuditLog {
  private buffer: AuditEntry[] = [];
  private flushing: Promise<number> | undefined;
  private readonly batchRows: number;
  private readonly maxBufferedRows: number;
  /** Entries dropped because the buffer was full, since start. */
  dropped = 0;
  /** Flushes that failed (their rows went back to the buffer), since start. */
  failedFlushes = 0;

  constructor(private readonly options: AuditLogOptions) {
    this.batchRows = options.batchRows ?? 1_000;
    this.maxBufferedRows = options.maxBufferedRows ?? 100_000;
  }

  /** Entries waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Queues an entry for the next flush. Never throws, never waits. */
  append(entry: AuditEntry): void {
    this.buffer.push(entry);
    if (this.buffer.length > this.maxBufferedRows) {
      const excess = this.buffer.length - this.maxBufferedRows;
      this.buffer.splice(0, excess);
      this.dropped += excess;
      this.options.onDropped?.(excess);
    }
  }

  /**
   * Writes every buffered entry; resolves with the number written. One flush at a time. On failure the entries go
   * back to the front of the buffer, the failure is counted and the error is thrown.
   */
  async flush(): Promise<number> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return 0;
    const rows = this.buffer;
    this.buffer = [];
    this.flushing = this.write(rows).finally(() => {
      this.flushing = undefined;
    });
    try {
      return await this.flushing;
    } catch (error) {
      this.failedFlushes++;
      this.buffer = rows.concat(this.buffer);
      throw error;
    }
  }

  /** Stored entries, newest first, filtered by user and time. */
  async list(query: AuditQuery): Promise<StoredAuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.userId !== undefined) {
      params.push(query.userId);
      where.push(`user_id = $${params.length}::uuid`);
    }
    if (query.from !== undefined) {
      params.push(query.from);
      where.push(`at >= to_timestamp($${params.length} / 1000.0)`);
    }
    if (query.to !== undefined) {
      params.push(query.to);
      where.push(`at < to_timestamp($${params.length} / 1000.0)`);
    }
    params.push(query.limit);
    const result = await this.options.store.query<{
      id: string | number;
      at: number;
      user_id: string | null;
      role: string | null;
      method: string;
      path: string;
      target: string | null;
      status: number;
      ip: string | null;
      detail: Record<string, unknown> | null;
    }>(
      `SELECT id::text AS id, (extract(epoch from at) * 1000)::float8 AS at, user_id::text AS user_id, role, method,
              path, target, status, ip, detail
         FROM security.audit_log
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY at DESC, id DESC
        LIMIT $${params.length}`,
      params,
    );
    return result.rows.map((row) => ({
      id: String(row.id),
      at: Math.round(Number(row.at)),
      userId: row.user_id,
      role: row.role,
      method: row.method,
      path: row.path,
      target: row.target,
      status: Number(row.status),
      ip: row.ip,
      ...(row.detail ? { detail: row.detail } : {}),
    }));
  }

  private async write(rows: AuditEntry[]): Promise<number> {
    for (let start = 0; start < rows.length; start += this.batchRows) {
      const batch = rows.slice(start, start + this.batchRows);
      await this.options.store.query(
        `INSERT INTO security.audit_log (at, user_id, role, method, path, target, status, ip, detail)
         SELECT to_timestamp(a / 1000.0), u, r, m, p, t, s, i, d
           FROM unnest($1::float8[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[],
                       $9::jsonb[]) AS x(a, u, r, m, p, t, s, i, d)`,
        [
          batch.map((row) => row.at),
          batch.map((row) => row.userId),
          batch.map((row) => row.role),
          batch.map((row) => row.method),
          batch.map((row) => row.path),
          batch.map((row) => row.target),
          batch.map((row) => row.status),
          batch.map((row) => row.ip),
          batch.map((row) => (row.detail ? JSON.stringify(row.detail) : null)),
        ],
      );
    }
    return rows.length;
  }
}
