-- PostGIS and the schemas of the product's domains. Each domain's tables arrive with the issue that builds it.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE SCHEMA IF NOT EXISTS fleet;

-- The doctors' roster: the profile the live fleet loads at boot. Positions live in memory and in the backup.
CREATE TABLE IF NOT EXISTS fleet.doctors (
  id text PRIMARY KEY,
  specializations text[] NOT NULL DEFAULT '{}',
  clinic_id text,
  rating real CHECK (rating IS NULL OR (rating >= 0 AND rating <= 5)),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
