/**
 * The /v1/live protocol: the frames a dispatcher's map sends (zod schemas, the single source of their shape) and the
 * frames the server sends back (types), plus the channel's limits. docs/API.md "/v1/live" describes the same.
 */
import { z } from 'zod';
import type { BookingStatus, TriageCategory } from '../../dispatch/booking-types.ts';
import type { DoctorStatus } from '../../engine/fleet.ts';

const longitude = z.number().min(-180).max(180);
const latitude = z.number().min(-90).max(90);

/**
 * `{type: "subscribe", bbox: [west, south, east, north], zoom}` — sets or replaces the connection's viewport. A bbox
 * crossing the antimeridian (west > east) is refused: the service covers one city, and a map showing both sides of
 * the 180th meridian sends two viewports' worth of trouble for no user of it.
 */
export const subscribeFrameSchema = z.object({
  type: z.literal('subscribe'),
  bbox: z
    .tuple([longitude, latitude, longitude, latitude])
    .refine(([, south, , north]) => south < north, { error: 'south (bbox[1]) must be below north (bbox[3])' })
    .refine(([west, , east]) => west < east, {
      error:
        'west (bbox[0]) must be less than east (bbox[2]); a bbox crossing the antimeridian is not supported',
    }),
  zoom: z.number().min(0).max(24),
});

/** `{type: "ping"}`, answered `{type: "pong"}`. */
export const pingFrameSchema = z.object({ type: z.literal('ping') });

/** Every frame a client may send. */
export const clientFrameSchema = z.discriminatedUnion('type', [subscribeFrameSchema, pingFrameSchema]);

/** A parsed client frame. */
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/** A doctor on the map. Coordinates are rounded to 6 decimals (≈0.1 m), heading to 1, speed (m/s) to 2. */
export interface LiveDoctor {
  id: string;
  lat: number;
  lng: number;
  status: DoctorStatus;
  heading?: number;
  speed?: number;
}

/** Doctors of one H3 cell (counts mode). */
export interface LiveCount {
  cell: string;
  total: number;
  available: number;
}

/** A booking on the map. `etaSeconds` is the ETA given when the doctor was assigned. */
export interface LiveBooking {
  id: string;
  status: BookingStatus;
  priority: TriageCategory;
  emergency: boolean;
  lat: number;
  lng: number;
  doctorId?: string;
  createdAt: number;
  etaSeconds?: number;
}

/** What an alert is about. */
export type AlertKind = 'emergency' | 'sla_breach' | 'escalation';

/** Something a dispatcher must see now, wherever it is (alerts are not limited to the viewport). */
export interface LiveAlert {
  kind: AlertKind;
  bookingId: string;
  priority: TriageCategory;
  lat: number;
  lng: number;
  /** ms since the epoch. */
  at: number;
}

/** The traffic estimate of one cell of the traffic field (speed rounded to 1 km/h; level 0 free … 3 jammed). */
export interface LiveTraffic {
  cell: string;
  speedKmh: number;
  level: number;
}

/** How the viewport is drawn: single doctors, or counts per cell. */
export type LiveMode = 'doctors' | 'counts';

/** The first frame after each subscribe (and after a coalesced client drained): the whole state of the view. */
export interface SnapshotFrame {
  type: 'snapshot';
  seq: number;
  at: number;
  mode: LiveMode;
  resolution: number;
  doctors: LiveDoctor[];
  counts: LiveCount[];
  bookings: LiveBooking[];
  traffic: LiveTraffic[];
}

/** What changed in the view since the previous frame; sent only when something did. */
export interface DeltaFrame {
  type: 'delta';
  seq: number;
  at: number;
  doctors: LiveDoctor[];
  removed: string[];
  counts: LiveCount[];
  bookings: LiveBooking[];
  alerts: LiveAlert[];
  traffic: LiveTraffic[];
}

/** Every frame the server sends (error frames are api/errors.ts `ErrorFrame`). */
export type ServerFrame = SnapshotFrame | DeltaFrame | { type: 'pong' };

/** Tunables of the live channel; the defaults are documented in docs/API.md. */
export interface LiveLimits {
  /** How often deltas are built and published, ms (LIVE_TICK_MS). Default 100. */
  tickMs: number;
  /**
   * Unread bytes queued for a connection above which it is sent nothing more until it drains
   * (LIVE_MAX_BUFFERED_BYTES). Default 256 KiB. A snapshot goes out whenever the queue is below half of it, so the
   * bound may be smaller than a snapshot (2 000 doctors are about 200 KiB); a connection holds at most the bound plus
   * one frame.
   */
  maxBufferedBytes: number;
  /** H3 resolution of the cells deltas are routed by (the internal topics). Default 6 (≈36 km², 3.7 km edges). */
  topicResolution: number;
  /** Below this zoom the view is drawn as counts. Default 13. */
  countsBelowZoom: number;
  /** More doctors than this in the view at subscribe time: counts. Default 2 000. */
  maxDoctorsInView: number;
  /** A doctors-mode view may span at most this many topic cells (else counts). Default 400. */
  maxTopicCells: number;
  /** How often counts and traffic are recomputed, ms. Default 1 000. */
  refreshMs: number;
  /** Subscribe frames one connection may send per second; more are answered API_RATE_LIMITED. Default 10. */
  subscribesPerSecond: number;
  /** Largest client frame; uWS closes the connection (1009) on a larger one. Default 4 KiB. */
  maxPayloadLength: number;
  /** Seconds without a frame (pongs count) before the socket is closed. Default 120. */
  idleTimeoutSeconds: number;
}

/** The default {@link LiveLimits}. */
export const LIVE_LIMITS: LiveLimits = {
  tickMs: 100,
  maxBufferedBytes: 256 * 1024,
  topicResolution: 6,
  countsBelowZoom: 13,
  maxDoctorsInView: 2_000,
  maxTopicCells: 400,
  refreshMs: 1_000,
  subscribesPerSecond: 10,
  maxPayloadLength: 4 * 1024,
  idleTimeoutSeconds: 120,
};

/** Roles that may open the live map. */
export const LIVE_ROLES = ['dispatcher', 'admin'] as const;
