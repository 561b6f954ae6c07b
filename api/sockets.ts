import uWS from 'uWebSockets.js';
import type { Logger } from '../engine/logger.ts';
import type { Metrics } from '../engine/metrics.ts';
import { problemOf } from './errors.ts';

/** An upgrade request as {@link SocketRoute.accept} sees it: copied out of uWebSockets.js, safe after an await. */
export interface UpgradeRequest {
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  remoteAddress: string;
}

/**
 * One open WebSocket, as a route's handlers use it. Every method is safe to call after the socket closed (sends are
 * then dropped and reported), and after an await (writes are corked).
 */
export interface SocketConnection {
  /** Sends a text (string) or binary frame. Returns false when the socket is closed or uWS dropped the frame. */
  send(data: string | Uint8Array): boolean;
  /** Bytes queued for this socket that the peer has not read yet (0 once closed). */
  bufferedAmount(): number;
  /** Closes the socket with a close frame; a no-op once closed. */
  end(code: number, reason: string): void;
  /** Whether the socket is still open. */
  readonly open: boolean;
}

/**
 * A connection that can join publish/subscribe topics: a frame published once on a topic (see {@link TopicPublisher})
 * reaches every connection subscribed to it, without a per-connection send from JavaScript.
 */
export interface TopicConnection extends SocketConnection {
  /** Joins `topic`; returns false when the socket is closed (or was already subscribed). */
  subscribe(topic: string): boolean;
  /** Leaves `topic`; returns false when the socket is closed or was not subscribed. */
  unsubscribe(topic: string): boolean;
}

/** Whether a connection can join topics (every connection a server opens can). */
export function isTopicConnection(connection: SocketConnection): connection is TopicConnection {
  const candidate = connection as Partial<TopicConnection>;
  return typeof candidate.subscribe === 'function' && typeof candidate.unsubscribe === 'function';
}

/**
 * The publishing side of topics, given to a route by the server it is attached to ({@link SocketRoute.bind}).
 * Publishing copies the frame into each subscriber's send queue natively; a subscriber whose queue is over the route's
 * `maxBackpressure` is skipped by uWS, so routes watch backpressure themselves before publishing.
 */
export interface TopicPublisher {
  /** Sends a text (string) or binary frame to every subscriber of `topic`; returns whether anyone was subscribed. */
  publish(topic: string, data: string | Uint8Array): boolean;
  /** Number of connections subscribed to `topic`. */
  subscriberCount(topic: string): number;
}

/**
 * A WebSocket endpoint on the HTTP server's app. The route's logic stays free of uWS: it gets copied requests, byte
 * frames and a {@link SocketConnection}, so that it can be tested without sockets. Handlers use method syntax so that
 * a route typed with its own session type fits `SocketRoute<unknown>`.
 */
export interface SocketRoute<Session> {
  /** uWS URL pattern, e.g. `/v1/doctor`. */
  pattern: string;
  /** Largest frame accepted; uWS closes the connection (code 1009) on a larger one. */
  maxPayloadLength: number;
  /** Seconds without any frame after which uWS closes the socket; it pings automatically before that. */
  idleTimeoutSeconds: number;
  /** Largest send queue uWS keeps for a socket before it drops frames. */
  maxBackpressure: number;
  /**
   * Decides at upgrade whether the socket opens; returns the session state. A thrown TotError is answered as its
   * problem+json (e.g. 401) and no socket is opened.
   */
  accept(request: UpgradeRequest): Session | Promise<Session>;
  /**
   * The socket opened; `connection` is how the session replies. On a server it is also a {@link TopicConnection}
   * (see {@link isTopicConnection}).
   */
  open(session: Session, connection: SocketConnection): void;
  /** A frame arrived; `data` is a copy the handler may keep. */
  message(session: Session, data: Uint8Array, isBinary: boolean): void;
  /** The socket closed (peer, timeout, {@link SocketConnection.end} or shutdown). */
  close(session: Session, code: number): void;
  /** The socket's send queue shrank after backpressure (uWS `drain`); optional. */
  drain?(session: Session): void;
  /**
   * Called once when the route is attached to a server, with that server's topics; routes that publish keep it.
   * Optional: routes without pub/sub leave it out.
   */
  bind?(topics: TopicPublisher): void;
  /**
   * Whether uWS closes a socket whose queue would exceed `maxBackpressure` instead of silently dropping the frame
   * (default false). A route whose frames must not go missing unnoticed sets it, as a safety net behind its own checks.
   */
  closeOnBackpressureLimit?: boolean;
}

interface UserData {
  session: unknown;
  connection?: UwsConnection;
}

/** What the server gives {@link attachSocketRoute}. */
export interface SocketHost {
  logger: Logger;
  metrics?: Metrics;
  /** Open sockets, so that shutdown can close them. */
  sockets: Set<SocketConnection>;
}

/**
 * Registers `route` on `app`. uWS rules kept here: the upgrade request is copied before `accept` may await, the
 * upgrade (or the refusal) is written corked and only if the client is still there, frames are copied because uWS
 * frees them when the callback returns, and a closed socket is never touched again.
 */
export function attachSocketRoute(
  app: uWS.TemplatedApp,
  route: SocketRoute<unknown>,
  host: SocketHost,
): void {
  app.ws<UserData>(route.pattern, {
    maxPayloadLength: route.maxPayloadLength,
    idleTimeout: route.idleTimeoutSeconds,
    maxBackpressure: route.maxBackpressure,
    // Typed as a number by uWS (a flag in C++): 1 closes, 0 drops.
    closeOnBackpressureLimit: route.closeOnBackpressureLimit ? 1 : 0,
    sendPingsAutomatically: true,
    compression: uWS.DISABLED,
    upgrade: (res, req, context) => {
      const state = { aborted: false };
      res.onAborted(() => {
        state.aborted = true;
      });
      const headers: Record<string, string> = {};
      req.forEach((key, value) => {
        headers[key] = value;
      });
      const request: UpgradeRequest = {
        path: req.getUrl(),
        query: new URLSearchParams(req.getQuery() ?? ''),
        headers,
        remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
      };
      const key = headers['sec-websocket-key'] ?? '';
      const protocol = headers['sec-websocket-protocol'] ?? '';
      const extensions = headers['sec-websocket-extensions'] ?? '';
      const count = (status: number) =>
        host.metrics?.httpRequests.inc({ method: 'GET', route: route.pattern, status });
      void (async () => {
        try {
          const session = await route.accept(request);
          count(101);
          if (state.aborted) return;
          res.cork(() => res.upgrade<UserData>({ session }, key, protocol, extensions, context));
        } catch (error) {
          const problem = problemOf(error, request.path);
          if (problem.status >= 500) host.logger.error({ err: error, path: request.path }, 'upgrade failed');
          count(problem.status);
          if (state.aborted) return;
          res.cork(() => {
            res.writeStatus(`${problem.status} ${problem.title}`);
            res.writeHeader('content-type', 'application/problem+json');
            if (problem.status === 401) res.writeHeader('www-authenticate', 'Bearer');
            res.end(JSON.stringify(problem));
          });
        }
      })();
    },
    open: (ws) => {
      const data = ws.getUserData();
      const connection = new UwsConnection(ws);
      data.connection = connection;
      host.sockets.add(connection);
      route.open(data.session, connection);
    },
    message: (ws, message, isBinary) => {
      route.message(ws.getUserData().session, new Uint8Array(message.slice(0)), isBinary);
    },
    close: (ws, code) => {
      const data = ws.getUserData();
      if (data.connection) {
        data.connection.markClosed();
        host.sockets.delete(data.connection);
      }
      route.close(data.session, code);
    },
    drain: (ws) => {
      route.drain?.(ws.getUserData().session);
    },
  });
  route.bind?.({
    publish: (topic, data) => app.publish(topic, data, typeof data !== 'string'),
    subscriberCount: (topic) => app.numSubscribers(topic),
  });
}

/** {@link SocketConnection} over a uWS WebSocket. */
class UwsConnection implements TopicConnection {
  private closed = false;

  constructor(private readonly ws: uWS.WebSocket<UserData>) {}

  get open(): boolean {
    return !this.closed;
  }

  send(data: string | Uint8Array): boolean {
    if (this.closed) return false;
    let status = 0;
    // Sends usually follow an await (the bus acknowledgement): cork them into one write.
    this.ws.cork(() => {
      status = this.ws.send(data, typeof data !== 'string');
    });
    // 1: sent, 0: queued (backpressure building up), 2: dropped by uWS over maxBackpressure.
    return status !== 2;
  }

  bufferedAmount(): number {
    return this.closed ? 0 : this.ws.getBufferedAmount();
  }

  end(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.ws.end(code, reason);
  }

  subscribe(topic: string): boolean {
    return !this.closed && this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): boolean {
    return !this.closed && this.ws.unsubscribe(topic);
  }

  /** uWS calls close after which the WebSocket object must not be used. */
  markClosed(): void {
    this.closed = true;
  }
}
