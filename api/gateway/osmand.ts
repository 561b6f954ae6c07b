import { TotError } from '../../geo/errors.ts';

/** Metres per second in one knot (1852 m per hour). */
export const MPS_PER_KNOT = 1852 / 3600;

/** Unix times below this are seconds, above are milliseconds (what Traccar does: 2^31 − 1 s is in 2038). */
const SECONDS_LIMIT = 2 ** 31 - 1;

/** One position request of an OsmAnd-protocol client, as the gateway will check it. */
export interface OsmandReport {
  /** The device identifier the client sends (`id` or `deviceid`). */
  deviceId: string;
  /** The `token` parameter, if any. */
  token: string | undefined;
  /** A fix candidate in stream units (docs/STREAMS.md), without doctorId (the device's doctor is filled in). */
  fix: Record<string, number>;
  /** Where each stream field came from, to name the client's own parameter in an error (e.g. lng → `query.lon`). */
  fieldNames: Record<string, string>;
}

/** Parameters read from the query string or a form body, remembering which one held each. */
export interface OsmandParameters {
  get(name: string): { value: string; field: string } | undefined;
}

/** The query string, overridden by a form body (POST application/x-www-form-urlencoded) where both have a name. */
export function osmandParameters(
  query: URLSearchParams,
  form: URLSearchParams | undefined,
): OsmandParameters {
  return {
    get(name) {
      const fromForm = form?.get(name);
      if (fromForm !== null && fromForm !== undefined) return { value: fromForm, field: `form.${name}` };
      const fromQuery = query.get(name);
      return fromQuery === null ? undefined : { value: fromQuery, field: `query.${name}` };
    },
  };
}

/**
 * Reads an OsmAnd-protocol position (what Traccar Client and OsmAnd's online tracking send):
 * `id` (or `deviceid`), `lat`, `lon`, `timestamp`, `speed` in knots, `bearing` (or `heading`), `altitude`, `accuracy`,
 * `batt`, `token`. Units become the stream's: speed to m/s, timestamp to ms. `timestamp` is unix seconds, unix ms (told
 * apart as Traccar does: below 2^31 − 1 it is seconds) or ISO 8601 with a zone; absent, it is `now` (as Traccar).
 * Negative speed, bearing, accuracy or battery mean "unknown" on iOS clients and are left out. `altitude` is checked
 * but not kept (fixes carry no altitude). Other parameters (hdop, charge, valid, …) are ignored. Ranges are checked
 * afterwards by the fix schema.
 *
 * @throws TotError `API_VALIDATION_FAILED` naming the parameter (e.g. `query.lat`) when one is missing or not a number.
 */
export function osmandReportOf(parameters: OsmandParameters, now: number): OsmandReport {
  const errors: { field: string; message: string }[] = [];
  const fix: Record<string, number> = {};
  const fieldNames: Record<string, string> = {};
  const id = parameters.get('id') ?? parameters.get('deviceid');
  if (!id || id.value.trim() === '')
    errors.push({ field: id?.field ?? 'query.id', message: 'is required (the device identifier)' });

  const number = (
    name: string,
    target: string | undefined,
    options: { required?: boolean; scale?: number; dropNegative?: boolean } = {},
  ) => {
    const parameter = parameters.get(name);
    if (!parameter || parameter.value.trim() === '') {
      if (options.required)
        errors.push({ field: parameter?.field ?? `query.${name}`, message: 'is required' });
      return;
    }
    const value = numberOf(parameter.value);
    if (value === undefined) {
      errors.push({
        field: parameter.field,
        message: `must be a number, got ${JSON.stringify(parameter.value)}`,
      });
      return;
    }
    if (target === undefined || (options.dropNegative && value < 0)) return;
    fix[target] = value * (options.scale ?? 1);
    fieldNames[target] = parameter.field;
  };
  number('lat', 'lat', { required: true });
  number('lon', 'lng', { required: true });
  number('speed', 'speed', { scale: MPS_PER_KNOT, dropNegative: true });
  number(parameters.get('bearing') ? 'bearing' : 'heading', 'heading', { dropNegative: true });
  number('accuracy', 'accuracy', { dropNegative: true });
  number('batt', 'battery', { dropNegative: true });
  number('altitude', undefined);

  const timestamp = parameters.get('timestamp');
  if (timestamp && timestamp.value.trim() !== '') {
    const ts = timestampOf(timestamp.value.trim());
    if (ts === undefined) {
      errors.push({
        field: timestamp.field,
        message: `must be unix seconds, unix milliseconds or ISO 8601 with a time zone, got ${JSON.stringify(timestamp.value)}`,
      });
    } else {
      fix['ts'] = ts;
      fieldNames['ts'] = timestamp.field;
    }
  } else {
    fix['ts'] = now;
  }
  if (errors.length > 0) {
    throw new TotError(
      'API_VALIDATION_FAILED',
      errors.map((error) => `${error.field}: ${error.message}`).join('; '),
      { errors },
    );
  }
  const token = parameters.get('token')?.value;
  return { deviceId: id!.value.trim(), token: token === '' ? undefined : token, fix, fieldNames };
}

/**
 * A time as Traccar's OsmAnd decoder reads it, in ms since the epoch: a whole number below 2^31 − 1 is seconds, a
 * larger one milliseconds; a decimal number is seconds (or ms) with a fraction; text with a `T` is ISO 8601, which must
 * carry a zone (`Z` or `±hh:mm`), since a local time means nothing on a server. Undefined when it is none of these.
 */
export function timestampOf(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) return undefined;
    return Math.round(value < SECONDS_LIMIT ? value * 1000 : value);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    const value = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    return Number.isFinite(value) ? value : undefined;
  }
  return undefined;
}

/** A body of Traccar Client's JSON protocol, read into a report; undefined when the body is not of that shape. */
export interface TraccarJsonReport {
  deviceId: string;
  fix: Record<string, number>;
}

/**
 * Reads Traccar Client's JSON POST (`{device_id, location: {timestamp, coords: {latitude, longitude, speed, heading,
 * accuracy, altitude}, battery: {level}}}`), as Traccar's own decoder reads it: here `speed` is already m/s, `timestamp`
 * is ISO 8601 (or unix s/ms), and `battery.level` a fraction (0.85 → 85 %). Negative values mean unknown and are left
 * out.
 *
 * @throws TotError `API_VALIDATION_FAILED` naming the field (`body.location.coords.latitude`, …) when one is missing or
 * of the wrong type.
 */
export function traccarJsonReportOf(body: unknown, now: number): TraccarJsonReport {
  const errors: { field: string; message: string }[] = [];
  const object = (value: unknown, field: string): Record<string, unknown> | undefined => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
    errors.push({ field, message: 'must be an object' });
    return undefined;
  };
  const root = object(body, 'body');
  const deviceId = root?.['device_id'];
  if (root && (typeof deviceId !== 'string' || deviceId.trim() === '')) {
    errors.push({ field: 'body.device_id', message: 'is required (the device identifier)' });
  }
  const location = root ? object(root['location'], 'body.location') : undefined;
  const coords = location ? object(location['coords'], 'body.location.coords') : undefined;
  const fix: Record<string, number> = {};
  const read = (
    source: Record<string, unknown> | undefined,
    key: string,
    field: string,
    target: string,
    required: boolean,
    scale = 1,
  ) => {
    if (!source) return;
    const value = source[key];
    if (value === undefined || value === null) {
      if (required) errors.push({ field, message: 'is required' });
      return;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      errors.push({ field, message: `must be a number, got ${JSON.stringify(value)}` });
      return;
    }
    if (!required && value < 0) return;
    fix[target] = value * scale;
  };
  read(coords, 'latitude', 'body.location.coords.latitude', 'lat', true);
  read(coords, 'longitude', 'body.location.coords.longitude', 'lng', true);
  read(coords, 'speed', 'body.location.coords.speed', 'speed', false);
  read(coords, 'heading', 'body.location.coords.heading', 'heading', false);
  read(coords, 'accuracy', 'body.location.coords.accuracy', 'accuracy', false);
  const battery = location?.['battery'];
  if (battery !== undefined && battery !== null)
    read(
      object(battery, 'body.location.battery'),
      'level',
      'body.location.battery.level',
      'battery',
      false,
      100,
    );
  const timestamp = location?.['timestamp'];
  if (timestamp === undefined || timestamp === null) fix['ts'] = now;
  else {
    const ts =
      typeof timestamp === 'string' || typeof timestamp === 'number'
        ? timestampOf(String(timestamp))
        : undefined;
    if (ts === undefined)
      errors.push({
        field: 'body.location.timestamp',
        message: 'must be ISO 8601 with a time zone, unix seconds or unix milliseconds',
      });
    else fix['ts'] = ts;
  }
  if (errors.length > 0) {
    throw new TotError(
      'API_VALIDATION_FAILED',
      errors.map((error) => `${error.field}: ${error.message}`).join('; '),
      { errors },
    );
  }
  return { deviceId: (deviceId as string).trim(), fix };
}

/** A decimal number ("55.75", "-1e-3"); undefined for anything else (NaN, Infinity, hex, empty). */
function numberOf(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}
