import { TotError } from '../../geo/errors.ts';
import { bearerOf, type AccessTokens } from '../auth/tokens.ts';
import { isTopicConnection, type SocketRoute } from '../sockets.ts';
import type { LiveHub } from './live-hub.ts';
import type { LiveMetrics } from './live-metrics.ts';
import { LiveSession } from './live-session.ts';
import { LIVE_ROLES } from './protocol.ts';

/** Room uWS keeps beyond the hub's own bound, so that the hub's check (which coalesces) acts before uWS would. */
const BACKPRESSURE_HEADROOM = 16 * 1024 * 1024;

/** What {@link liveSocketRoute} needs. */
export interface LiveRouteOptions {
  hub: LiveHub;
  /** Verifies access tokens (an AccessTokens, or a cache in front of it). */
  tokens: Pick<AccessTokens, 'verify'>;
  metrics?: LiveMetrics;
}

/**
 * The dispatchers' live map at `/v1/live` (docs/API.md "/v1/live"). The upgrade carries an access token as
 * `?access_token=` (browsers cannot set headers on a WebSocket) or `Authorization: Bearer`; without one it is answered
 * 401 API_UNAUTHENTICATED, with a bad one 401 API_TOKEN_INVALID or API_TOKEN_EXPIRED, and for a role other than
 * dispatcher or admin 403 API_FORBIDDEN; no socket opens then.
 */
export function liveSocketRoute({ hub, tokens, metrics }: LiveRouteOptions): SocketRoute<LiveSession> {
  const limits = hub.limits;
  return {
    pattern: '/v1/live',
    maxPayloadLength: limits.maxPayloadLength,
    idleTimeoutSeconds: limits.idleTimeoutSeconds,
    maxBackpressure: limits.maxBufferedBytes + BACKPRESSURE_HEADROOM,
    // A frame uWS dropped would be a silent gap in the client's seq; closing tells the client to reconnect.
    closeOnBackpressureLimit: true,
    accept: async (request) => {
      const token = request.query.get('access_token') ?? bearerOf(request.headers);
      if (!token) {
        throw new TotError(
          'API_UNAUTHENTICATED',
          '/v1/live needs an access token: ?access_token=<token> or Authorization: Bearer <token>',
          { field: 'access_token' },
        );
      }
      const principal = await tokens.verify(token);
      if (!(LIVE_ROLES as readonly string[]).includes(principal.role)) {
        throw new TotError(
          'API_FORBIDDEN',
          `role ${principal.role} may not open the live map (needs ${LIVE_ROLES.join(' or ')})`,
          { roles: LIVE_ROLES },
        );
      }
      return new LiveSession(principal, hub, metrics);
    },
    open: (session, connection) => {
      metrics?.connections.inc();
      if (!isTopicConnection(connection)) {
        connection.end(1011, 'this server cannot publish to topics');
        return;
      }
      session.attach(connection);
    },
    message: (session, data, isBinary) => session.receive(data, isBinary),
    close: (session) => {
      session.close();
      metrics?.connections.dec();
    },
    drain: (session) => hub.drained(session),
    bind: (topics) => hub.bind(topics),
  };
}
