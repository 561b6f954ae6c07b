/**
 * The messages between the engine and its snapshot worker (engine/snapshot-encoder.ts ↔ engine/snapshot-worker.ts),
 * and what the worker does with them. The same {@link encodeSnapshotRequest} runs in the calling thread when there is
 * no worker (after the engine stopped), so both give the same bytes.
 */
import { type SnapshotEnvelope, encodeEnvelopeAlone } from './backup.ts';
import type { StreamPositions } from './bus.ts';
import { type FleetCapture, poolableBuffersOf } from './fleet-capture.ts';
import { columnsOfCapture } from './fleet-columns.ts';
import { encodeFleetSnapshot } from './fleet-snapshot.ts';
import { type CaptureDictionary, type StringUpdates, applyStringUpdates } from './snapshot-strings.ts';

/** Doctor ids sent ahead of a capture (no answer). */
export interface SnapshotIdsRequest {
  type: 'ids';
  ids: StringUpdates;
}

/** One snapshot to encode: the envelope's parts, taken together with the fleet's capture. */
export interface SnapshotEncodeRequest {
  type: 'encode';
  job: number;
  takenAt: number;
  positions: StreamPositions;
  traffic: unknown;
  fleet: FleetCapture;
  /** The buffer of an earlier envelope, given back to be written over (engine/backup.ts, Backup.releasesBytes). */
  envelopeBuffer?: ArrayBuffer;
}

export type SnapshotRequest = SnapshotIdsRequest | SnapshotEncodeRequest;

/** The encoded envelope (its buffer transferred); the fleet's bytes are its last `fleetLength` bytes. */
export interface SnapshotEncoded {
  job: number;
  ok: true;
  bytes: Uint8Array<ArrayBuffer>;
  fleetLength: number;
  /** The capture's buffers, done with, for the next capture (engine/fleet-capture.ts, CaptureBuffers). */
  buffers: Record<string, ArrayBuffer>;
  /** Time spent building the columns and packing, ms. */
  encodeMs: number;
}

/** Why a snapshot could not be encoded (an Error does not survive the trip with its code). */
export interface SnapshotEncodeFailed {
  job: number;
  ok: false;
  error: { message: string; code?: string };
}

export type SnapshotResponse = SnapshotEncoded | SnapshotEncodeFailed;

/** Encodes one snapshot: the capture's columns, the fleet's bytes, then the envelope around them. */
export function encodeSnapshotRequest(
  request: SnapshotEncodeRequest,
  dictionary: CaptureDictionary,
): SnapshotEncoded {
  const started = performance.now();
  const fleet = encodeFleetSnapshot(columnsOfCapture(request.fleet, dictionary));
  const envelope: SnapshotEnvelope = {
    version: 1,
    takenAt: request.takenAt,
    positions: request.positions,
    fleet,
    traffic: request.traffic,
  };
  const bytes = encodeEnvelopeAlone(envelope, request.envelopeBuffer);
  return {
    job: request.job,
    ok: true,
    bytes,
    fleetLength: fleet.byteLength,
    buffers: poolableBuffersOf(request.fleet),
    encodeMs: performance.now() - started,
  };
}

/** The buffers to transfer with a response: the envelope's, and the capture's going back. */
export function transferablesOfResponse(response: SnapshotResponse): ArrayBuffer[] {
  return response.ok ? [response.bytes.buffer, ...new Set(Object.values(response.buffers))] : [];
}

/** The answer to a request, or undefined for a request that has none; a failure is answered, not thrown. */
export function answerSnapshotRequest(
  request: SnapshotRequest,
  dictionary: CaptureDictionary,
): SnapshotResponse | undefined {
  if (request.type === 'ids') {
    applyStringUpdates(dictionary.ids, request.ids);
    return undefined;
  }
  try {
    return encodeSnapshotRequest(request, dictionary);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      job: request.job,
      ok: false,
      error: { message: (error as Error).message, ...(typeof code === 'string' ? { code } : {}) },
    };
  }
}
