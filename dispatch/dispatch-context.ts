/**
 * What the dispatcher's parts share (settings, live state, store, memory, recorder, channel, …) and the small rules
 * more than one of them applies: offer timeouts, the offer a phone receives (the arrival target is in deadlines.ts).
 */
import type { Logger } from '../engine/logger.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { ActiveBookings } from './active-bookings.ts';
import type { BookingRepository } from './booking-repository.ts';
import type { AssignmentSolver, Booking, Offer, OfferChannel } from './booking-types.ts';
import type { LiveState } from './candidates.ts';
import type { EventOutbox } from './dispatch-events.ts';
import type { DispatchSettings } from './dispatch-settings.ts';
import type { DoctorSync } from './doctor-sync.ts';
import type { KeyedMutex } from './keyed-mutex.ts';
import type { MatcherMemory } from './matcher-memory.ts';
import type { Recorder } from './recorder.ts';
import type { Scorer } from './scoring.ts';

/**
 * The {@link OfferChannel}, optionally also told of assignments made without an offer (an emergency taking a doctor,
 * a dispatcher's override): `assigned` receives the same fields an offer has (its `expiresAt` is the assignment time).
 * A channel without it still gets `withdraw` for the booking the doctor lost; the change listeners see the rest.
 */
export interface DoctorChannel extends OfferChannel {
  assigned?(doctorId: string, assignment: Offer): void;
}

/** The shared parts of one dispatcher. */
export interface DispatchContext {
  settings: DispatchSettings;
  live: LiveState;
  store: BookingRepository;
  bookings: ActiveBookings;
  sync: DoctorSync;
  scorer: Scorer;
  recorder: Recorder;
  outbox: EventOutbox;
  locks: KeyedMutex;
  channel: DoctorChannel;
  solver: AssignmentSolver;
  logger: Logger;
  metrics: Metrics | undefined;
  /**
   * The doctors the fleet took offline since the tick last looked (timers.ts releaseOfflineDoctors), and how to stop
   * listening; undefined until its first look, which reads every held doctor, and again once the dispatcher stops.
   */
  offlineWatch?: { doctors: Set<string>; stop(): void };
  /** What batched matching remembers between batches (plans, visit durations, rematches); see matcherMemoryOf. */
  matcherMemory?: MatcherMemory;
}

/** How long a doctor has to answer an offer of this booking, ms. */
export function offerTimeoutOf(context: DispatchContext, booking: Booking): number {
  const { offerTimeoutMs, emergencyOfferTimeoutMs } = context.settings;
  return booking.emergency ? emergencyOfferTimeoutMs : offerTimeoutMs;
}

/** The offer (or assignment notice) a doctor's phone receives for a booking. */
export function offerOf(booking: Booking, etaSeconds: number, expiresAt: number): Offer {
  return {
    type: 'offer',
    bookingId: booking.id,
    priority: booking.priority,
    emergency: booking.emergency,
    callType: booking.callType,
    address: booking.address,
    lat: booking.lat,
    lng: booking.lng,
    symptoms: booking.symptoms,
    etaSeconds: Math.round(etaSeconds),
    expiresAt,
  };
}

/** Tells a doctor, through the channel, that a booking no longer stands for them; a failing channel is logged. */
export function withdraw(
  context: DispatchContext,
  doctorId: string,
  bookingId: string,
  reason: string,
): void {
  try {
    context.channel.withdraw(doctorId, bookingId, reason);
  } catch (error) {
    context.logger.warn({ err: error, doctorId, bookingId }, 'withdrawal not sent');
  }
}
