import { Packr } from 'msgpackr';
import { TotError } from '../geo/errors.ts';
import type { PartState, StreamPositions } from './bus.ts';
import { packInto } from './fleet-snapshot.ts';

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
  /**
   * Stores the envelope, replacing the previous one atomically. `encoded`, when given, is the envelope's bytes as
   * {@link encodeEnvelope} gives them, already encoded off the event loop: the backup writes them as they are. Throws
   * when the backing store is unreachable.
   */
  save(envelope: SnapshotEnvelope, encoded?: Uint8Array): Promise<void>;
  /**
   * True when the backup keeps no reference to `encoded` (nor to `envelope.fleet`, a view into it) once save() has
   * settled: the engine then reuses that memory for the next snapshot rather than leave 11 MB (100k doctors) to the
   * garbage collector at every snapshot, which pays for it with a pause of the event loop.
   */
  readonly releasesBytes?: boolean;
  /** The last saved envelope, or undefined if there is none. Throws ENGINE_INVALID_SNAPSHOT if it cannot be decoded. */
  load(): Promise<SnapshotEnvelope | undefined>;
  /** Health: `degraded` while the backing store is unreachable. */
  state(): PartState;
  close(): Promise<void>;
}

// Records (structures) off: the envelope is written rarely and must decode without shared structure state.
const PACKR_OPTIONS = { useRecords: false, moreTypes: true } as const;
const packr = new Packr(PACKR_OPTIONS);

/** Encodes an envelope as msgpack. */
export function encodeEnvelope(envelope: SnapshotEnvelope): Uint8Array {
  return packr.pack(envelope);
}

/**
 * Encodes an envelope as {@link encodeEnvelope} does, into a buffer that nothing else is written into (`into` when it
 * is large enough, else a new one), so that the bytes can be transferred to another thread. The fleet is the last
 * field of the map, so its bytes are the last `envelope.fleet.byteLength` bytes of the result
 * (engine/snapshot-encoder.ts takes them from there).
 */
export function encodeEnvelopeAlone(envelope: SnapshotEnvelope, into?: ArrayBuffer): Uint8Array<ArrayBuffer> {
  const { version, takenAt, positions, traffic, fleet } = envelope;
  // Room for the fleet plus the small parts; msgpackr moves to a larger buffer of its own if the traffic outgrows it.
  const room = fleet.byteLength + (1 << 20);
  // A new buffer gets a quarter more, so that a slightly larger snapshot still fits when its memory comes back.
  const buffer = into !== undefined && into.byteLength >= room ? into : new ArrayBuffer(room + (room >> 2));
  return packInto(new Packr(PACKR_OPTIONS), { version, takenAt, positions, traffic, fleet }, buffer);
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
