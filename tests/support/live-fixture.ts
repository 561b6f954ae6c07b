/**
 * The live channel without sockets: a real Fleet and TrafficField on a settable clock, a hub ticking only when a test
 * calls `tick()`, and in-memory connections and topics that behave like uWS's (a published frame reaches every open
 * subscriber; `bufferedAmount` is whatever the test says).
 */
import { Registry } from 'prom-client';
import { LiveHub } from '../../api/live/live-hub.ts';
import { LiveMetrics } from '../../api/live/live-metrics.ts';
import { LiveSession } from '../../api/live/live-session.ts';
import type { AlertSource, BookingFeed } from '../../api/live/live-sources.ts';
import type { LiveLimits } from '../../api/live/protocol.ts';
import type { TopicConnection, TopicPublisher } from '../../api/sockets.ts';
import { Fleet } from '../../engine/fleet.ts';
import { TrafficField } from '../../geo/traffic-field.ts';

/** The time the live fixtures start at (a weekday morning in Moscow). */
export const LIVE_NOW = Date.UTC(2026, 10, 23, 7, 0, 0);

/** A connection that records the frames it receives, parsed. */
export class FakeTopicConnection implements TopicConnection {
  readonly frames: Record<string, unknown>[] = [];
  readonly topics = new Set<string>();
  buffered = 0;
  /** When set, send() refuses (as uWS does for a frame over maxBackpressure). */
  refuseSends = false;
  closedWith: number | undefined;

  get open(): boolean {
    return this.closedWith === undefined;
  }

  send(data: string | Uint8Array): boolean {
    if (!this.open || this.refuseSends) return false;
    this.receive(data);
    return true;
  }

  receive(data: string | Uint8Array): void {
    this.frames.push(JSON.parse(typeof data === 'string' ? data : Buffer.from(data).toString('utf8')));
  }

  bufferedAmount(): number {
    return this.open ? this.buffered : 0;
  }

  end(code: number): void {
    this.closedWith ??= code;
  }

  subscribe(topic: string): boolean {
    if (!this.open || this.topics.has(topic)) return false;
    this.topics.add(topic);
    return true;
  }

  unsubscribe(topic: string): boolean {
    return this.open && this.topics.delete(topic);
  }

  /** Frames received since the last call. */
  take(): Record<string, unknown>[] {
    return this.frames.splice(0);
  }
}

/** Topics over {@link FakeTopicConnection}s. */
export class FakeTopics implements TopicPublisher {
  readonly connections: FakeTopicConnection[] = [];
  published = 0;

  publish(topic: string, data: string | Uint8Array): boolean {
    this.published++;
    let any = false;
    for (const connection of this.connections) {
      if (connection.open && connection.topics.has(topic)) {
        connection.receive(data);
        any = true;
      }
    }
    return any;
  }

  subscriberCount(topic: string): number {
    return this.connections.filter((connection) => connection.open && connection.topics.has(topic)).length;
  }
}

/** A hub over a fresh fleet; `connect()` opens a dispatcher's session. */
export function liveFixture(
  options: { limits?: Partial<LiveLimits>; bookings?: BookingFeed; alerts?: AlertSource[] } = {},
) {
  const clock = { now: LIVE_NOW };
  const world = {
    fleet: new Fleet(),
    traffic: new TrafficField(),
  };
  const registry = new Registry();
  const metrics = new LiveMetrics(registry);
  const hub = new LiveHub({
    world: { fleet: () => world.fleet, traffic: () => world.traffic, now: () => clock.now },
    limits: { refreshMs: 1_000, ...options.limits },
    ...(options.bookings ? { bookings: options.bookings } : {}),
    ...(options.alerts ? { alerts: options.alerts } : {}),
    metrics,
  });
  const topics = new FakeTopics();
  hub.bind(topics);

  const connect = () => {
    const connection = new FakeTopicConnection();
    topics.connections.push(connection);
    const session = new LiveSession(
      { userId: 'dispatcher-1', role: 'dispatcher' },
      hub,
      metrics,
      () => clock.now,
    );
    session.attach(connection);
    const send = (frame: unknown) =>
      session.receive(
        new TextEncoder().encode(typeof frame === 'string' ? frame : JSON.stringify(frame)),
        false,
      );
    const subscribe = (bbox: [number, number, number, number], zoom: number) =>
      send({ type: 'subscribe', bbox, zoom });
    const close = () => {
      connection.end(1000);
      session.close();
    };
    return { connection, session, send, subscribe, close };
  };

  /** Advances the clock by `ms` (default one tick) and ticks. */
  const tick = (ms = hub.limits.tickMs) => {
    clock.now += ms;
    hub.tick();
  };

  // Phone times increase with every fix, so that two fixes between ticks are both newer than the last.
  let lastTs = 0;
  const fix = (
    doctorId: string,
    lat: number,
    lng: number,
    extra: { speed?: number; heading?: number } = {},
  ) => {
    lastTs = Math.max(lastTs + 1, clock.now);
    return world.fleet.applyFix({ doctorId, lat, lng, ts: lastTs, ...extra }, clock.now);
  };

  return { clock, world, hub, topics, metrics, registry, connect, tick, fix };
}
