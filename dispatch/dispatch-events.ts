/**
 * Where dispatch's domain events go: msgpack maps on the bus's events topic (key: the booking id, so one booking's
 * events stay in order in one partition), encoded as engine/engine.ts encodes the fleet's, and to in-process
 * listeners. Publishing is batched and never blocks a booking change: events wait in an outbox, a failed publish puts
 * them back for the next flush (logged), and stop() flushes what is left.
 */
import { Packr, type Options } from 'msgpackr';
import type { Bus } from '../engine/bus.ts';
import type { Logger } from '../engine/logger.ts';
import type { BookingStatusUpdate, Booking, DispatchEvent } from './booking-types.ts';

/**
 * Plain msgpack maps; a field left undefined is left out, as JSON.stringify does (`skipValues` is in msgpackr's
 * README but not in its type definitions, hence the wider type).
 */
const eventPackrOptions: Options & { skipValues: unknown[] } = { useRecords: false, skipValues: [undefined] };
const eventPackr = new Packr(eventPackrOptions);

/** Most events kept while the bus refuses them; beyond it the oldest are dropped (and counted). */
export const MAX_PENDING_EVENTS = 100_000;

/** The msgpack bytes of an event: a map without undefined fields. */
export function encodeDispatchEvent(event: DispatchEvent): Uint8Array {
  return eventPackr.pack(event);
}

/** The events a recorded change implies: the status change itself and, for some targets, a named event. */
export function eventsOfChange(
  booking: Booking,
  update: BookingStatusUpdate,
  etaSeconds?: number,
): DispatchEvent[] {
  const events: DispatchEvent[] = [];
  const changed: DispatchEvent = {
    type: 'BookingStatusChanged',
    bookingId: booking.id,
    from: update.from,
    to: update.to,
    at: update.at,
  };
  if (update.reason !== undefined) changed.reason = update.reason;
  if (update.doctorId !== undefined) changed.doctorId = update.doctorId;
  events.push(changed);
  if (update.from === update.to || booking.doctorId === undefined) return events;
  const eta = etaSeconds ?? booking.assignedEtaSeconds ?? 0;
  if (update.to === 'offered') {
    events.push({
      type: 'DoctorOffered',
      bookingId: booking.id,
      doctorId: booking.doctorId,
      etaSeconds: eta,
      expiresAt: booking.offerExpiresAt as number,
      at: update.at,
    });
  } else if (update.to === 'assigned') {
    events.push({
      type: 'DoctorAssigned',
      bookingId: booking.id,
      doctorId: booking.doctorId,
      etaSeconds: eta,
      at: update.at,
    });
  } else if (update.to === 'arrived') {
    events.push({ type: 'DoctorArrived', bookingId: booking.id, doctorId: booking.doctorId, at: update.at });
  }
  return events;
}

/** Options of {@link EventOutbox}. */
export interface EventOutboxOptions {
  /** Where events are published; none: listeners only. */
  bus?: Bus;
  /** The events topic (topics.events). */
  topic?: string;
  logger: Logger;
}

/** Buffers dispatch events for the bus and hands each to the listeners at once. */
export class EventOutbox {
  private pending: DispatchEvent[] = [];
  private flushing: Promise<void> | undefined;
  private readonly listeners = new Set<(event: DispatchEvent) => void>();
  /** Events dropped because the outbox was full while the bus refused them. */
  dropped = 0;

  constructor(private readonly options: EventOutboxOptions) {}

  /** Events waiting for the bus. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  listen(listener: (event: DispatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Queues events for the bus and tells the listeners (a listener that throws is logged and skipped). */
  add(events: readonly DispatchEvent[]): void {
    for (const event of events) {
      if (this.options.bus) this.pending.push(event);
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.options.logger.warn({ err: error, event: event.type }, 'a dispatch event listener failed');
        }
      }
    }
    if (this.pending.length > MAX_PENDING_EVENTS) {
      const excess = this.pending.length - MAX_PENDING_EVENTS;
      this.pending.splice(0, excess);
      this.dropped += excess;
    }
  }

  /** Publishes what waits; one flush at a time (a call during one waits for it, then flushes what came since). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    const { bus, topic, logger } = this.options;
    if (!bus || topic === undefined || this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.flushing = bus
      .publish(
        topic,
        events.map((event) => ({ key: event.bookingId, value: encodeDispatchEvent(event) })),
      )
      .catch((error: unknown) => {
        this.pending = events.concat(this.pending);
        logger.warn({ err: error, count: events.length }, 'dispatch events not published; will retry');
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }
}
