-- The registry of traffic sensors: detectors (speed, volume, occupancy readings on tot.readings) and cameras. A reading
-- that carries no position takes its detector's from here (loaded into memory at boot).
CREATE SCHEMA IF NOT EXISTS traffic;

CREATE TABLE IF NOT EXISTS traffic.sensors (
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  kind text NOT NULL CHECK (kind IN ('detector', 'camera')),
  geog geography(Point, 4326) NOT NULL,
  name text,
  road text,
  -- Free text ("northbound", "to the centre"); null for a sensor that watches both ways.
  direction text,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS sensors_geog ON traffic.sensors USING gist (geog);
CREATE INDEX IF NOT EXISTS sensors_kind ON traffic.sensors (kind);
