import type { DispatchService } from '../../dispatch/booking-types.ts';
import { TotError } from '../../geo/errors.ts';
import { bearerOf, type Principal } from '../auth/tokens.ts';
import { errorFrameOf } from '../errors.ts';
import {
  bookingViewFor,
  canSee,
  viewerOf,
  visibleBooking,
  type DoctorIdOfUser,
  type Viewer,
} from '../routes/bookings-access.ts';
import type { SocketConnection, SocketRoute, UpgradeRequest } from '../sockets.ts';
import type { TrackFrame, TrackHub, TrackWatcher } from './track-hub.ts';

/** Limits of the tracking socket; the values are documented in docs/API.md. */
export interface TrackSocketLimits {
  /** Largest frame from the client (it is not expected to send any). Default 1 KiB. */
  maxPayloadLength: number;
  /** Seconds of silence before the socket is closed; uWS pings before that. Default 60. */
  idleTimeoutSeconds: number;
  /** Unread bytes queued for a client beyond which the socket is closed (1008). Default 64 KiB. */
  maxBufferedBytes: number;
}

/** The default {@link TrackSocketLimits}. */
export const TRACK_SOCKET_LIMITS: TrackSocketLimits = {
  maxPayloadLength: 1024,
  idleTimeoutSeconds: 60,
  maxBufferedBytes: 64 * 1024,
};

/** Close codes of the tracking socket. */
export const TRACK_CLOSE = {
  /** The booking was completed or cancelled (after its status frame), or is no longer the viewer's to see. */
  done: 1000,
  /** The client does not read its frames. */
  notReading: 1008,
  /** The booking could not be read at the start (store down); reconnect later. */
  unavailable: 1011,
} as const;

/** What the tracking socket needs. */
export interface TrackSocketOptions {
  hub: TrackHub;
  dispatch: () => Pick<DispatchService, 'get'>;
  /** Verifies a user's access token (api/auth/tokens.ts `AccessTokens`). */
  tokens: { verify(token: string): Promise<Principal> };
  doctorIdOfUser: DoctorIdOfUser;
  limits?: TrackSocketLimits;
}

/**
 * One tracking socket, without the socket: it forwards the hub's frames as JSON, each booking shown as this viewer may
 * see it, closes once the booking is finished or no longer visible to the viewer (a doctor taken off it), and closes
 * a client that lets frames pile up unread.
 */
export class TrackSession implements TrackWatcher {
  private connection: SocketConnection | undefined;
  private stopWatching: (() => void) | undefined;

  constructor(
    readonly bookingId: string,
    readonly viewer: Viewer,
    private readonly hub: TrackHub,
    private readonly limits: TrackSocketLimits = TRACK_SOCKET_LIMITS,
  ) {}

  /** The socket opened: start tracking. */
  attach(connection: SocketConnection): void {
    this.connection = connection;
    this.stopWatching = this.hub.watch(this.bookingId, this);
  }

  /** The socket closed: stop tracking. */
  detach(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
  }

  send(frame: TrackFrame): void {
    if (frame.type !== 'position' && !canSee(this.viewer, frame.booking)) {
      this.end(TRACK_CLOSE.done, 'booking no longer visible');
      return;
    }
    const shown =
      frame.type === 'position' ? frame : { ...frame, booking: bookingViewFor(this.viewer, frame.booking) };
    this.write(JSON.stringify(shown));
  }

  finished(): void {
    this.stopWatching = undefined;
    this.end(TRACK_CLOSE.done, 'booking finished');
  }

  failed(error: unknown): void {
    this.stopWatching = undefined;
    this.write(JSON.stringify(errorFrameOf(error)));
    this.end(TRACK_CLOSE.unavailable, 'booking could not be read');
  }

  /** A frame from the client: none is expected; it is answered with an error frame and the socket stays open. */
  onFrame(): void {
    const error = new TotError(
      'API_VALIDATION_FAILED',
      'the tracking socket takes no frames from the client',
      {
        field: '(frame)',
      },
    );
    this.write(JSON.stringify(errorFrameOf(error)));
  }

  private write(text: string): void {
    const connection = this.connection;
    if (!connection?.open) return;
    if (connection.bufferedAmount() > this.limits.maxBufferedBytes || !connection.send(text)) {
      this.end(TRACK_CLOSE.notReading, 'frames are not being read');
    }
  }

  private end(code: number, reason: string): void {
    this.detach();
    this.connection?.end(code, reason);
  }
}

/**
 * The tracking WebSocket at `/v1/bookings/:id/track`, for the booking's patient, its assigned doctor, dispatchers and
 * admins. The user authenticates at the upgrade with `?access_token=<JWT>` (browsers cannot set headers on a
 * WebSocket) or `Authorization: Bearer`; 401 without a valid token, 404 DISPATCH_BOOKING_NOT_FOUND for a booking that
 * does not exist or is not the user's to see (the same answer), and no socket opens.
 */
export function trackSocketRoute(options: TrackSocketOptions): SocketRoute<TrackSession> {
  const limits = options.limits ?? TRACK_SOCKET_LIMITS;
  return {
    pattern: '/v1/bookings/:id/track',
    maxPayloadLength: limits.maxPayloadLength,
    idleTimeoutSeconds: limits.idleTimeoutSeconds,
    maxBackpressure: limits.maxBufferedBytes * 4,
    accept: async (request) => {
      const principal = await options.tokens.verify(accessTokenOf(request));
      const bookingId = bookingIdOf(request.path);
      const viewer = await viewerOf(principal, options.doctorIdOfUser);
      await visibleBooking(options.dispatch(), viewer, bookingId);
      return new TrackSession(bookingId, viewer, options.hub, limits);
    },
    open: (session, connection) => session.attach(connection),
    message: (session) => session.onFrame(),
    close: (session) => session.detach(),
  };
}

/**
 * The access token of an upgrade: `?access_token=` or the bearer header.
 *
 * @throws TotError `API_UNAUTHENTICATED` when there is none.
 */
function accessTokenOf(request: UpgradeRequest): string {
  const token = request.query.get('access_token') ?? bearerOf(request.headers);
  if (!token) {
    throw new TotError('API_UNAUTHENTICATED', 'the tracking socket needs ?access_token=<access token>', {
      field: 'access_token',
    });
  }
  return token;
}

/**
 * The booking id of `/v1/bookings/<id>/track`.
 *
 * @throws TotError `API_VALIDATION_FAILED` naming `path.id` when it is not a valid id.
 */
function bookingIdOf(path: string): string {
  const segment = path.split('/')[3] ?? '';
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    id = '';
  }
  if (id.trim() === '' || id.length > 64) {
    throw new TotError('API_VALIDATION_FAILED', `path.id: ${JSON.stringify(segment)} is not a booking id`, {
      field: 'path.id',
    });
  }
  return id;
}
