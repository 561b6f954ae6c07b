import type { Logger } from '../../engine/logger.ts';
import type { FixMessage } from '../../engine/stream-schemas.ts';
import { TotError } from '../../geo/errors.ts';
import type { Device, DeviceRegistry } from '../devices.ts';
import { checkFixes, type Rejection } from './fix-intake.ts';
import type { GatewayMetrics, Transport } from './gateway-metrics.ts';

/** Options of {@link PhoneGateway}. */
export interface PhoneGatewayOptions {
  devices: DeviceRegistry;
  /** Where accepted fixes go; {@link FixPublisher} in the application. */
  publisher: { publish(fixes: readonly FixMessage[]): Promise<void> };
  /** The engine's clock (simulated time when the simulator runs faster than the wall clock), for the `ts` window. */
  clock: () => number;
  metrics?: GatewayMetrics;
  logger?: Logger;
}

/** What a batch came to: how many fixes are on the bus, and why the others were refused. */
export interface Acknowledgement {
  accepted: number;
  rejected: Rejection[];
}

/**
 * The core the three transports share (WebSocket /v1/doctor, POST /v1/fixes, OsmAnd /v1/osmand): it checks a device's
 * batch fix by fix, publishes the good fixes, and answers once the bus has accepted them. It knows nothing of sockets.
 */
export class PhoneGateway {
  readonly devices: DeviceRegistry;

  constructor(private readonly options: PhoneGatewayOptions) {
    this.devices = options.devices;
  }

  /** The engine's time now, ms since the epoch. */
  now(): number {
    return this.options.clock();
  }

  /**
   * Checks and publishes a batch from an authenticated `device`. Resolves when every accepted fix is on the bus.
   *
   * @throws TotError `API_PUBLISH_FAILED` when the bus refused them: nothing of the batch is acknowledged and the phone
   * should send it again (applying is idempotent, so a batch that did reach the bus is harmless the second time).
   */
  async submit(
    device: Device,
    candidates: readonly unknown[],
    transport: Transport,
  ): Promise<Acknowledgement> {
    const { metrics } = this.options;
    const intake = checkFixes(candidates, device, this.options.clock());
    for (const rejection of intake.rejected) metrics?.errors.inc({ transport, code: rejection.code });
    const refused = new Set(intake.rejected.map((rejection) => rejection.index)).size;
    if (refused > 0) metrics?.fixes.inc({ transport, outcome: 'rejected' }, refused);
    if (intake.fixes.length > 0) {
      try {
        await this.options.publisher.publish(intake.fixes);
      } catch (error) {
        metrics?.fixes.inc({ transport, outcome: 'failed' }, intake.fixes.length);
        metrics?.errors.inc({ transport, code: 'API_PUBLISH_FAILED' });
        this.options.logger?.warn(
          { err: error, deviceId: device.deviceId, fixes: intake.fixes.length },
          'gateway: bus refused fixes',
        );
        throw new TotError(
          'API_PUBLISH_FAILED',
          'the fixes could not be published now; send them again later',
          {
            reason: (error as Error).message,
          },
        );
      }
      metrics?.fixes.inc({ transport, outcome: 'accepted' }, intake.fixes.length);
    }
    return { accepted: intake.fixes.length, rejected: intake.rejected };
  }

  /** Counts a refusal that happened before {@link submit} (authentication, a malformed batch). */
  countRefusal(transport: Transport, error: unknown): void {
    const code = error instanceof TotError ? error.code : 'API_INTERNAL';
    this.options.metrics?.errors.inc({ transport, code });
  }

  /** The gateway's metrics, for the transports' own counters (connections). */
  get metrics(): GatewayMetrics | undefined {
    return this.options.metrics;
  }
}
