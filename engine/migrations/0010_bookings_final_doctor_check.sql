-- 0007 was changed after some databases had applied it: a final booking (completed, cancelled) keeps the doctor it
-- had. Databases made with the earlier 0007 still refuse that; this puts every database on the rule of today's 0007.
ALTER TABLE booking.bookings DROP CONSTRAINT IF EXISTS bookings_check;
ALTER TABLE booking.bookings ADD CONSTRAINT bookings_check CHECK (
  status IN ('completed', 'cancelled')
  OR (doctor_id IS NOT NULL) = (status IN ('offered', 'assigned', 'en_route', 'arrived', 'in_progress'))
);
