/**
 * The real PostgreSQL started by scripts/services.sh answers with PostGIS 3, and geography distance queries agree with
 * a haversine computed here.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const EARTH_RADIUS_METERS = 6_371_008.8;

/** Great-circle distance in meters between two [lng, lat] points (degrees). */
function haversineMeters(
  [lng1, lat1]: readonly [number, number],
  [lng2, lat2]: readonly [number, number],
): number {
  const toRadians = (degrees: number) => (degrees * Math.PI) / 180;
  const dLat = toRadians(lat2 - lat1);
  const dLng = toRadians(lng2 - lng1);
  const a =
    Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(lat1)) * Math.cos(toRadians(lat2)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_METERS * Math.asin(Math.sqrt(a));
}

/** Red Square, Moscow: [lng, lat]. */
const CENTER: readonly [number, number] = [37.6208, 55.7539];
const RADIUS_METERS = 1_000;

/** Points around CENTER; none lies within 10 % of the radius, so sphere-vs-spheroid differences cannot flip one. */
const POINTS: ReadonlyArray<{ id: number; at: readonly [number, number] }> = [
  { id: 1, at: [37.6208, 55.7539] }, // the centre itself
  { id: 2, at: [37.6208, 55.7566] }, // ~300 m north
  { id: 3, at: [37.6328, 55.7539] }, // ~750 m east
  { id: 4, at: [37.6128, 55.7489] }, // ~750 m south-west
  { id: 5, at: [37.6208, 55.765] }, // ~1,230 m north
  { id: 6, at: [37.6528, 55.7539] }, // ~2,000 m east
  { id: 7, at: [30.3141, 59.9386] }, // St Petersburg, ~630 km
  { id: 8, at: [-37.6208, -55.7539] }, // mirrored into the southern hemisphere, ~14,000 km
];

describe('PostgreSQL with PostGIS (real server)', () => {
  let client: pg.Client;

  beforeAll(async () => {
    client = new pg.Client({ connectionString: inject('DATABASE_URL') });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
  });

  it('runs PostGIS 3', async () => {
    const { rows } = await client.query<{ version: string }>('SELECT postgis_version() AS version');
    expect(rows[0]?.version).toMatch(/^3\./);
  });

  it('ST_DWithin on geography returns exactly the points a haversine puts within the radius', async () => {
    for (const point of POINTS) {
      const margin = Math.abs(haversineMeters(CENTER, point.at) - RADIUS_METERS) / RADIUS_METERS;
      expect(margin, `point ${point.id} is too close to the radius to be a fair test`).toBeGreaterThan(0.1);
    }
    const expected = POINTS.filter((point) => haversineMeters(CENTER, point.at) <= RADIUS_METERS).map(
      (p) => p.id,
    );
    expect(expected).toEqual([1, 2, 3, 4]);

    // A temporary table lives only in this session, so parallel runs cannot collide.
    await client.query(
      'CREATE TEMP TABLE dwithin_points (id integer PRIMARY KEY, geog geography(Point, 4326) NOT NULL)',
    );
    try {
      for (const point of POINTS) {
        await client.query(
          'INSERT INTO dwithin_points (id, geog) VALUES ($1, ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography)',
          [point.id, point.at[0], point.at[1]],
        );
      }
      const { rows } = await client.query<{ id: number }>(
        `SELECT id FROM dwithin_points
          WHERE ST_DWithin(geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, $3)
          ORDER BY id`,
        [CENTER[0], CENTER[1], RADIUS_METERS],
      );
      expect(rows.map((row) => row.id)).toEqual(expected);
    } finally {
      await client.query('DROP TABLE IF EXISTS dwithin_points');
    }
  });
});
