import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The live channel's Prometheus metrics, registered on the engine's registry by the composition root. */
export class LiveMetrics {
  /** Live-map WebSockets open now. */
  readonly connections: Gauge;
  /** Frames sent by kind: a snapshot or pong per connection, a delta once per group (pub/sub fans it out). */
  readonly frames: Counter<'kind'>;
  /** Times a connection was over its buffer bound and stopped receiving deltas until it drained. */
  readonly coalesced: Counter;
  /** Duration of a tick: drain the fleet's changes, build and publish the deltas. */
  readonly tickSeconds: Histogram;

  constructor(registry: Registry) {
    this.connections = new Gauge({
      name: 'tot_live_connections',
      help: 'Live-map WebSockets open',
      registers: [registry],
    });
    this.frames = new Counter({
      name: 'tot_live_frames_total',
      help: 'Live-map frames sent by kind (deltas counted once per published group)',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
    this.coalesced = new Counter({
      name: 'tot_live_coalesced_total',
      help: 'Live-map connections paused for being over their buffer bound',
      registers: [registry],
    });
    this.tickSeconds = new Histogram({
      name: 'tot_live_tick_seconds',
      help: 'Duration of a live-map tick',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
      registers: [registry],
    });
  }
}
