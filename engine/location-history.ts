import type { Fix } from './fleet-types.ts';
import type { Logger } from './logger.ts';
import type { SqlExecutor } from './store.ts';

/** A fix as the history keeps it: the stream fix without the phone's sequence counter. */
export type HistoryFix = Omit<Fix, 'seq'>;

/** Options of {@link LocationHistory}. */
export interface LocationHistoryOptions {
  store: SqlExecutor;
  logger: Logger;
  /** Rows per INSERT statement; a flush sends as many statements as needed. Default 5 000. */
  batchRows?: number;
  /** Most rows held while the store is unreachable; beyond it the oldest are dropped and counted. Default 500 000. */
  maxBufferedRows?: number;
  /** Called with the number of rows dropped because the buffer was full. */
  onDropped?: (rows: number) => void;
}

const DAY_MS = 86_400_000;

/**
 * The doctors' location history in PostgreSQL/PostGIS (geo.location_history, daily partitions). Applied fixes are
 * buffered in memory and written in multi-row batches — one `INSERT … SELECT FROM unnest(arrays)` per batch, which
 * costs one round trip and one statement for thousands of rows — by {@link flush}, which the engine calls on a timer.
 * While the store is down the buffer keeps up to `maxBufferedRows`; past that the oldest rows are dropped, counted and
 * logged (history is a record, the live fleet does not depend on it).
 */
export class LocationHistory {
  private buffer: HistoryFix[] = [];
  private flushing: Promise<number> | undefined;
  private readonly batchRows: number;
  private readonly maxBufferedRows: number;
  private partitionsReadyUntil = 0;

  constructor(private readonly options: LocationHistoryOptions) {
    this.batchRows = options.batchRows ?? 5_000;
    this.maxBufferedRows = options.maxBufferedRows ?? 500_000;
  }

  /** Rows waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Queues a fix for the next flush. */
  append(fix: HistoryFix): void {
    this.buffer.push(fix);
    if (this.buffer.length > this.maxBufferedRows) {
      const excess = this.buffer.length - this.maxBufferedRows;
      this.buffer.splice(0, excess);
      this.options.onDropped?.(excess);
    }
  }

  /**
   * Writes every buffered row; resolves with the number written. One flush at a time: a call during a flush waits for
   * it and then flushes what came since. On failure the rows go back to the front of the buffer and the error is
   * thrown.
   */
  async flush(now: number = Date.now()): Promise<number> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return 0;
    const rows = this.buffer;
    this.buffer = [];
    this.flushing = this.write(rows, now).finally(() => {
      this.flushing = undefined;
    });
    try {
      return await this.flushing;
    } catch (error) {
      this.buffer = rows.concat(this.buffer);
      throw error;
    }
  }

  /** Makes sure the daily partitions from yesterday to two days ahead exist (UTC days). */
  async ensurePartitions(now: number): Promise<void> {
    if (now < this.partitionsReadyUntil) return;
    const yesterday = new Date(Math.floor(now / DAY_MS) * DAY_MS - DAY_MS).toISOString().slice(0, 10);
    await this.options.store.query('SELECT geo.ensure_location_partitions($1::date, 4)', [yesterday]);
    // Re-check within the day, well before the last partition runs out.
    this.partitionsReadyUntil = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  }

  /** Drops the daily partitions older than `retentionDays` before `now`; returns how many. */
  async prune(now: number, retentionDays: number): Promise<number> {
    const before = new Date(Math.floor(now / DAY_MS) * DAY_MS - retentionDays * DAY_MS)
      .toISOString()
      .slice(0, 10);
    const result = await this.options.store.query<{ dropped: number }>(
      'SELECT geo.drop_location_partitions_before($1::date) AS dropped',
      [before],
    );
    return Number(result.rows[0]?.dropped ?? 0);
  }

  /**
   * One doctor's track between `from` and `to` (ms), in time order, at most `limit` points.
   * Returns `[lng, lat, ts]` triples, GeoJSON's coordinate order.
   */
  async track(
    doctorId: string,
    from: number,
    to: number,
    limit: number,
  ): Promise<[number, number, number][]> {
    const result = await this.options.store.query<{ lng: number; lat: number; ts: number }>(
      `SELECT ST_X(geog::geometry) AS lng, ST_Y(geog::geometry) AS lat, (extract(epoch from ts) * 1000)::float8 AS ts
         FROM geo.location_history
        WHERE doctor_id = $1 AND ts >= to_timestamp($2 / 1000.0) AND ts < to_timestamp($3 / 1000.0)
        ORDER BY ts
        LIMIT $4`,
      [doctorId, from, to, limit],
    );
    return result.rows.map((row) => [Number(row.lng), Number(row.lat), Math.round(Number(row.ts))]);
  }

  private async write(rows: HistoryFix[], now: number): Promise<number> {
    await this.ensurePartitions(now);
    for (let start = 0; start < rows.length; start += this.batchRows) {
      const batch = rows.slice(start, start + this.batchRows);
      await this.options.store.query(
        `INSERT INTO geo.location_history (doctor_id, ts, geog, accuracy, speed, heading, battery)
         SELECT d, to_timestamp(t / 1000.0), ST_SetSRID(ST_MakePoint(x, y), 4326)::geography, a, s, h, b
           FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::real[], $6::real[], $7::real[], $8::real[])
             AS u(d, t, x, y, a, s, h, b)`,
        [
          batch.map((row) => row.doctorId),
          batch.map((row) => row.ts),
          batch.map((row) => row.lng),
          batch.map((row) => row.lat),
          batch.map((row) => row.accuracy ?? null),
          batch.map((row) => row.speed ?? null),
          batch.map((row) => row.heading ?? null),
          batch.map((row) => row.battery ?? null),
        ],
      );
    }
    return rows.length;
  }
}
