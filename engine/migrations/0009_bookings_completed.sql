-- The latest completed visits, newest first: a restarted dispatcher learns its visit durations from them
-- (dispatch/restore.ts). Partial, so that it holds completed bookings only and costs nothing to the others.
CREATE INDEX IF NOT EXISTS bookings_completed ON booking.bookings (completed_at DESC) WHERE status = 'completed';
