import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The engine's Prometheus metrics. One registry per engine instance (not prom-client's global one), so that tests can
 * run several engines in one process.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Stream messages consumed, by topic and outcome (applied, stale, dead_letter, unknown_doctor). */
  readonly messages = new Counter({
    name: 'tot_stream_messages_total',
    help: 'Stream records consumed by topic and outcome',
    labelNames: ['topic', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Records sent to the dead-letter topic, by source topic and reason. */
  readonly deadLetters = new Counter({
    name: 'tot_dead_letters_total',
    help: 'Records sent to the dead-letter topic by source topic and reason code',
    labelNames: ['topic', 'reason'] as const,
    registers: [this.registry],
  });

  /**
   * Next offset this instance has applied, per topic and partition: the partitions it consumes (a partition another
   * instance took over keeps its last value; see docs/SCALING.md).
   */
  readonly streamPositions = new Gauge({
    name: 'tot_stream_partition_position',
    help: 'Next offset applied by this instance per topic and partition',
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  /**
   * Records between this instance's position and the end of each partition it consumes, per topic and partition,
   * measured every few seconds; a partition this instance no longer consumes is removed.
   */
  readonly streamLag = new Gauge({
    name: 'tot_stream_lag_records',
    help: "Records between the consumer group's position and the partition's end per topic and partition",
    labelNames: ['topic', 'partition'] as const,
    registers: [this.registry],
  });

  /** Doctors known to the fleet, by status. */
  readonly doctors = new Gauge({
    name: 'tot_doctors',
    help: 'Doctors in the live fleet by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  /** Duration of snapshot writes to the backup. */
  readonly snapshotSeconds = new Histogram({
    name: 'tot_snapshot_seconds',
    help: 'Time to encode and write a fleet snapshot to the backup',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  /** Snapshot attempts by outcome (ok, failed). */
  readonly snapshots = new Counter({
    name: 'tot_snapshots_total',
    help: 'Snapshot attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Location history rows by outcome (written, dropped when the buffer overflowed). */
  readonly historyRows = new Counter({
    name: 'tot_history_rows_total',
    help: 'Location history rows by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Location history flushes that failed (rows kept for the next one). */
  readonly historyFlushFailures = new Counter({
    name: 'tot_history_flush_failures_total',
    help: 'Location history flushes that failed',
    registers: [this.registry],
  });

  /** HTTP requests by route and status. */
  readonly httpRequests = new Counter({
    name: 'tot_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  /** Bookings created, by triage priority (1–4). */
  readonly bookingsCreated = new Counter({
    name: 'tot_bookings_created_total',
    help: 'Bookings created by triage priority',
    labelNames: ['priority'] as const,
    registers: [this.registry],
  });

  /** Offers by outcome (sent, accepted, declined, lapsed). */
  readonly offers = new Counter({
    name: 'tot_offers_total',
    help: 'Offers to doctors by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  /** Time from an offer to its acceptance. */
  readonly offerAcceptSeconds = new Histogram({
    name: 'tot_offer_accept_seconds',
    help: 'Time from an offer being sent to the doctor accepting it',
    buckets: [1, 2, 5, 10, 15, 20, 30, 60],
    registers: [this.registry],
  });

  /** Bookings per batch assignment problem. */
  readonly matchingBatchSize = new Histogram({
    name: 'tot_matching_batch_size',
    help: 'Bookings in one batch assignment problem',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000],
    registers: [this.registry],
  });

  /** Time to solve one batch assignment problem. */
  readonly matchingSolveSeconds = new Histogram({
    name: 'tot_matching_solve_seconds',
    help: 'Time to solve one batch assignment problem',
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });

  /** Bookings whose arrival target passed before the doctor arrived, by priority. */
  readonly slaBreaches = new Counter({
    name: 'tot_sla_breaches_total',
    help: 'Bookings not arrived by their arrival target, by priority',
    labelNames: ['priority'] as const,
    registers: [this.registry],
  });

  /** Emergencies escalated to the emergency services, by priority. */
  readonly emergencyEscalations = new Counter({
    name: 'tot_emergency_escalations_total',
    help: 'Emergencies escalated to the emergency services, by priority',
    labelNames: ['priority'] as const,
    registers: [this.registry],
  });

  /** Doctors taken from a less urgent booking by an emergency, by the emergency's priority. */
  readonly preemptions = new Counter({
    name: 'tot_preemptions_total',
    help: 'Doctors taken from a less urgent booking by an emergency, by the emergency priority',
    labelNames: ['priority'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every metric. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
