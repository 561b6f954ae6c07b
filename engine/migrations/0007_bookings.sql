-- Bookings (dispatch/booking-store.ts): one row per booking holding every field of dispatch/booking-types.ts Booking,
-- its recorded status changes, and the notifications dispatch writes (a patient told of a preemption, an emergency
-- escalated to the emergency services). Times are timestamptz; the code reads and writes ms since the epoch.
CREATE SCHEMA IF NOT EXISTS booking;
CREATE SCHEMA IF NOT EXISTS notification;

CREATE TABLE IF NOT EXISTS booking.bookings (
  id uuid PRIMARY KEY,
  patient_id text NOT NULL CHECK (length(patient_id) BETWEEN 1 AND 100),
  call_type text NOT NULL CHECK (call_type IN ('home_visit', 'urgent_visit', 'emergency', 'consultation')),
  symptoms text NOT NULL,
  address text NOT NULL,
  -- lat/lng keep the exact numbers the patient sent; geog serves spatial queries (bookings in an area, heat maps).
  lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
  lng double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
  geog geography(Point, 4326) NOT NULL,
  priority smallint NOT NULL CHECK (priority BETWEEN 1 AND 4),
  original_priority smallint NOT NULL CHECK (original_priority BETWEEN 1 AND 4),
  emergency boolean NOT NULL,
  specialization text,
  scheduled_at timestamptz,
  emergency_type text,
  status text NOT NULL CHECK (status IN ('created', 'searching', 'offered', 'assigned', 'en_route', 'arrived',
                                         'in_progress', 'completed', 'cancelled', 'no_doctor_found')),
  doctor_id text,
  offer_expires_at timestamptz,
  declined_by text[] NOT NULL DEFAULT '{}',
  estimated_price numeric(12, 2) NOT NULL CHECK (estimated_price >= 0),
  final_price numeric(12, 2) CHECK (final_price IS NULL OR final_price >= 0),
  assigned_eta_seconds double precision,
  estimated_duration_minutes double precision NOT NULL,
  actual_duration_minutes double precision,
  cancel_reason text,
  created_at timestamptz NOT NULL,
  searching_at timestamptz,
  offered_at timestamptz,
  assigned_at timestamptz,
  en_route_at timestamptz,
  arrived_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  cancelled_at timestamptz,
  version integer NOT NULL CHECK (version >= 1),
  -- Marks of one-off signals, so that a restarted dispatcher does not raise them twice (not part of Booking).
  sla_breached_at timestamptz,
  escalated_at timestamptz,
  -- A booking that holds a doctor names one; one searching or without a doctor names none; a final one keeps the
  -- doctor it had, if any (who visited, or was on the way when it was cancelled).
  CHECK (
    status IN ('completed', 'cancelled')
    OR (doctor_id IS NOT NULL) = (status IN ('offered', 'assigned', 'en_route', 'arrived', 'in_progress'))
  ),
  CHECK ((offer_expires_at IS NOT NULL) = (status = 'offered'))
);

CREATE INDEX IF NOT EXISTS bookings_patient ON booking.bookings (patient_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS bookings_doctor ON booking.bookings (doctor_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS bookings_status ON booking.bookings (status);
CREATE INDEX IF NOT EXISTS bookings_created ON booking.bookings (created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS bookings_geog ON booking.bookings USING gist (geog);

-- A doctor is held by at most one booking: the database refuses a double booking even if the code is wrong.
CREATE UNIQUE INDEX IF NOT EXISTS bookings_doctor_held ON booking.bookings (doctor_id)
  WHERE status IN ('offered', 'assigned', 'en_route', 'arrived', 'in_progress');

-- Every recorded change of a booking (the seeds' booking_status_updates). from_status = to_status records a change
-- that is not a status change (the priority).
CREATE TABLE IF NOT EXISTS booking.status_updates (
  id bigserial PRIMARY KEY,
  booking_id uuid NOT NULL REFERENCES booking.bookings (id) ON DELETE CASCADE,
  from_status text,
  to_status text NOT NULL,
  by_id text NOT NULL,
  by_role text NOT NULL
    CHECK (by_role IN ('patient', 'doctor', 'clinic_admin', 'dispatcher', 'admin', 'system')),
  reason text,
  doctor_id text,
  at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS status_updates_booking ON booking.status_updates (booking_id, id);

-- What someone was told or must be told: a patient whose doctor was taken by an emergency, the emergency services for
-- an escalated emergency. A delivery channel (push, SMS) reads the unread ones.
CREATE TABLE IF NOT EXISTS notification.notifications (
  id bigserial PRIMARY KEY,
  recipient text NOT NULL,
  kind text NOT NULL,
  booking_id uuid REFERENCES booking.bookings (id) ON DELETE CASCADE,
  payload jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  read_at timestamptz
);

CREATE INDEX IF NOT EXISTS notifications_recipient ON notification.notifications (recipient, created_at DESC);
CREATE INDEX IF NOT EXISTS notifications_booking ON notification.notifications (booking_id);
