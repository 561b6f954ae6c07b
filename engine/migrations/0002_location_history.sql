-- Doctors' location history: every applied fix, written in batches, partitioned by day so that old days are dropped
-- whole (retention) and a day's queries touch one partition.
CREATE SCHEMA IF NOT EXISTS geo;

CREATE TABLE IF NOT EXISTS geo.location_history (
  doctor_id text NOT NULL,
  ts timestamptz NOT NULL,
  geog geography(Point, 4326) NOT NULL,
  accuracy real,
  speed real,
  heading real,
  battery real
) PARTITION BY RANGE (ts);

-- Rows outside every daily partition (a phone with a wrong clock) land here instead of failing the batch.
CREATE TABLE IF NOT EXISTS geo.location_history_default PARTITION OF geo.location_history DEFAULT;

CREATE INDEX IF NOT EXISTS location_history_doctor_ts ON geo.location_history (doctor_id, ts);

-- Creates the daily partitions [first_day, first_day + days), days in UTC. Idempotent.
CREATE OR REPLACE FUNCTION geo.ensure_location_partitions(first_day date, days integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  day date;
BEGIN
  FOR i IN 0 .. days - 1 LOOP
    day := first_day + i;
    EXECUTE format(
      'CREATE TABLE IF NOT EXISTS geo.%I PARTITION OF geo.location_history FOR VALUES FROM (%L) TO (%L)',
      'location_history_' || to_char(day, 'YYYYMMDD'),
      day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
  END LOOP;
END
$$;

-- Drops the daily partitions that end on or before `before_day`; returns how many were dropped.
CREATE OR REPLACE FUNCTION geo.drop_location_partitions_before(before_day date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  part record;
  dropped integer := 0;
BEGIN
  FOR part IN
    SELECT c.relname FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = 'geo' AND p.relname = 'location_history' AND c.relname ~ '^location_history_\d{8}$'
  LOOP
    IF to_date(substring(part.relname from '\d{8}$'), 'YYYYMMDD') < before_day THEN
      EXECUTE format('DROP TABLE geo.%I', part.relname);
      dropped := dropped + 1;
    END IF;
  END LOOP;
  RETURN dropped;
END
$$;
