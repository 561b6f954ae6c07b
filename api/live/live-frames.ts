/**
 * Items of the live frames and the frames' JSON text. Frames are assembled from pieces serialised once: a doctor's
 * item once per tick whatever the number of views showing it, a view's body once per tick whatever the number of
 * connections, and only the `seq` prefix per group of connections.
 */
import type { Booking } from '../../dispatch/booking-types.ts';
import type { DoctorChange, DoctorView } from '../../engine/fleet.ts';
import type { LiveBooking, LiveCount, LiveDoctor, LiveMode, LiveTraffic } from './protocol.ts';

function rounded(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A doctor as frames carry it: coordinates to 6 decimals (≈0.1 m), heading to 1, speed to 2. */
export function doctorItemOf(doctor: DoctorChange | DoctorView): LiveDoctor {
  const item: LiveDoctor = {
    id: doctor.id,
    lat: rounded(doctor.lat as number, 6),
    lng: rounded(doctor.lng as number, 6),
    status: doctor.status,
  };
  if (doctor.heading !== undefined) item.heading = rounded(doctor.heading, 1);
  if (doctor.speed !== undefined) item.speed = rounded(doctor.speed, 2);
  return item;
}

/** A booking as frames carry it. */
export function bookingItemOf(booking: Booking): LiveBooking {
  const item: LiveBooking = {
    id: booking.id,
    status: booking.status,
    priority: booking.priority,
    emergency: booking.emergency,
    lat: booking.lat,
    lng: booking.lng,
    createdAt: booking.createdAt,
  };
  if (booking.doctorId !== undefined) item.doctorId = booking.doctorId;
  if (booking.assignedEtaSeconds !== undefined) item.etaSeconds = booking.assignedEtaSeconds;
  return item;
}

/** The parts of a snapshot that follow `seq`, as JSON text without the braces. */
export interface SnapshotParts {
  at: number;
  mode: LiveMode;
  resolution: number;
  /** Serialised {@link LiveDoctor} items. */
  doctors: readonly string[];
  counts: readonly LiveCount[];
  bookings: readonly LiveBooking[];
  traffic: readonly LiveTraffic[];
}

/** The body of a snapshot frame: everything after `"seq":n,`. */
export function snapshotBodyOf(parts: SnapshotParts): string {
  return (
    `"at":${parts.at},"mode":"${parts.mode}","resolution":${parts.resolution},` +
    `"doctors":[${parts.doctors.join(',')}],"counts":${JSON.stringify(parts.counts)},` +
    `"bookings":${JSON.stringify(parts.bookings)},"traffic":${JSON.stringify(parts.traffic)}`
  );
}

/** The parts of a delta; `alerts` is already serialised (the same for every view). */
export interface DeltaParts {
  at: number;
  doctors: readonly string[];
  removed: readonly string[];
  counts: readonly LiveCount[];
  bookings: readonly LiveBooking[];
  alerts: string;
  traffic: readonly LiveTraffic[];
}

/** The body of a delta frame: everything after `"seq":n,`. */
export function deltaBodyOf(parts: DeltaParts): string {
  return (
    `"at":${parts.at},"doctors":[${parts.doctors.join(',')}],"removed":${JSON.stringify(parts.removed)},` +
    `"counts":${JSON.stringify(parts.counts)},"bookings":${JSON.stringify(parts.bookings)},` +
    `"alerts":${parts.alerts},"traffic":${JSON.stringify(parts.traffic)}`
  );
}

/** A whole frame from its type, seq and body. */
export function frameOf(type: 'snapshot' | 'delta', seq: number, body: string): string {
  return `{"type":"${type}","seq":${seq},${body}}`;
}
