-- The schemas of the product's domains, each created empty here so that every domain's tables have their home from
-- the start; their tables arrive with the work that builds each domain.
CREATE SCHEMA IF NOT EXISTS booking;
COMMENT ON SCHEMA booking IS 'Bookings of home visits: requests, their lifecycle, offers and assignments.';
CREATE SCHEMA IF NOT EXISTS payment;
COMMENT ON SCHEMA payment IS 'Payments for visits: invoices, payment attempts and refunds.';
CREATE SCHEMA IF NOT EXISTS notification;
COMMENT ON SCHEMA notification IS 'Notifications to patients, doctors and staff: templates, deliveries and their outcome.';
CREATE SCHEMA IF NOT EXISTS chat;
COMMENT ON SCHEMA chat IS 'Conversations between patients, doctors and dispatchers about a visit.';
CREATE SCHEMA IF NOT EXISTS rating;
COMMENT ON SCHEMA rating IS 'Ratings and reviews of visits and doctors.';
CREATE SCHEMA IF NOT EXISTS event;
COMMENT ON SCHEMA event IS 'Domain events kept for replay and analytics (the outbox of tot.events).';
CREATE SCHEMA IF NOT EXISTS emergency;
COMMENT ON SCHEMA emergency IS 'Emergencies: escalations, preemptions and their handling.';

COMMENT ON SCHEMA auth IS 'Who may act: users, refresh tokens, clinics, clinic administrators and doctor profiles.';
COMMENT ON SCHEMA geo IS 'Where things were: the location history of doctors.';
COMMENT ON SCHEMA security IS 'Who did what: the security audit log.';

-- Clinics and doctor profiles live in auth: they decide who may act for whom (a clinic administrator acts for one
-- clinic, a doctor's profile ties a user to the id the fleet, the phones and the fixes use), which is what auth holds.
CREATE TABLE IF NOT EXISTS auth.clinics (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  address text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
  license_number text NOT NULL CHECK (length(license_number) BETWEEN 1 AND 64),
  location geography(Point, 4326),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT clinics_license_number_key UNIQUE (license_number)
);

CREATE INDEX IF NOT EXISTS clinics_location ON auth.clinics USING gist (location);
CREATE INDEX IF NOT EXISTS clinics_name ON auth.clinics (name, id);

-- A clinic administrator acts for exactly one clinic (the primary key is the user). Deleting either side ends the link.
CREATE TABLE IF NOT EXISTS auth.clinic_admins (
  user_id uuid PRIMARY KEY REFERENCES auth.users (id) ON DELETE CASCADE,
  clinic_id uuid NOT NULL REFERENCES auth.clinics (id) ON DELETE CASCADE,
  linked_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS clinic_admins_clinic ON auth.clinic_admins (clinic_id);

-- A doctor's profile. doctor_id is the id the fleet, the phones' device tokens and the fixes use (`doc-17`). A verified
-- profile is the doctor's fleet profile; verified_at and verified_by are written only by an admin's verification.
CREATE TABLE IF NOT EXISTS auth.doctor_profiles (
  doctor_id text PRIMARY KEY CHECK (doctor_id ~ '^[A-Za-z0-9._-]{1,64}$'),
  user_id uuid REFERENCES auth.users (id) ON DELETE SET NULL,
  full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
  specializations text[] NOT NULL DEFAULT '{}' CHECK (cardinality(specializations) <= 16),
  license_number text NOT NULL CHECK (length(license_number) BETWEEN 1 AND 64),
  experience_years smallint NOT NULL CHECK (experience_years BETWEEN 0 AND 70),
  clinic_id uuid NOT NULL REFERENCES auth.clinics (id) ON DELETE RESTRICT,
  verified_at timestamptz,
  -- Kept null when the verifying admin's account is deleted; the verification itself stands.
  verified_by uuid REFERENCES auth.users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT doctor_profiles_user_id_key UNIQUE (user_id),
  CONSTRAINT doctor_profiles_license_number_key UNIQUE (license_number),
  CONSTRAINT doctor_profiles_verified_by_needs_verified_at CHECK (verified_by IS NULL OR verified_at IS NOT NULL)
);

CREATE INDEX IF NOT EXISTS doctor_profiles_clinic ON auth.doctor_profiles (clinic_id, doctor_id);
CREATE INDEX IF NOT EXISTS doctor_profiles_specializations ON auth.doctor_profiles USING gin (specializations);
