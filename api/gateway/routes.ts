import { z } from 'zod';
import { TotError } from '../../geo/errors.ts';
import { tokenOf, type Device } from '../devices.ts';
import type { ApiRequest, Router } from '../router.ts';
import { batchOfBody } from './fix-intake.ts';
import type { Transport } from './gateway-metrics.ts';
import { osmandParameters, osmandReportOf, traccarJsonReportOf } from './osmand.ts';
import type { PhoneGateway } from './phone-gateway.ts';

/**
 * The gateway's HTTP endpoints:
 * - POST /v1/fixes: `{batchId?, fixes: [...]}` from a device authenticated by its bearer token; 202 with
 *   `{batchId?, accepted, rejected: [{index, code, field, message}]}` once the accepted fixes are on the bus.
 * - GET or POST /v1/osmand: the OsmAnd protocol of Traccar Client and OsmAnd (query or form parameters), or Traccar
 *   Client's JSON body; 200 with an empty body once the fix is on the bus (those clients retry on anything else).
 */
/** POST /v1/fixes as documented (fix-intake.ts checks each fix and names every field at fault). */
const fixesBodySchema = z.object({
  batchId: z.union([z.string(), z.number()]).optional(),
  fixes: z.array(
    z.object({
      doctorId: z.string().optional(),
      lat: z.number(),
      lng: z.number(),
      ts: z.number().optional(),
      speed: z.number().optional(),
      heading: z.number().optional(),
      accuracy: z.number().optional(),
      battery: z.number().optional(),
    }),
  ),
});

/** The OsmAnd protocol's query parameters (also accepted as a form). */
const osmandQuerySchema = z.object({
  id: z.string().optional(),
  deviceid: z.string().optional(),
  token: z.string().optional(),
  lat: z.string().optional(),
  lon: z.string().optional(),
  timestamp: z.string().optional(),
  speed: z.string().optional(),
  bearing: z.string().optional(),
  heading: z.string().optional(),
  accuracy: z.string().optional(),
  batt: z.string().optional(),
  altitude: z.string().optional(),
});

const osmandMeta = {
  summary: 'A fix in the OsmAnd protocol (Traccar Client, OsmAnd)',
  description:
    "Query or form parameters, or Traccar Client's JSON body. Speed in knots. The phone socket is " +
    'GET /v1/doctor with a WebSocket upgrade (fix frames in, acknowledgements out; see docs/API.md).',
  tags: ['gateway'],
  query: osmandQuerySchema,
  response: { status: 200, description: 'empty: the fix is on the bus' },
  auth: true,
};

export function addGatewayRoutes(router: Router, gateway: PhoneGateway): void {
  router.post(
    '/v1/fixes',
    async (request) => {
      const { device, batch } = refusalsCounted(gateway, 'http', () => ({
        device: gateway.devices.authenticateToken(tokenOf(request.headers, request.query)),
        batch: batchOfBody(request.body),
      }));
      const ack = await gateway.submit(device, batch.candidates, 'http');
      return {
        status: 202,
        body: { ...(batch.batchId === undefined ? {} : { batchId: batch.batchId }), ...ack },
      };
    },
    {
      summary: 'A batch of fixes from a phone',
      description:
        'Authenticated by the device token. The same fixes can go over the WebSocket GET /v1/doctor (upgrade), ' +
        'which answers each frame with an acknowledgement.',
      tags: ['gateway'],
      body: fixesBodySchema,
      response: {
        status: 202,
        description: '`{batchId?, accepted, rejected: [{index, code, field, message}]}`',
      },
      auth: true,
    },
  );

  const osmand = async (request: ApiRequest) => {
    const { device, fix, fieldNames } = refusalsCounted(gateway, 'osmand', () =>
      readOsmand(gateway, request),
    );
    const ack = await gateway.submit(device, [fix], 'osmand');
    const first = ack.rejected[0];
    if (first) {
      // Name the client's own parameters (query.lon, query.bearing, form.batt, …), not the stream fields.
      const errors = ack.rejected.map((rejection) => ({
        field: fieldNames[rejection.field] ?? rejection.field,
        message: rejection.message,
      }));
      throw new TotError(first.code, errors.map((error) => `${error.field}: ${error.message}`).join('; '), {
        errors,
      });
    }
    return { status: 200 };
  };
  router.get('/v1/osmand', osmand, osmandMeta);
  router.post('/v1/osmand', osmand, {
    ...osmandMeta,
    bodyTypes: ['application/x-www-form-urlencoded', 'application/json'],
  });
}

/**
 * Authenticates and reads an OsmAnd request. The device is authenticated before the position is read, so that a
 * stranger learns nothing but 401; only a request without a device id at all gets the 400 naming `id`.
 */
function readOsmand(
  gateway: PhoneGateway,
  request: ApiRequest,
): { device: Device; fix: Record<string, unknown>; fieldNames: Record<string, string> } {
  const now = gateway.now();
  if (request.body !== undefined) {
    const deviceId = (request.body as { device_id?: unknown } | null)?.device_id;
    const token = tokenOf(request.headers, request.query);
    const device =
      typeof deviceId === 'string' && deviceId.trim() !== ''
        ? gateway.devices.authenticateDevice(deviceId.trim(), token)
        : undefined;
    // Without a device_id this throws, naming body.device_id; the fallback below only satisfies the types.
    const report = traccarJsonReportOf(request.body, now);
    const fieldNames = {
      lat: 'body.location.coords.latitude',
      lng: 'body.location.coords.longitude',
      speed: 'body.location.coords.speed',
      heading: 'body.location.coords.heading',
      accuracy: 'body.location.coords.accuracy',
      battery: 'body.location.battery.level',
      ts: 'body.location.timestamp',
    };
    return {
      device: device ?? gateway.devices.authenticateDevice(report.deviceId, token),
      fix: report.fix,
      fieldNames,
    };
  }
  const parameters = osmandParameters(request.query, request.form);
  const id = (parameters.get('id') ?? parameters.get('deviceid'))?.value.trim();
  const token =
    request.headers['authorization'] !== undefined
      ? tokenOf(request.headers, request.query)
      : parameters.get('token')?.value;
  const device = id ? gateway.devices.authenticateDevice(id, token) : undefined;
  // Without an id this throws, naming query.id; the fallback below only satisfies the types.
  const report = osmandReportOf(parameters, now);
  return {
    device: device ?? gateway.devices.authenticateDevice(report.deviceId, token),
    fix: report.fix,
    fieldNames: report.fieldNames,
  };
}

/** Runs `read`, counting a coded refusal (401, 400, 413) in the gateway's metrics before it propagates. */
function refusalsCounted<T>(gateway: PhoneGateway, transport: Transport, read: () => T): T {
  try {
    return read();
  } catch (error) {
    gateway.countRefusal(transport, error);
    throw error;
  }
}
