/**
 * Buffers a fleet capture (engine/fleet-capture.ts) copies into, handed back by the worker after each snapshot and
 * used again: a fresh buffer costs the event loop its page faults (at 1M doctors, copying the doctor table into a new
 * buffer takes 3–10 × as long as into one used before).
 */
export class CaptureBuffers {
  private readonly free = new Map<string, ArrayBuffer>();

  /** A buffer of at least `bytes` for `role`: the one given back last if it is large enough, else a new one. */
  take(role: string, bytes: number): ArrayBuffer {
    const kept = this.free.get(role);
    this.free.delete(role);
    if (kept !== undefined && kept.byteLength >= bytes) return kept;
    return new ArrayBuffer(withHeadroom(bytes));
  }

  /** Keeps buffers for the next capture. */
  give(buffers: Record<string, ArrayBuffer>): void {
    for (const [role, buffer] of Object.entries(buffers)) this.free.set(role, buffer);
  }

  /**
   * Makes sure a buffer of at least `bytes[role]` is kept for each role, writing a new one's memory a slice at a time
   * with `turn()` awaited in between: the page faults of a first snapshot (or of a fleet that outgrew its buffers)
   * are then spread over event-loop turns instead of landing in the capture.
   */
  async prepare(bytes: Record<string, number>, turn: () => Promise<void>): Promise<void> {
    for (const [role, size] of Object.entries(bytes)) {
      const kept = this.free.get(role);
      if (kept !== undefined && kept.byteLength >= size) continue;
      const buffer = new ArrayBuffer(withHeadroom(size));
      const view = new Uint8Array(buffer);
      for (let at = 0; at < buffer.byteLength; at += PREPARE_SLICE_BYTES) {
        view.fill(0, at, at + PREPARE_SLICE_BYTES);
        await turn();
      }
      this.free.set(role, buffer);
    }
  }
}

/** Bytes of a new capture buffer written per event-loop turn by {@link CaptureBuffers.prepare} (≈1 ms of faults). */
const PREPARE_SLICE_BYTES = 4 << 20;

/** A quarter more than needed, so that a growing fleet does not need a new buffer at every snapshot. */
function withHeadroom(bytes: number): number {
  return 8 * Math.ceil((bytes * 1.25) / 8);
}
