/**
 * The patient's view of one booking, kept from the frames of WebSocket /v1/bookings/:id/track (docs/API.md,
 * "Bookings"): `state` on open, `status` on every change of the booking, `position` when the doctor moves. Pure: no
 * DOM, so it is tested on its own.
 */

/** The booking fields the page shows. */
export interface TrackedBooking {
  id: string;
  status: string;
  priority: number;
  lat: number;
  lng: number;
  address?: string;
  doctorId?: string;
}

/** Where the doctor is. */
export interface TrackedDoctor {
  lat: number;
  lng: number;
  heading?: number;
  speed?: number;
}

/** What the page shows of a booking being tracked. */
export class Tracking {
  booking: TrackedBooking | undefined;
  doctor: TrackedDoctor | undefined;
  etaSeconds: number | undefined;
  /** When the last position arrived (the server's ms), to drop one that comes late. */
  positionAt = 0;
  /** Positions received, for the page's data attributes. */
  positions = 0;

  /** Applies a frame; returns whether anything changed. Unknown frames are ignored. */
  apply(frame: unknown): boolean {
    if (typeof frame !== 'object' || frame === null) return false;
    const value = frame as Record<string, unknown>;
    switch (value['type']) {
      case 'state': {
        this.setBooking(value['booking']);
        const doctor = value['doctor'] as TrackedDoctor | undefined;
        this.doctor =
          doctor && Number.isFinite(doctor.lat) && Number.isFinite(doctor.lng) ? doctor : undefined;
        this.etaSeconds = typeof value['etaSeconds'] === 'number' ? value['etaSeconds'] : undefined;
        return true;
      }
      case 'status': {
        const before = this.booking?.doctorId;
        this.setBooking(value['booking']);
        // A new doctor (reassignment) or none: the old position and ETA say nothing any more.
        if (this.booking?.doctorId !== before) {
          this.doctor = undefined;
          this.etaSeconds = undefined;
        }
        return true;
      }
      case 'position': {
        const at = typeof value['at'] === 'number' ? value['at'] : 0;
        if (at < this.positionAt) return false;
        const lat = Number(value['lat']);
        const lng = Number(value['lng']);
        if (!Number.isFinite(lat) || !Number.isFinite(lng)) return false;
        this.positionAt = at;
        this.positions++;
        this.doctor = {
          lat,
          lng,
          ...(typeof value['heading'] === 'number' ? { heading: value['heading'] } : {}),
          ...(typeof value['speed'] === 'number' ? { speed: value['speed'] } : {}),
        };
        if (typeof value['etaSeconds'] === 'number') this.etaSeconds = value['etaSeconds'];
        return true;
      }
      default:
        return false;
    }
  }

  /** Whether the booking is over (nothing more will move). */
  get finished(): boolean {
    return this.booking?.status === 'completed' || this.booking?.status === 'cancelled';
  }

  private setBooking(raw: unknown): void {
    if (typeof raw !== 'object' || raw === null) return;
    const booking = raw as Record<string, unknown>;
    if (typeof booking['id'] !== 'string' || typeof booking['status'] !== 'string') return;
    this.booking = {
      id: booking['id'],
      status: booking['status'],
      priority: Number(booking['priority'] ?? 4),
      lat: Number(booking['lat']),
      lng: Number(booking['lng']),
      ...(typeof booking['address'] === 'string' ? { address: booking['address'] } : {}),
      ...(typeof booking['doctorId'] === 'string' ? { doctorId: booking['doctorId'] } : {}),
    };
  }
}
