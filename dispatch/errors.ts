/**
 * Codes thrown by dispatch/. Each is mapped to an HTTP status and a WebSocket error frame in api/errors.ts; once
 * published a code is never reworded. Throw them as `new TotError(code, message, details)` with a message that names
 * the field and the value.
 */
export const DISPATCH_ERROR_CODES = [
  /** No booking with that id, or one the caller may not see. */
  'DISPATCH_BOOKING_NOT_FOUND',
  /** A booking status change the lifecycle does not allow (e.g. completed → en_route); nothing changed. */
  'DISPATCH_INVALID_TRANSITION',
  /** A booking with a missing or bad field (coordinates, priority, scheduled time, texts); nothing was written. */
  'DISPATCH_INVALID_BOOKING',
  /** The doctor answering an offer is not the one it was sent to, or the offer is no longer open. */
  'DISPATCH_OFFER_NOT_OPEN',
  /** The doctor named for a manual assignment cannot take it (not available, unknown, or already bound). */
  'DISPATCH_DOCTOR_UNAVAILABLE',
  /** An assignment problem with inconsistent arrays, a column out of range or a non-finite cost. */
  'DISPATCH_INVALID_ASSIGNMENT',
] as const;

/** One of {@link DISPATCH_ERROR_CODES}. */
export type DispatchErrorCode = (typeof DISPATCH_ERROR_CODES)[number];
