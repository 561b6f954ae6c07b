/**
 * Codes thrown by engine/. Each is mapped to an HTTP status and a WebSocket error frame in api/errors.ts; once
 * published a code is never reworded. Throw them as `new TotError(code, message, details)` with a message that names
 * the field and the value.
 */
export const ENGINE_ERROR_CODES = [
  /** No doctor with that id is known to the fleet. */
  'ENGINE_DOCTOR_NOT_FOUND',
  /** A status change the transition table does not allow (e.g. available → on_site); nothing changed. */
  'ENGINE_INVALID_TRANSITION',
  /** Snapshot bytes that are not a fleet snapshot of a known version, or are internally inconsistent. */
  'ENGINE_INVALID_SNAPSHOT',
  /** A fix with a missing id, coordinates out of range or non-finite numbers; nothing changed. */
  'ENGINE_INVALID_FIX',
  /** Any other bad argument to an engine API (profile fields, options, status names); nothing changed. */
  'ENGINE_INVALID_ARGUMENT',
  /** The store (PostgreSQL or PGlite) is not ready or unreachable; try again later. */
  'ENGINE_STORE_UNAVAILABLE',
  /** No traffic sensor (detector or camera) with that id is registered. */
  'ENGINE_SENSOR_NOT_FOUND',
  /** A traffic sensor with a missing or bad field (id, kind, lat/lng, text lengths); nothing was written. */
  'ENGINE_INVALID_SENSOR',
  /** No clinic with that id (or one the caller may not see). */
  'ENGINE_CLINIC_NOT_FOUND',
  /** No doctor profile with that doctor id (or, for GET /v1/me/doctor, none linked to the caller). */
  'ENGINE_PROFILE_NOT_FOUND',
  /** A user named in a request (e.g. the user to link to a profile) does not exist. */
  'ENGINE_USER_NOT_FOUND',
  /** A value that must be unique is taken (a license number, a doctor id, a user already linked); nothing written. */
  'ENGINE_DUPLICATE',
  /** The user's role does not allow what was asked (e.g. making an admin a doctor); nothing was written. */
  'ENGINE_ROLE_CONFLICT',
] as const;

/** One of {@link ENGINE_ERROR_CODES}. */
export type EngineErrorCode = (typeof ENGINE_ERROR_CODES)[number];
