import type { PartState } from '../../engine/bus.ts';
import type { Router } from '../router.ts';

/** One part's health as /readyz shows it. */
export interface PartHealth {
  kind: string;
  state: PartState;
  detail?: string;
}

/** What the health routes read. */
export interface HealthSource {
  /** Every part (bus, store, backup, …) with its state. */
  parts(): Record<string, PartHealth>;
  /** Prometheus text exposition. */
  metricsText(): Promise<string>;
}

/**
 * GET /healthz: the process is alive and serving (200 as soon as the server listens).
 * GET /readyz: every part is usable. 200 with `status: ready` when all are ready, 200 with `status: degraded` when a
 * part is degraded but the engine still serves (e.g. the backup store is down: positions stay in memory), 503 while any
 * part is starting or down.
 * GET /metrics: Prometheus text format.
 */
export function addHealthRoutes(router: Router, source: HealthSource): void {
  router.get('/healthz', () => ({ status: 200, body: { status: 'ok' } }), {
    summary: 'Liveness',
    tags: ['health'],
    response: { status: 200, description: '`{status: "ok"}` as soon as the server listens' },
    auth: false,
  });
  router.get(
    '/readyz',
    () => {
      const parts = source.parts();
      const states = Object.values(parts).map((part) => part.state);
      const status = states.some((state) => state === 'starting' || state === 'down')
        ? 'not_ready'
        : states.some((state) => state === 'degraded')
          ? 'degraded'
          : 'ready';
      return { status: status === 'not_ready' ? 503 : 200, body: { status, parts } };
    },
    {
      summary: 'Readiness of every part',
      description: '503 with `status: not_ready` while a part is starting or down.',
      tags: ['health'],
      response: { status: 200, description: '`{status: ready|degraded, parts}`' },
      auth: false,
    },
  );
  router.get(
    '/metrics',
    async () => ({
      status: 200,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
      body: await source.metricsText(),
    }),
    {
      summary: 'Prometheus metrics',
      tags: ['health'],
      response: { status: 200, description: 'Prometheus text exposition', contentType: 'text/plain' },
      auth: false,
    },
  );
}
