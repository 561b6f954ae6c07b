/** A fix as the phone socket takes it (docs/API.md, "A fix"). */
export interface Fix {
  lat: number;
  lng: number;
  ts: number;
  accuracy?: number;
  speed?: number;
  heading?: number;
}

/** Most fixes kept while the socket is down; older ones go first (the newest position matters most). */
export const MAX_PENDING_FIXES = 500;

/**
 * The fixes a doctor's page owes the engine: each sent as its own batch with an id, kept until its ack arrives, and
 * sent again after a reconnect (applying is idempotent, so a repeat is harmless). Pure: the socket is passed in.
 */
export class FixOutbox {
  private nextBatch = 1;
  private readonly pending = new Map<string, Fix>();
  sent = 0;
  acknowledged = 0;
  rejected = 0;

  /** Queues a fix and sends it now when `send` can. */
  add(fix: Fix, send: (frame: unknown) => boolean): void {
    const batchId = `f-${this.nextBatch++}`;
    this.pending.set(batchId, fix);
    while (this.pending.size > MAX_PENDING_FIXES) this.pending.delete(this.pending.keys().next().value!);
    if (send({ type: 'fixes', batchId, fixes: [fix] })) this.sent++;
  }

  /** Sends every fix not yet acknowledged (after a reconnect). */
  resend(send: (frame: unknown) => boolean): void {
    for (const [batchId, fix] of this.pending) {
      if (!send({ type: 'fixes', batchId, fixes: [fix] })) return;
      this.sent++;
    }
  }

  /** Takes an ack frame; returns whether it was one of ours. */
  acknowledge(frame: Record<string, unknown>): boolean {
    if (frame.type !== 'ack' || typeof frame.batchId !== 'string' || !this.pending.has(frame.batchId))
      return false;
    this.pending.delete(frame.batchId);
    this.acknowledged += typeof frame.accepted === 'number' ? frame.accepted : 0;
    this.rejected += Array.isArray(frame.rejected) ? frame.rejected.length : 0;
    return true;
  }

  /** Fixes waiting for an ack. */
  get waiting(): number {
    return this.pending.size;
  }
}

/** What a geolocation position holds (the DOM's GeolocationPosition, kept structural so this file needs no DOM). */
export interface Position {
  timestamp: number;
  coords: {
    latitude: number;
    longitude: number;
    accuracy: number;
    speed: number | null;
    heading: number | null;
  };
}

/** A geolocation position as a fix; speed and heading only when the device knows them. */
export function fixOf(position: Position): Fix {
  const { coords } = position;
  return {
    lat: coords.latitude,
    lng: coords.longitude,
    ts: Math.round(position.timestamp),
    ...(Number.isFinite(coords.accuracy) ? { accuracy: coords.accuracy } : {}),
    ...(coords.speed !== null && Number.isFinite(coords.speed) && coords.speed >= 0
      ? { speed: coords.speed }
      : {}),
    ...(coords.heading !== null && Number.isFinite(coords.heading) && coords.heading >= 0
      ? { heading: coords.heading }
      : {}),
  };
}
