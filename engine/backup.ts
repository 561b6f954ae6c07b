import { Packr } from 'msgpackr';
import { TotError } from '../geo/errors.ts';
import type { PartState, StreamPositions } from './bus.ts';

/**
 * What a backup holds: the engine's live state at one moment and the stream positions that state reflects, so that a
 * restarted engine restores the state and resumes its streams exactly there.
 */
export interface SnapshotEnvelope {
  /** Format version of the envelope. */
  version: 1;
  /** When the snapshot was taken, ms since the epoch. */
  takenAt: number;
  /** Next offset to read per topic and partition. */
  positions: StreamPositions;
  /** The fleet's own snapshot bytes (engine/fleet.ts). */
  fleet: Uint8Array;
  /** The traffic field's snapshot (plain data). */
  traffic: unknown;
}

/** Where snapshots go: Redis in production (engine/backup-redis.ts), a file in the embedded default (engine/backup-file.ts). */
export interface Backup {
  /** `redis` or `file`, for /readyz and logs. */
  readonly kind: string;
  /** Stores the envelope, replacing the previous one atomically. Throws when the backing store is unreachable. */
  save(envelope: SnapshotEnvelope): Promise<void>;
  /** The last saved envelope, or undefined if there is none. Throws ENGINE_INVALID_SNAPSHOT if it cannot be decoded. */
  load(): Promise<SnapshotEnvelope | undefined>;
  /** Health: `degraded` while the backing store is unreachable. */
  state(): PartState;
  close(): Promise<void>;
}

// Records (structures) off: the envelope is written rarely and must decode without shared structure state.
const packr = new Packr({ useRecords: false, moreTypes: true });

/** Encodes an envelope as msgpack. */
export function encodeEnvelope(envelope: SnapshotEnvelope): Uint8Array {
  return packr.pack(envelope);
}

/**
 * Decodes and checks an envelope.
 *
 * @throws TotError `ENGINE_INVALID_SNAPSHOT` when the bytes are not an envelope of a known version.
 */
export function decodeEnvelope(bytes: Uint8Array): SnapshotEnvelope {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch (error) {
    throw new TotError(
      'ENGINE_INVALID_SNAPSHOT',
      `snapshot is not valid msgpack: ${(error as Error).message}`,
    );
  }
  const envelope = value as Partial<SnapshotEnvelope> | null;
  if (
    !envelope ||
    typeof envelope !== 'object' ||
    envelope.version !== 1 ||
    typeof envelope.takenAt !== 'number' ||
    !(envelope.fleet instanceof Uint8Array) ||
    typeof envelope.positions !== 'object' ||
    envelope.positions === null
  ) {
    throw new TotError(
      'ENGINE_INVALID_SNAPSHOT',
      'snapshot envelope is missing fields or has an unknown version',
      {
        version: envelope && typeof envelope === 'object' ? envelope.version : undefined,
      },
    );
  }
  return envelope as SnapshotEnvelope;
}
