import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PartState } from './bus.ts';
import { decodeEnvelope, encodeEnvelope, type Backup, type SnapshotEnvelope } from './backup.ts';

/** The embedded default's backup: one snapshot file, replaced atomically (write to a temporary file, then rename). */
export class FileBackup implements Backup {
  readonly kind = 'file';
  readonly releasesBytes = true;
  private healthy = true;

  constructor(private readonly path: string) {}

  /** Writes `encoded` (or the envelope encoded here) to a temporary file, then renames it over the snapshot. */
  async save(envelope: SnapshotEnvelope, encoded?: Uint8Array): Promise<void> {
    const temporary = `${this.path}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      // writeFile hands the bytes to the thread pool in chunks: the event loop copies nothing.
      await writeFile(temporary, encoded ?? encodeEnvelope(envelope));
      await rename(temporary, this.path);
      this.healthy = true;
    } catch (error) {
      this.healthy = false;
      throw error;
    }
  }

  async load(): Promise<SnapshotEnvelope | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return decodeEnvelope(bytes);
  }

  state(): PartState {
    return this.healthy ? 'ready' : 'degraded';
  }

  async close(): Promise<void> {}
}
