/**
 * What the live channel reads, as small interfaces so that it can be driven by the engine in production and by plain
 * objects in tests: the world (fleet, traffic field, clock), the bookings (the dispatcher's `active` and `onChange`)
 * and alert sources. Alerts are a source of their own because the dispatcher raises some of them as booking changes
 * (an emergency created) and others as domain events (SlaBreached, EmergencyEscalated); the adapters below turn
 * either into {@link LiveAlert}s.
 */
import type { Booking, BookingChange, DispatchEvent, DispatchService } from '../../dispatch/booking-types.ts';
import type { Fleet } from '../../engine/fleet.ts';
import type { TrafficField } from '../../geo/traffic-field.ts';
import type { LiveAlert } from './protocol.ts';

/** The parts of the fleet the live channel uses. */
export type LiveFleet = Pick<Fleet, 'drainChanged' | 'within' | 'countsByCell' | 'resolution'>;

/** The parts of the traffic field the live channel uses. */
export type LiveTrafficField = Pick<TrafficField, 'freshCells' | 'freeFlowAt' | 'resolution'>;

/**
 * The live state. `fleet()` and `traffic()` are read on every tick because a restore replaces the engine's objects;
 * a new fleet object makes the channel start over with fresh snapshots.
 */
export interface LiveWorld {
  fleet(): LiveFleet;
  traffic(): LiveTrafficField;
  /** The engine's clock, ms since the epoch. */
  now(): number;
}

/** The bookings as the live map follows them (dispatch/booking-types.ts `DispatchService`). */
export type BookingFeed = Pick<DispatchService, 'active' | 'onChange'>;

/** Something that raises alerts. */
export interface AlertSource {
  /** Calls `listener` with every alert from now on; returns the unsubscribe function. */
  onAlert(listener: (alert: LiveAlert) => void): () => void;
}

/** An {@link AlertSource} fed by hand: whoever learns of an alert (an event consumer, a timer) pushes it. */
export class AlertFeed implements AlertSource {
  private readonly listeners = new Set<(alert: LiveAlert) => void>();

  onAlert(listener: (alert: LiveAlert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Hands `alert` to every listener. */
  push(alert: LiveAlert): void {
    for (const listener of this.listeners) listener(alert);
  }
}

/**
 * The alert of a booking change, if it raises one: an emergency booking has just been created. The creation may reach
 * listeners as the change from nothing (`from: null`) or as the first step out of `created`; the first of these the
 * caller sees for a booking is the alert (see {@link emergencyAlerts}).
 */
export function alertOfBookingChange(change: BookingChange): LiveAlert | undefined {
  const { booking, update } = change;
  if (!booking.emergency || !(update.from === null || update.from === 'created')) return undefined;
  return {
    kind: 'emergency',
    bookingId: booking.id,
    priority: booking.priority,
    lat: booking.lat,
    lng: booking.lng,
    at: update.at,
  };
}

/**
 * Alerts for emergencies as the dispatcher creates them (its `onChange`), one per booking: ids already alerted are
 * remembered until the booking's change that takes it out of `created`/`searching` for good (any later status).
 */
export function emergencyAlerts(feed: Pick<BookingFeed, 'onChange'>): AlertSource {
  return {
    onAlert: (listener) => {
      const alerted = new Set<string>();
      return feed.onChange((change) => {
        const id = change.booking.id;
        const alert = alertOfBookingChange(change);
        if (alert && !alerted.has(id)) {
          alerted.add(id);
          listener(alert);
        } else if (change.booking.status !== 'created' && change.booking.status !== 'searching') {
          alerted.delete(id);
        }
      });
    },
  };
}

/**
 * The alert of a domain event, if it raises one: BookingCreated of an emergency, SlaBreached, EmergencyEscalated.
 * Events carry no position, so `bookingOf` finds it (e.g. `id => dispatcher.active().find(...)`); an event whose
 * booking is unknown raises nothing.
 */
export function alertOfDispatchEvent(
  event: DispatchEvent,
  bookingOf: (bookingId: string) => Pick<Booking, 'lat' | 'lng'> | undefined,
): LiveAlert | undefined {
  let kind: LiveAlert['kind'];
  if (event.type === 'BookingCreated' && event.emergency) kind = 'emergency';
  else if (event.type === 'SlaBreached') kind = 'sla_breach';
  else if (event.type === 'EmergencyEscalated') kind = 'escalation';
  else return undefined;
  const booking = bookingOf(event.bookingId);
  if (!booking) return undefined;
  return {
    kind,
    bookingId: event.bookingId,
    priority: event.priority,
    lat: booking.lat,
    lng: booking.lng,
    at: event.at,
  };
}
