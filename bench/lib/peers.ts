/**
 * The network peers of the nearby benchmark, loaded with the same doctors: Redis GEO (a sorted set per fleet) and
 * PostgreSQL/PostGIS (a table with a GiST index). Loading uses pipelines (Redis) and multi-row unnest inserts
 * (PostgreSQL), tens of thousands of rows per round trip.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

/** Doctors to load: ids, coordinates, and which of them to include. */
export interface PeerData {
  ids: (i: number) => string;
  lat: Float64Array;
  lng: Float64Array;
  include: Uint8Array;
}

const BATCH = 10_000;

/** A Redis sorted set of doctor positions, queried with GEOSEARCH. */
export class RedisGeo {
  private constructor(
    private readonly redis: Redis,
    readonly key: string,
  ) {}

  static async load(url: string, key: string, data: PeerData): Promise<RedisGeo> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    await redis.del(key);
    let pipeline = redis.pipeline();
    let args: (string | number)[] = [];
    let queued = 0;
    for (let i = 0; i < data.lat.length; i++) {
      if (!data.include[i]) continue;
      args.push(data.lng[i] as number, data.lat[i] as number, data.ids(i));
      if (args.length >= 3 * 1_000) {
        pipeline.geoadd(key, ...args);
        args = [];
        if (++queued === BATCH / 1_000) {
          await pipeline.exec();
          pipeline = redis.pipeline();
          queued = 0;
        }
      }
    }
    if (args.length > 0) pipeline.geoadd(key, ...args);
    await pipeline.exec();
    return new RedisGeo(redis, key);
  }

  /** GEOSEARCH key FROMLONLAT lng lat BYRADIUS r km ASC COUNT k WITHDIST. */
  search(lat: number, lng: number, radiusKm: number, k: number): Promise<unknown> {
    return this.redis.call(
      'GEOSEARCH',
      this.key,
      'FROMLONLAT',
      lng,
      lat,
      'BYRADIUS',
      radiusKm,
      'km',
      'ASC',
      'COUNT',
      k,
      'WITHDIST',
    );
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.key);
  }

  async close(): Promise<void> {
    await this.redis.del(this.key);
    await this.redis.quit();
  }
}

/** A PostGIS table of doctor positions with a GiST index, queried by KNN (`<->`). */
export class PostgisKnn {
  private constructor(
    private readonly pool: pg.Pool,
    readonly table: string,
  ) {}

  static async load(url: string, table: string, data: PeerData, poolSize: number): Promise<PostgisKnn> {
    const pool = new pg.Pool({ connectionString: url, max: poolSize });
    try {
      await pool.query('CREATE EXTENSION IF NOT EXISTS postgis');
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.query(
        `CREATE UNLOGGED TABLE ${table} (id text PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)`,
      );
      let ids: string[] = [];
      let lngs: number[] = [];
      let lats: number[] = [];
      const flush = async () => {
        if (ids.length === 0) return;
        await pool.query(
          `INSERT INTO ${table} (id, geom)
           SELECT id, ST_SetSRID(ST_MakePoint(lng, lat), 4326) FROM unnest($1::text[], $2::float8[], $3::float8[]) AS t(id, lng, lat)`,
          [ids, lngs, lats],
        );
        ids = [];
        lngs = [];
        lats = [];
      };
      for (let i = 0; i < data.lat.length; i++) {
        if (!data.include[i]) continue;
        ids.push(data.ids(i));
        lngs.push(data.lng[i] as number);
        lats.push(data.lat[i] as number);
        if (ids.length >= 5 * BATCH) await flush();
      }
      await flush();
      await pool.query(`CREATE INDEX ${table}_geom ON ${table} USING gist (geom)`);
      await pool.query(`ANALYZE ${table}`);
      return new PostgisKnn(pool, table);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /** SELECT id … ORDER BY geom <-> point LIMIT k, as a named (prepared) statement. */
  nearest(lat: number, lng: number, k: number): Promise<unknown> {
    return this.pool.query({
      name: `knn_${this.table}`,
      text: `SELECT id FROM ${this.table} ORDER BY geom <-> ST_SetSRID(ST_MakePoint($1, $2), 4326) LIMIT $3`,
      values: [lng, lat, k],
    });
  }

  async count(): Promise<number> {
    const result = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table}`);
    return Number(result.rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    await this.pool.query(`DROP TABLE IF EXISTS ${this.table}`);
    await this.pool.end();
  }
}
