import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PartState } from './bus.ts';
import { decodeEnvelope, encodeEnvelope, type Backup, type SnapshotEnvelope } from './backup.ts';

/** The embedded default's backup: one snapshot file, replaced atomically (write to a temporary file, then rename). */
export class FileBackup implements Backup {
  readonly kind = 'file';
  private healthy = true;

  constructor(private readonly path: string) {}

  async save(envelope: SnapshotEnvelope): Promise<void> {
    const temporary = `${this.path}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(temporary, encodeEnvelope(envelope));
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
