import { Counter, Gauge, type Registry } from 'prom-client';

/** Transports of the phone gateway, as metric labels. */
export type Transport = 'ws' | 'http' | 'osmand';

/**
 * The phone gateway's Prometheus metrics, registered on the engine's registry (so /metrics shows them) by the
 * composition root. Every fix ends counted: accepted (published and acknowledged), rejected (with its code), or failed
 * (the bus refused the batch; the phone sends it again).
 */
export class GatewayMetrics {
  /** Fixes received by transport and outcome (accepted, rejected, failed). */
  readonly fixes: Counter<'transport' | 'outcome'>;
  /** Refusals (whole batches or single fixes) by transport and error code. */
  readonly errors: Counter<'transport' | 'code'>;
  /** Phone WebSockets open now. */
  readonly connections: Gauge;
  /** WebSockets the gateway closed, by reason (backpressure, shutdown). */
  readonly closedByServer: Counter<'reason'>;

  constructor(registry: Registry) {
    this.fixes = new Counter({
      name: 'tot_gateway_fixes_total',
      help: 'Fixes received by the phone gateway by transport and outcome',
      labelNames: ['transport', 'outcome'] as const,
      registers: [registry],
    });
    this.errors = new Counter({
      name: 'tot_gateway_errors_total',
      help: 'Batches and fixes refused by the phone gateway by transport and error code',
      labelNames: ['transport', 'code'] as const,
      registers: [registry],
    });
    this.connections = new Gauge({
      name: 'tot_gateway_connections',
      help: 'Phone WebSockets open',
      registers: [registry],
    });
    this.closedByServer = new Counter({
      name: 'tot_gateway_sockets_closed_total',
      help: 'Phone WebSockets closed by the gateway by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
  }
}
