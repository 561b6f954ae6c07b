/**
 * Bookings the dispatch benches put straight into a store: routine home visits of priority 3 or 4 at a given point,
 * with the fields every status has. The caller sets the status and what that status adds.
 */
import type { Booking, BookingStatus, TriageCategory } from '../../dispatch/booking-types.ts';

/** The i-th routine booking, `id`, at (lat, lng), created at `createdAt`, in `status` at `version`. */
export function routineBooking(
  id: string,
  i: number,
  fields: { lat: number; lng: number; status: BookingStatus; createdAt: number; version: number },
): Booking {
  const priority = (3 + (i % 2)) as TriageCategory;
  return {
    id,
    patientId: `patient-${i}`,
    callType: 'home_visit',
    symptoms: 'fever since yesterday',
    address: `bench street ${i}`,
    lat: fields.lat,
    lng: fields.lng,
    priority,
    originalPriority: priority,
    emergency: false,
    status: fields.status,
    declinedBy: [],
    estimatedPrice: 3_000,
    estimatedDurationMinutes: 45,
    createdAt: fields.createdAt,
    version: fields.version,
  };
}
