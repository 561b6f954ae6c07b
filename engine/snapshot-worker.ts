/**
 * The snapshot worker thread (started by engine/snapshot-encoder.ts): receives the fleet's captures, keeps the lists of
 * strings they refer to (engine/snapshot-strings.ts), encodes each snapshot and transfers the bytes back.
 *
 * It runs at a lower scheduling priority than the event loop: on a machine with few cores the two compete for one, and
 * a snapshot that takes a little longer harms nobody, while an event loop kept waiting delays every request.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { CaptureDictionary } from './snapshot-strings.ts';
import { type SnapshotRequest, answerSnapshotRequest, transferablesOfResponse } from './snapshot-protocol.ts';

/** Nice value of the worker thread (0 = the process's; 19 = lowest). */
const WORKER_NICE = 10;

/** Lowers this thread's priority where threads have their own (Linux: /proc/thread-self names the thread's task). */
function lowerPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, WORKER_NICE);
  } catch {
    // Elsewhere the worker keeps the process's priority: slower to give way, otherwise the same.
  }
}

const port = parentPort;
if (port === null) throw new Error('engine/snapshot-worker.ts must run as a worker thread');
lowerPriority();
const dictionary = new CaptureDictionary();

port.on('message', (request: SnapshotRequest) => {
  const response = answerSnapshotRequest(request, dictionary);
  if (response === undefined) return;
  // Moved, not copied: the envelope's buffer holds nothing else (encodeEnvelopeAlone; every encoding here starts in a
  // buffer of its own, so msgpackr never writes into one given away), and the capture's buffers are done with.
  port.postMessage(response, transferablesOfResponse(response));
});
