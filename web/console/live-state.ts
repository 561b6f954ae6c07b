/**
 * The console's picture of the city, kept from the /v1/live frames (docs/API.md, "Live map"): a snapshot replaces it,
 * each delta patches it. Pure: no DOM, no map, so it is tested on its own.
 */

/** A doctor in view. */
export interface LiveDoctor {
  id: string;
  lat: number;
  lng: number;
  status: string;
  heading?: number;
  speed?: number;
}

/** Doctors per cell, in "counts" mode (zoomed out or too many doctors in view). */
export interface LiveCount {
  cell: string;
  total: number;
  available: number;
}

/** A booking in view. */
export interface LiveBooking {
  id: string;
  status: string;
  priority: number;
  emergency: boolean;
  lat: number;
  lng: number;
  doctorId?: string;
  createdAt: number;
  etaSeconds?: number;
}

/** Traffic of one H3 cell; `level` 0 (free flow) … 3 (jammed). */
export interface LiveTraffic {
  cell: string;
  speedKmh: number;
  level: number;
}

/** An alert raised by the dispatcher. */
export interface LiveAlert {
  kind: 'emergency' | 'sla_breach' | 'escalation';
  bookingId: string;
  priority: number;
  lat: number;
  lng: number;
  at: number;
}

/** `{type:"snapshot"}`: the whole view after a subscribe. */
export interface SnapshotFrame {
  type: 'snapshot';
  seq: number;
  at: number;
  mode: 'doctors' | 'counts';
  resolution: number;
  doctors: LiveDoctor[];
  counts: LiveCount[];
  bookings: LiveBooking[];
  traffic: LiveTraffic[];
}

/** `{type:"delta"}`: what changed since the previous frame. */
export interface DeltaFrame {
  type: 'delta';
  seq: number;
  at: number;
  doctors?: LiveDoctor[];
  removed?: string[];
  counts?: LiveCount[];
  bookings?: LiveBooking[];
  alerts?: LiveAlert[];
  traffic?: LiveTraffic[];
}

/** What applying a frame did. */
export type ApplyOutcome = 'applied' | 'gap' | 'ignored';

/** Booking statuses that leave the queue (and the map). */
const CLOSED_BOOKING_STATUSES = new Set(['completed', 'cancelled']);

/** The live state of one console connection. */
export class LiveState {
  seq: number | undefined;
  at = 0;
  mode: 'doctors' | 'counts' = 'doctors';
  resolution = 0;
  readonly doctors = new Map<string, LiveDoctor>();
  readonly counts = new Map<string, LiveCount>();
  readonly bookings = new Map<string, LiveBooking>();
  readonly traffic = new Map<string, LiveTraffic>();
  /** Alerts newest first, at most {@link LiveState.maxAlerts}. */
  readonly alerts: LiveAlert[] = [];
  /** Frames applied since the connection opened. */
  frames = 0;

  constructor(readonly maxAlerts = 50) {}

  /**
   * Applies a frame. A snapshot replaces the state (bookings known from the REST list are kept: the live frames
   * only carry those in view). A delta whose seq is not the next one is a gap: nothing is applied and the caller
   * resubscribes for a fresh snapshot. Anything else (pong, error, unknown types) is ignored.
   */
  apply(frame: unknown): ApplyOutcome {
    if (!isFrame(frame)) return 'ignored';
    if (frame.type === 'snapshot') {
      this.seq = frame.seq;
      this.at = frame.at;
      this.mode = frame.mode;
      this.resolution = frame.resolution;
      this.doctors.clear();
      this.counts.clear();
      this.traffic.clear();
      for (const doctor of frame.doctors ?? []) this.doctors.set(doctor.id, doctor);
      for (const count of frame.counts ?? []) this.counts.set(count.cell, count);
      for (const cell of frame.traffic ?? []) this.traffic.set(cell.cell, cell);
      this.mergeBookings(frame.bookings ?? []);
      this.frames++;
      return 'applied';
    }
    if (this.seq === undefined || frame.seq !== this.seq + 1) return 'gap';
    this.seq = frame.seq;
    this.at = frame.at;
    for (const doctor of frame.doctors ?? []) this.doctors.set(doctor.id, doctor);
    for (const id of frame.removed ?? []) this.doctors.delete(id);
    for (const count of frame.counts ?? []) {
      if (count.total === 0) this.counts.delete(count.cell);
      else this.counts.set(count.cell, count);
    }
    for (const cell of frame.traffic ?? []) this.traffic.set(cell.cell, cell);
    this.mergeBookings(frame.bookings ?? []);
    for (const alert of frame.alerts ?? []) this.addAlert(alert);
    this.frames++;
    return 'applied';
  }

  /**
   * Merges bookings from GET /v1/bookings (or a frame): each one replaces what was known of it (a booking taken off
   * its doctor has no doctorId any more); closed ones leave. An emergency seen for the first time raises an alert,
   * so one is shown even when its alert frame was missed (reconnects, a booking made while out of view).
   */
  mergeBookings(bookings: readonly LiveBooking[]): void {
    for (const booking of bookings) {
      if (CLOSED_BOOKING_STATUSES.has(booking.status)) this.bookings.delete(booking.id);
      else this.bookings.set(booking.id, booking);
      if (booking.emergency && !CLOSED_BOOKING_STATUSES.has(booking.status)) {
        this.addAlert({
          kind: 'emergency',
          bookingId: booking.id,
          priority: booking.priority,
          lat: booking.lat,
          lng: booking.lng,
          at: booking.createdAt,
        });
      }
    }
  }

  /** Adds an alert (newest first), dropping the oldest past the bound; a repeat of the same one is ignored. */
  addAlert(alert: LiveAlert): void {
    if (this.alerts.some((known) => known.bookingId === alert.bookingId && known.kind === alert.kind)) return;
    this.alerts.unshift(alert);
    if (this.alerts.length > this.maxAlerts) this.alerts.length = this.maxAlerts;
  }

  /** Open bookings by priority (1 first), then oldest first: the order a dispatcher works the queue. */
  queue(): LiveBooking[] {
    return [...this.bookings.values()].sort(
      (a, b) => a.priority - b.priority || a.createdAt - b.createdAt || a.id.localeCompare(b.id),
    );
  }

  /** Doctors in view: individual ones in "doctors" mode, the sum of the cells in "counts" mode. */
  doctorCount(): number {
    if (this.mode === 'doctors') return this.doctors.size;
    let total = 0;
    for (const count of this.counts.values()) total += count.total;
    return total;
  }
}

function isFrame(frame: unknown): frame is SnapshotFrame | DeltaFrame {
  if (typeof frame !== 'object' || frame === null) return false;
  const { type, seq } = frame as { type?: unknown; seq?: unknown };
  return (type === 'snapshot' || type === 'delta') && typeof seq === 'number';
}
