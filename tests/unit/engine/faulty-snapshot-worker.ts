/**
 * A snapshot worker for tests: the real one (engine/snapshot-protocol.ts), except for snapshots taken at the times
 * below, at which it crashes, never answers, or answers with an error.
 */
import { parentPort } from 'node:worker_threads';
import {
  type SnapshotRequest,
  answerSnapshotRequest,
  transferablesOfResponse,
} from '../../../engine/snapshot-protocol.ts';
import { CaptureDictionary } from '../../../engine/snapshot-strings.ts';

/** takenAt of a snapshot at which the worker throws (and so dies). */
export const CRASH_AT = 1_111;
/** takenAt of a snapshot the worker never answers. */
export const HANG_AT = 2_222;
/** takenAt of a snapshot the worker answers with an error. */
export const REFUSE_AT = 3_333;

const port = parentPort;
if (port !== null) {
  const dictionary = new CaptureDictionary();
  port.on('message', (request: SnapshotRequest) => {
    if (request.type === 'encode' && request.takenAt === CRASH_AT)
      throw new Error('worker crashed on purpose');
    if (request.type === 'encode' && request.takenAt === HANG_AT) return;
    if (request.type === 'encode' && request.takenAt === REFUSE_AT) {
      port.postMessage({
        job: request.job,
        ok: false,
        error: { message: 'refused on purpose', code: 'TEST' },
      });
      return;
    }
    const response = answerSnapshotRequest(request, dictionary);
    if (response !== undefined) port.postMessage(response, transferablesOfResponse(response));
  });
}
