import { fixSchema, TIMESTAMP_WINDOW, type FixMessage } from '../../engine/stream-schemas.ts';
import { TotError } from '../../geo/errors.ts';
import type { Device } from '../devices.ts';
import type { ErrorCode } from '../errors.ts';

/**
 * Most fixes in one WebSocket frame or POST /v1/fixes body. A phone that buffered while offline sends its backlog in
 * several batches; the gateway's stream messages stay far below the consumer's 256 KiB limit (1000 fixes of the
 * largest kind encode to about 190 KiB).
 */
export const MAX_FIXES_PER_BATCH = 1000;

/**
 * Why one fix of a batch was refused: its position in the batch, a catalogue code, the field at fault and what is wrong
 * with it. A fix with several bad fields has one rejection per field.
 */
export interface Rejection {
  index: number;
  code: ErrorCode;
  field: string;
  message: string;
}

/** The outcome of checking a batch: the fixes to publish and the refused ones. */
export interface Intake {
  fixes: FixMessage[];
  rejected: Rejection[];
}

/**
 * Checks every candidate of a batch sent by `device`, each on its own so that one bad fix does not refuse the good ones
 * beside it. A fix is what tot.fixes carries (engine/stream-schemas.ts, the schema the stream consumer applies), with
 * `doctorId` optional: absent, it is the device's doctor; present, it must be the device's doctor (a phone cannot move
 * another doctor: API_DOCTOR_MISMATCH). `ts` must lie in the consumer's window around `now`, so that what the
 * gateway acknowledges is never a dead letter later. Unknown fields are dropped.
 */
export function checkFixes(candidates: readonly unknown[], device: Device, now: number): Intake {
  const intake: Intake = { fixes: [], rejected: [] };
  candidates.forEach((candidate, index) => {
    if (candidate === null || typeof candidate !== 'object' || Array.isArray(candidate)) {
      intake.rejected.push({
        index,
        code: 'API_VALIDATION_FAILED',
        field: '(fix)',
        message: 'must be an object',
      });
      return;
    }
    const named = (candidate as { doctorId?: unknown }).doctorId;
    const parsed = fixSchema.safeParse(
      named === undefined ? { ...candidate, doctorId: device.doctorId } : candidate,
    );
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        intake.rejected.push({
          index,
          code: 'API_VALIDATION_FAILED',
          field: issue.path.map(String).join('.') || '(fix)',
          message: issue.message,
        });
      }
      return;
    }
    const fix = parsed.data;
    if (fix.doctorId !== device.doctorId) {
      intake.rejected.push({
        index,
        code: 'API_DOCTOR_MISMATCH',
        field: 'doctorId',
        message: `device ${device.deviceId} reports for doctor ${JSON.stringify(device.doctorId)}, not ${JSON.stringify(fix.doctorId)}`,
      });
      return;
    }
    if (fix.ts < now - TIMESTAMP_WINDOW.pastMs || fix.ts > now + TIMESTAMP_WINDOW.futureMs) {
      const ago = fix.ts < now;
      intake.rejected.push({
        index,
        code: 'API_VALIDATION_FAILED',
        field: 'ts',
        message: ago
          ? `${fix.ts} is more than ${TIMESTAMP_WINDOW.pastMs / 3_600_000} h in the past (now ${now})`
          : `${fix.ts} is more than ${TIMESTAMP_WINDOW.futureMs / 60_000} min in the future (now ${now}); check the phone's clock`,
      });
      return;
    }
    intake.fixes.push(fix);
  });
  return intake;
}

/** A batch identifier the client chose, echoed in the acknowledgement. */
export type BatchId = string | number;

/** A batch as a transport received it, before each fix is checked. */
export interface Batch {
  candidates: unknown[];
  batchId?: BatchId;
}

/**
 * Reads a decoded WebSocket frame (JSON or msgpack, the same shapes): an array of fixes, the envelope
 * `{type: 'fixes', batchId?, fixes: [...]}`, or one fix (an object without `type`).
 *
 * @throws TotError `API_VALIDATION_FAILED` naming the field (`type`, `batchId`, `fixes`) when the frame has none of these
 * shapes or is empty; `API_BATCH_TOO_LARGE` over {@link MAX_FIXES_PER_BATCH} fixes.
 */
export function batchOfFrame(value: unknown): Batch {
  if (Array.isArray(value)) return checkedBatch(value, undefined, 'fixes');
  if (value === null || typeof value !== 'object')
    throw invalid('(frame)', 'must be a fix, an array of fixes or {type: "fixes", fixes: [...]}');
  const frame = value as { type?: unknown; fixes?: unknown; batchId?: unknown };
  if (frame.type === undefined) return checkedBatch([value], undefined, 'fixes');
  if (frame.type !== 'fixes') throw invalid('type', `must be "fixes", got ${JSON.stringify(frame.type)}`);
  if (!Array.isArray(frame.fixes)) throw invalid('fixes', 'must be an array of fixes');
  return checkedBatch(frame.fixes, batchIdOf(frame.batchId, 'batchId'), 'fixes');
}

/**
 * Reads the body of POST /v1/fixes: `{batchId?, fixes: [...]}`.
 *
 * @throws TotError `API_VALIDATION_FAILED` naming `body`, `body.fixes` or `body.batchId`; `API_BATCH_TOO_LARGE` naming
 * `body.fixes` over {@link MAX_FIXES_PER_BATCH} fixes.
 */
export function batchOfBody(body: unknown): Batch {
  if (body === undefined) throw invalid('body', 'is required: {fixes: [...]} as application/json');
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw invalid('body', 'must be an object {fixes: [...]}');
  const { fixes, batchId } = body as { fixes?: unknown; batchId?: unknown };
  if (!Array.isArray(fixes)) throw invalid('body.fixes', 'must be an array of fixes');
  return checkedBatch(fixes, batchIdOf(batchId, 'body.batchId'), 'body.fixes');
}

function checkedBatch(candidates: unknown[], batchId: BatchId | undefined, field: string): Batch {
  if (candidates.length === 0) throw invalid(field, 'must hold at least one fix');
  if (candidates.length > MAX_FIXES_PER_BATCH) {
    throw new TotError(
      'API_BATCH_TOO_LARGE',
      `${field} holds ${candidates.length} fixes; at most ${MAX_FIXES_PER_BATCH} per batch, send the rest in further batches`,
      { field, limit: MAX_FIXES_PER_BATCH },
    );
  }
  return batchId === undefined ? { candidates } : { candidates, batchId };
}

function batchIdOf(value: unknown, field: string): BatchId | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length >= 1 && value.length <= 64) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw invalid(field, 'must be a string of 1–64 characters or a non-negative integer');
}

function invalid(field: string, message: string): TotError<'API_VALIDATION_FAILED'> {
  return new TotError('API_VALIDATION_FAILED', `${field}: ${message}`, { errors: [{ field, message }] });
}
