/**
 * The base of the project's error catalogue. Every layer declares its own stable codes as a const tuple and throws
 * {@link TotError} with one of them; api/errors.ts maps every code to an HTTP status and a WebSocket error frame in one
 * place (TypeScript makes that map exhaustive).
 *
 * geo/ is the innermost module, so the base class lives here and every other module may import it.
 */
export class TotError<Code extends string = string> extends Error {
  /** A stable, documented code such as `GEO_INVALID_COORDINATE`; never reworded once published. */
  readonly code: Code;
  /** Machine-readable context: the offending field and value, limits, ids. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: Code, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'TotError';
    this.code = code;
    this.details = details;
  }
}

/** Codes thrown by geo/. */
export const GEO_ERROR_CODES = [
  'GEO_INVALID_COORDINATE',
  'GEO_INVALID_RESOLUTION',
  'GEO_INVALID_ARGUMENT',
  'GEO_INVALID_POLYGON',
  'GEO_INVALID_READING',
  'GEO_INVALID_SNAPSHOT',
  'GEO_INVALID_CELL',
] as const;

/** One of {@link GEO_ERROR_CODES}. */
export type GeoErrorCode = (typeof GEO_ERROR_CODES)[number];

/** Throws `GEO_INVALID_COORDINATE` unless lat ∈ [-90, 90] and lng ∈ [-180, 180] are finite numbers. */
export function assertLatLng(lat: number, lng: number): void {
  if (!Number.isFinite(lat) || lat < -90 || lat > 90) {
    throw new TotError('GEO_INVALID_COORDINATE', `lat must be a finite number in [-90, 90], got ${lat}`, {
      field: 'lat',
      value: lat,
    });
  }
  if (!Number.isFinite(lng) || lng < -180 || lng > 180) {
    throw new TotError('GEO_INVALID_COORDINATE', `lng must be a finite number in [-180, 180], got ${lng}`, {
      field: 'lng',
      value: lng,
    });
  }
}

/** Throws `GEO_INVALID_ARGUMENT` (field `now`) unless `now` is a finite number of ms since the epoch. */
export function assertTime(now: number): void {
  if (!Number.isFinite(now)) {
    throw new TotError(
      'GEO_INVALID_ARGUMENT',
      `now must be a finite number of ms since the epoch, got ${now}`,
      {
        field: 'now',
        value: now,
      },
    );
  }
}
