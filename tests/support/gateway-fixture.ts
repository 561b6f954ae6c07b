import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { Registry } from 'prom-client';
import { DeviceRegistry } from '../../api/devices.ts';
import { problemOf } from '../../api/errors.ts';
import { FixPublisher } from '../../api/gateway/fix-publisher.ts';
import { GatewayMetrics } from '../../api/gateway/gateway-metrics.ts';
import { PhoneGateway } from '../../api/gateway/phone-gateway.ts';
import { addGatewayRoutes } from '../../api/gateway/routes.ts';
import { Router, type ApiRequest, type ApiResponse } from '../../api/router.ts';
import type { BusRecord } from '../../engine/bus.ts';
import { InProcessBus } from '../../engine/in-process-bus.ts';

/** The time the gateway fixtures live at. */
export const NOW = Date.UTC(2026, 10, 22, 9, 0, 0);

/** Two phones: phone-1 reports for doctor doc-1, phone-2 for doc-2. */
export const TOKENS = { 'phone-1': 'token-of-phone-one-0001', 'phone-2': 'token-of-phone-two-0002' } as const;

const packr = new Packr({ useRecords: false });

/** Encodes a value as the stream codec does (plain msgpack maps and arrays). */
export const encode = (value: unknown): Uint8Array => packr.pack(value);

/** Decodes a bus record's value. */
export const decode = (bytes: Uint8Array): unknown => packr.unpack(bytes);

/** The registry of {@link TOKENS}. */
export function testDevices(): DeviceRegistry {
  return new DeviceRegistry(
    Object.entries(TOKENS).map(([deviceId, token], index) => ({
      deviceId,
      doctorId: `doc-${index + 1}`,
      tokenSha256: createHash('sha256').update(token).digest('hex'),
    })),
  );
}

/**
 * A gateway over an in-process bus, with a subscriber that collects what reaches tot.fixes, and the gateway's routes
 * on a router whose `request` answers as the server would (problems for thrown errors). Call `close` when done.
 */
export async function gatewayFixture(options: { lingerMs?: number } = {}) {
  const bus = new InProcessBus();
  const records: BusRecord[] = [];
  const subscription = await bus.subscribe(['tot.fixes'], (batch) => void records.push(...batch), {
    group: 'test',
  });
  const publisher = new FixPublisher({ bus, topic: 'tot.fixes', encode, lingerMs: options.lingerMs ?? 0 });
  const registry = new Registry();
  const metrics = new GatewayMetrics(registry);
  const gateway = new PhoneGateway({ devices: testDevices(), publisher, clock: () => NOW, metrics });
  const router = new Router();
  addGatewayRoutes(router, gateway);

  const request = async (
    method: 'GET' | 'POST',
    url: string,
    init: { headers?: Record<string, string>; body?: unknown; form?: string } = {},
  ): Promise<ApiResponse> => {
    const parsed = new URL(url, 'http://test');
    const incoming: Omit<ApiRequest, 'params'> = {
      method,
      path: parsed.pathname,
      query: parsed.searchParams,
      headers: init.headers ?? {},
      remoteAddress: '127.0.0.1',
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(init.form === undefined ? {} : { form: new URLSearchParams(init.form) }),
    };
    try {
      return await router.handle(incoming);
    } catch (error) {
      const problem = problemOf(error, parsed.pathname);
      return { status: problem.status, body: problem };
    }
  };

  /** Every fix that reached the bus so far, decoded, in order. */
  const published = () => records.flatMap((record) => decode(record.value) as Record<string, unknown>[]);

  return {
    bus,
    records,
    published,
    publisher,
    gateway,
    registry,
    request,
    close: async () => {
      await publisher.close();
      await subscription.close();
      await bus.close();
    },
  };
}
