import type { z } from 'zod';
import { CONFIG_ERROR_CODES } from '../engine/config.ts';
import { ENGINE_ERROR_CODES } from '../engine/errors.ts';
import { DISPATCH_ERROR_CODES } from '../dispatch/errors.ts';
import { GEO_ERROR_CODES, TotError } from '../geo/errors.ts';

/** Codes thrown by api/. */
export const API_ERROR_CODES = [
  'API_NOT_FOUND',
  'API_METHOD_NOT_ALLOWED',
  'API_VALIDATION_FAILED',
  'API_BODY_TOO_LARGE',
  'API_UNSUPPORTED_MEDIA_TYPE',
  'API_MALFORMED_JSON',
  'API_NOT_READY',
  'API_INTERNAL',
  /** No device token, or one that no registered device has (phone gateway). */
  'API_UNAUTHORIZED',
  /** A fix names a doctor other than the one the authenticated device belongs to. */
  'API_DOCTOR_MISMATCH',
  /** A batch holds more fixes than one frame or request may carry. */
  'API_BATCH_TOO_LARGE',
  /** A binary WebSocket frame that is not msgpack. */
  'API_MALFORMED_MSGPACK',
  /** The bus did not accept the fixes (e.g. Kafka unreachable); nothing was acknowledged, send them again. */
  'API_PUBLISH_FAILED',
  /** Too many frames of one connection wait for their acknowledgement; wait for acks before sending more. */
  'API_RATE_LIMITED',
  /** No `Authorization: Bearer <access token>` on a route that needs a user. */
  'API_UNAUTHENTICATED',
  /** The access or refresh token has expired: refresh, or log in again. */
  'API_TOKEN_EXPIRED',
  /** The token is malformed, tampered with, signed with another key or algorithm (`alg: none`), or revoked. */
  'API_TOKEN_INVALID',
  /** A refresh token was presented a second time: its whole login (family) is now revoked. */
  'API_TOKEN_REUSED',
  /** The user is authenticated but the role may not do this. */
  'API_FORBIDDEN',
  /** Wrong e-mail or password (the same answer for both). */
  'API_INVALID_CREDENTIALS',
  /** The e-mail is already registered. */
  'API_EMAIL_TAKEN',
  /** No such user, or one the caller may not see. */
  'API_USER_NOT_FOUND',
] as const;

/** Every code of the product, from every module. */
export const ERROR_CODES = [
  ...GEO_ERROR_CODES,
  ...CONFIG_ERROR_CODES,
  ...ENGINE_ERROR_CODES,
  ...DISPATCH_ERROR_CODES,
  ...API_ERROR_CODES,
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** How a code is presented: HTTP status and a short, stable title (RFC 9457). */
export interface ErrorEntry {
  status: number;
  title: string;
}

/**
 * The one catalogue of errors: every code with its HTTP status and title. TypeScript makes it exhaustive; a test
 * checks that the codes are unique and that docs/API.md documents each of them. WebSocket error frames reuse it
 * (`{ type: 'error', code, title, detail }`).
 */
export const ERROR_CATALOGUE: Record<ErrorCode, ErrorEntry> = {
  GEO_INVALID_COORDINATE: { status: 400, title: 'Invalid coordinate' },
  GEO_INVALID_RESOLUTION: { status: 400, title: 'Invalid H3 resolution' },
  GEO_INVALID_ARGUMENT: { status: 400, title: 'Invalid geometric argument' },
  GEO_INVALID_POLYGON: { status: 400, title: 'Invalid polygon' },
  GEO_INVALID_READING: { status: 400, title: 'Invalid traffic reading' },
  GEO_INVALID_SNAPSHOT: { status: 500, title: 'Invalid traffic snapshot' },
  GEO_INVALID_CELL: { status: 400, title: 'Invalid H3 cell' },
  CONFIG_INVALID: { status: 500, title: 'Invalid configuration' },
  ENGINE_DOCTOR_NOT_FOUND: { status: 404, title: 'Doctor not found' },
  ENGINE_INVALID_TRANSITION: { status: 409, title: 'Status transition not allowed' },
  ENGINE_INVALID_SNAPSHOT: { status: 500, title: 'Invalid snapshot' },
  ENGINE_INVALID_FIX: { status: 400, title: 'Invalid fix' },
  ENGINE_INVALID_ARGUMENT: { status: 400, title: 'Invalid argument' },
  ENGINE_STORE_UNAVAILABLE: { status: 503, title: 'Store unavailable' },
  ENGINE_SENSOR_NOT_FOUND: { status: 404, title: 'Traffic sensor not found' },
  ENGINE_INVALID_SENSOR: { status: 400, title: 'Invalid traffic sensor' },
  ENGINE_CLINIC_NOT_FOUND: { status: 404, title: 'Clinic not found' },
  ENGINE_PROFILE_NOT_FOUND: { status: 404, title: 'Doctor profile not found' },
  ENGINE_USER_NOT_FOUND: { status: 404, title: 'User not found' },
  ENGINE_DUPLICATE: { status: 409, title: 'Already taken' },
  ENGINE_ROLE_CONFLICT: { status: 409, title: 'Role does not allow this' },
  DISPATCH_BOOKING_NOT_FOUND: { status: 404, title: 'Booking not found' },
  DISPATCH_INVALID_TRANSITION: { status: 409, title: 'Booking transition not allowed' },
  DISPATCH_INVALID_BOOKING: { status: 400, title: 'Invalid booking' },
  DISPATCH_OFFER_NOT_OPEN: { status: 409, title: 'Offer not open' },
  DISPATCH_DOCTOR_UNAVAILABLE: { status: 409, title: 'Doctor unavailable' },
  DISPATCH_INVALID_ASSIGNMENT: { status: 500, title: 'Invalid assignment problem' },
  API_NOT_FOUND: { status: 404, title: 'Not found' },
  API_METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  API_VALIDATION_FAILED: { status: 400, title: 'Validation failed' },
  API_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  API_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  API_MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  API_NOT_READY: { status: 503, title: 'Not ready' },
  API_INTERNAL: { status: 500, title: 'Internal error' },
  API_UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  API_DOCTOR_MISMATCH: { status: 403, title: 'Fix for another doctor' },
  API_BATCH_TOO_LARGE: { status: 413, title: 'Batch too large' },
  API_MALFORMED_MSGPACK: { status: 400, title: 'Malformed msgpack' },
  API_PUBLISH_FAILED: { status: 503, title: 'Fixes not accepted by the bus' },
  API_RATE_LIMITED: { status: 429, title: 'Too many requests' },
  API_UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  API_TOKEN_EXPIRED: { status: 401, title: 'Token expired' },
  API_TOKEN_INVALID: { status: 401, title: 'Invalid token' },
  API_TOKEN_REUSED: { status: 401, title: 'Refresh token reused' },
  API_FORBIDDEN: { status: 403, title: 'Forbidden' },
  API_INVALID_CREDENTIALS: { status: 401, title: 'Invalid credentials' },
  API_EMAIL_TAKEN: { status: 409, title: 'E-mail already registered' },
  API_USER_NOT_FOUND: { status: 404, title: 'User not found' },
};

/** An RFC 9457 problem document, with the stable `code` and, for validation, the fields at fault. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: { field: string; message: string }[];
}

/** Turns anything thrown by a handler into a problem document; unknown errors become API_INTERNAL without details. */
export function problemOf(error: unknown, instance?: string): Problem {
  if (error instanceof TotError && error.code in ERROR_CATALOGUE) {
    const entry = ERROR_CATALOGUE[error.code as ErrorCode];
    const problem: Problem = {
      type: `/problems/${error.code}`,
      title: entry.title,
      status: entry.status,
      detail: error.message,
      code: error.code,
    };
    if (instance) problem.instance = instance;
    const errors = error.details['errors'];
    if (Array.isArray(errors)) problem.errors = errors as Problem['errors'];
    else if (typeof error.details['field'] === 'string') {
      problem.errors = [{ field: error.details['field'], message: error.message }];
    }
    return problem;
  }
  return {
    type: '/problems/API_INTERNAL',
    title: ERROR_CATALOGUE.API_INTERNAL.title,
    status: 500,
    detail: 'an internal error occurred; it has been logged',
    code: 'API_INTERNAL',
    ...(instance ? { instance } : {}),
  };
}

/**
 * Parses `input` with `schema`.
 *
 * @throws TotError `API_VALIDATION_FAILED` listing every field at fault (`where.field`) with its message.
 */
export function validate<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  where: string,
): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // An unknown key (strict schemas: mass assignment) is named itself, e.g. `body.role`, not its parent object.
  const errors = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          field: [where, ...issue.path.map(String), key].join('.'),
          message: 'is not an accepted field',
        }))
      : [{ field: [where, ...issue.path.map(String)].join('.'), message: issue.message }],
  );
  throw new TotError(
    'API_VALIDATION_FAILED',
    errors.map((error) => `${error.field}: ${error.message}`).join('; '),
    { errors },
  );
}

/** A WebSocket error frame: the problem of {@link problemOf} without the HTTP-only fields. */
export interface ErrorFrame {
  type: 'error';
  code: string;
  title: string;
  detail: string;
  errors?: { field: string; message: string }[];
}

/**
 * Turns anything thrown while handling a WebSocket frame into an error frame, with the same code, title and detail as
 * the HTTP problem (unknown errors become API_INTERNAL without details).
 */
export function errorFrameOf(error: unknown): ErrorFrame {
  const problem = problemOf(error);
  return {
    type: 'error',
    code: problem.code,
    title: problem.title,
    detail: problem.detail,
    ...(problem.errors ? { errors: problem.errors } : {}),
  };
}
