/**
 * One dispatcher's live-map connection, without the socket: it parses the frames the map sends (subscribe, ping),
 * answers a bad one with an error frame and keeps the socket open, and limits how often the viewport may change.
 * What the connection receives after a subscribe is the hub's business (api/live/live-hub.ts).
 */
import { TotError } from '../../geo/errors.ts';
import type { Principal } from '../auth/tokens.ts';
import { errorFrameOf, validate } from '../errors.ts';
import type { TopicConnection } from '../sockets.ts';
import type { LiveHub } from './live-hub.ts';
import type { LiveMetrics } from './live-metrics.ts';
import type { LiveGroup, LiveSubscriber } from './live-view.ts';
import { clientFrameSchema } from './protocol.ts';
import { viewportOf, type Viewport } from './viewport.ts';

const PONG = '{"type":"pong"}';

/** A live-map connection. */
export class LiveSession implements LiveSubscriber {
  viewport: Viewport | undefined;
  group: LiveGroup | undefined;
  lastSeq: number | undefined;
  private socket: TopicConnection | undefined;
  private windowStartedAt = Number.NEGATIVE_INFINITY;
  private subscribesInWindow = 0;

  constructor(
    readonly principal: Principal,
    private readonly hub: LiveHub,
    private readonly metrics?: LiveMetrics,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The open socket. @throws Error before {@link attach}: the hub only sees attached sessions. */
  get connection(): TopicConnection {
    if (!this.socket) throw new Error('live session used before its socket opened');
    return this.socket;
  }

  /** Binds the session to its open socket. */
  attach(connection: TopicConnection): void {
    this.socket = connection;
  }

  /**
   * Handles one frame. Text frames are JSON: `{type: "subscribe", bbox, zoom}` or `{type: "ping"}`. Anything else is
   * answered with an error frame (`API_MALFORMED_JSON`, `API_VALIDATION_FAILED` naming the field, or
   * `API_RATE_LIMITED` past `subscribesPerSecond`); the socket stays open and nothing changes.
   */
  receive(data: Uint8Array, isBinary: boolean): void {
    try {
      const frame = validate(clientFrameSchema, decode(data, isBinary), 'frame');
      if (frame.type === 'ping') {
        this.send(PONG, 'pong');
        return;
      }
      this.spendSubscribe();
      this.hub.subscribe(this, viewportOf(frame.bbox, frame.zoom));
    } catch (error) {
      this.send(JSON.stringify(errorFrameOf(error)), 'error');
    }
  }

  /** The socket closed. */
  close(): void {
    this.hub.leave(this);
  }

  private send(frame: string, kind: 'pong' | 'error'): void {
    if (this.socket?.send(frame)) this.metrics?.frames.inc({ kind });
  }

  /** @throws TotError `API_RATE_LIMITED` when this second's subscribes are spent. */
  private spendSubscribe(): void {
    const now = this.clock();
    if (now - this.windowStartedAt >= 1_000) {
      this.windowStartedAt = now;
      this.subscribesInWindow = 0;
    }
    const limit = this.hub.limits.subscribesPerSecond;
    if (this.subscribesInWindow >= limit) {
      throw new TotError(
        'API_RATE_LIMITED',
        `more than ${limit} subscribe frames in a second; send the viewport when the map settles`,
        { limit, retryAfterSeconds: 1 },
      );
    }
    this.subscribesInWindow++;
  }
}

/**
 * @throws TotError `API_VALIDATION_FAILED` for a binary frame, `API_MALFORMED_JSON` for text that is not JSON.
 */
function decode(data: Uint8Array, isBinary: boolean): unknown {
  if (isBinary) {
    throw new TotError('API_VALIDATION_FAILED', 'frames must be JSON text; binary frames are not accepted', {
      field: '(frame)',
    });
  }
  try {
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (error) {
    throw new TotError('API_MALFORMED_JSON', `text frame is not JSON: ${(error as Error).message}`, {
      field: '(frame)',
    });
  }
}
