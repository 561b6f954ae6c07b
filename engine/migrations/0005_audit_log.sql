-- Who changed what: one row per state-changing HTTP request (POST, PUT, PATCH, DELETE), written in batches.
CREATE SCHEMA IF NOT EXISTS security;

CREATE TABLE IF NOT EXISTS security.audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  -- No foreign key: the log outlives users and must never make a request fail.
  user_id uuid,
  role text,
  method text NOT NULL,
  path text NOT NULL,
  target text,
  status integer NOT NULL,
  ip text,
  detail jsonb
);

CREATE INDEX IF NOT EXISTS audit_log_at ON security.audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_user_at ON security.audit_log (user_id, at);
