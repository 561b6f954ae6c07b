/**
 * The dispatcher: bookings from creation to completion. It keeps the active bookings in memory (the store is written
 * first, always), matches searching ones to doctors — emergencies at once, the rest in batch windows through the
 * injected {@link AssignmentSolver} — sends offers, and runs the time-driven rules (offer lapses, offline doctors,
 * search timeouts, SLA) in {@link Dispatcher.tick}, which startTicking() calls on an interval against the engine's clock and
 * the simulation calls itself with simulated time. No decision waits on a timer of its own.
 */
import { randomUUID } from 'node:crypto';
import type { Bus, TopicNames } from '../engine/bus.ts';
import type { Logger } from '../engine/logger.ts';
import { createLogger } from '../engine/logger.ts';
import type { Metrics } from '../engine/metrics.ts';
import type { Store } from '../engine/store.ts';
import { assertTime, TotError } from '../geo/errors.ts';
import { ActiveBookings, queueOrder } from './active-bookings.ts';
import {
  assignManually,
  cancelBooking,
  changeBookingPriority,
  reassignBooking,
  visitStep,
} from './booking-actions.ts';
import { checkActor, checkBookingRequest, checkPriority, checkText } from './booking-request.ts';
import type { BookingRepository, BookingWrite } from './booking-repository.ts';
import { deadlinesOf } from './deadlines.ts';
import { SqlBookingStore } from './booking-store.ts';
import type { GroupCommitOptions } from './group-commit.ts';
import {
  isEmergencyCategory,
  type Actor,
  type AssignmentSolver,
  type Booking,
  type BookingChange,
  type BookingListFilter,
  type BookingRequest,
  type BookingStatusUpdate,
  type DispatchEvent,
  type DispatchService,
  type PriceEstimate,
  type TriageCategory,
} from './booking-types.ts';
import type { Candidate, LiveState } from './candidates.ts';
import type { DispatchContext, DoctorChannel } from './dispatch-context.ts';
import { EventOutbox } from './dispatch-events.ts';
import {
  resolveDispatchSettings,
  type DispatchSettings,
  type DispatchSettingsInput,
} from './dispatch-settings.ts';
import { DoctorSync } from './doctor-sync.ts';
import { immediateOffer, matchEmergency } from './emergency.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { matchGreedy } from './matching.ts';
import { acceptOffer, declineOffer, sendOffer } from './offers.ts';
import { DEFAULT_TARIFF, ESTIMATED_VISIT_MINUTES, type Tariff } from './pricing.ts';
import { quotePrice } from './quote.ts';
import { Recorder, SYSTEM, copyBooking, transitionWrite } from './recorder.ts';
import { restoreBookings, type RestoreSummary } from './restore.ts';
import { Scorer } from './scoring.ts';
import { runTick, type TickSummary } from './tick.ts';
import { urgentWork } from './time-slice.ts';

/** Re-exported for callers of tick(), restore() and the constructor's `channel`. */
export type { TickSummary } from './tick.ts';
export type { RestoreSummary } from './restore.ts';
export type { DoctorChannel } from './dispatch-context.ts';

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  /**
   * Where bookings live: a SQL store (PostgreSQL or PGlite, migrated to 0007; an object forwarding to one that is
   * still starting works too), or any {@link BookingRepository} such as the MemoryBookingStore of simulations.
   */
  store: Pick<Store, 'query' | 'transaction' | 'insertWriter'> | BookingRepository;
  /**
   * How a SQL store's writes are grouped (dispatch/group-commit.ts): statements in flight at once — PGlite runs one
   * at a time, so 1 there; a PostgreSQL pool's size less what reads and transactions need (default 4).
   */
  storeWrites?: GroupCommitOptions;
  /** The fleet and traffic field, read through this object on every use (pass the Engine). */
  engine: LiveState;
  solver: AssignmentSolver;
  /** Where offers go; default: nowhere (offers still stand and lapse). */
  channel?: DoctorChannel;
  /** Where events are published (on `topics.events`); default: listeners only. */
  bus?: Bus;
  topics?: Pick<TopicNames, 'events'>;
  /** The engine's clock, ms since the epoch; default Date.now. Used by the API-facing methods and start(). */
  clock?: () => number;
  logger?: Logger;
  metrics?: Metrics;
  settings?: DispatchSettingsInput;
  tariff?: Tariff;
}

const NO_CHANNEL: DoctorChannel = { offer: () => false, withdraw: () => {} };

/** The {@link DispatchService} of the product. */
export class Dispatcher implements DispatchService {
  /** The resolved settings. */
  readonly settings: DispatchSettings;
  /** Where the bookings are kept (notifications, marks) for tools and tests. */
  readonly bookingStore: BookingRepository;
  private readonly context: DispatchContext;
  private readonly clock: () => number;
  private readonly tariff: Tariff;
  private restored: Promise<RestoreSummary> | undefined;
  private ticking: Promise<TickSummary> | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** @throws TotError `ENGINE_INVALID_ARGUMENT` for a bad setting (see resolveDispatchSettings). */
  constructor(options: DispatcherOptions) {
    const settings = resolveDispatchSettings(options.settings);
    const logger = options.logger ?? createLogger('silent');
    const store =
      'loadActive' in options.store ? options.store : new SqlBookingStore(options.store, options.storeWrites);
    const bookings = new ActiveBookings(
      (booking) => (settings.matching === 'batched' && !booking.emergency ? settings.batchWindowMs : 0),
      deadlinesOf(settings),
    );
    const sync = new DoctorSync(options.engine, bookings, logger);
    const outbox = new EventOutbox({
      ...(options.bus ? { bus: options.bus } : {}),
      ...(options.topics ? { topic: options.topics.events } : {}),
      logger,
    });
    this.settings = settings;
    this.bookingStore = store;
    this.clock = options.clock ?? Date.now;
    this.tariff = options.tariff ?? DEFAULT_TARIFF;
    this.context = {
      settings,
      live: options.engine,
      store,
      bookings,
      sync,
      scorer: new Scorer(settings.scoring),
      recorder: new Recorder(store, bookings, sync, outbox, logger),
      outbox,
      locks: new KeyedMutex(),
      channel: options.channel ?? NO_CHANNEL,
      solver: options.solver,
      logger,
      metrics: options.metrics,
    };
  }

  /**
   * Loads the active bookings from the store and puts the fleet in step (see dispatch/restore.ts). Runs once; later
   * calls return the first result (after a failure, the next call tries again). Call it after the engine restored its snapshot (the fleet it reads is the
   * restored one).
   */
  restore(): Promise<RestoreSummary> {
    this.restored ??= restoreBookings(this.context, this.clock()).then(
      (summary) => {
        this.context.logger.info(summary, 'dispatch restored its active bookings');
        return summary;
      },
      (error: unknown) => {
        // A store that failed now may answer later: the next call tries again.
        this.restored = undefined;
        throw error;
      },
    );
    return this.restored;
  }

  /**
   * Restores (once), then runs tick(clock()) every tickIntervalMs; a tick still running makes the next one skip.
   * (Not `start()`: that name is DispatchService's visit start.)
   */
  async startTicking(): Promise<void> {
    await this.restore();
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.tick(this.clock()).catch((error: unknown) => {
        this.context.logger.error({ err: error }, 'dispatch tick failed');
      });
    }, this.settings.tickIntervalMs);
    this.timer.unref();
  }

  /** Stops the interval, waits for a running tick, and publishes the events still waiting. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
    this.context.offlineWatch?.stop();
    this.context.offlineWatch = undefined;
    await this.context.outbox.flush();
  }

  /**
   * Does everything due at time `now` (default: the clock): lapses offers, releases bookings of doctors gone offline,
   * starts scheduled searches and departures, ends searches past their timeout, matches due emergencies one by one,
   * then the others (greedy one by one, or one batch), raises SLA breaches, retries doctors out of step, and flushes
   * the events. Ticks never overlap: a call during one waits for it.
   *
   * @throws TotError `GEO_INVALID_ARGUMENT` for a non-finite `now`.
   */
  async tick(now: number = this.clock()): Promise<TickSummary> {
    assertTime(now);
    while (this.ticking) await this.ticking.catch(() => undefined);
    this.ticking = runTick(this.context, now).finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /** Calls `listener` with every dispatch event (the bus gets the same); returns the unsubscribe function. */
  onEvent(listener: (event: DispatchEvent) => void): () => void {
    return this.context.outbox.listen(listener);
  }

  onChange(listener: (change: BookingChange) => void): () => void {
    return this.context.recorder.listen(listener);
  }

  /**
   * Creates the booking (created, then searching unless booked for later than the search lead time) and starts the
   * search: an emergency is matched before this resolves (offered, or a doctor preempted, or escalated); in greedy mode
   * any booking is; in batched mode a non-emergency waits for the batch window.
   *
   * @throws TotError `DISPATCH_INVALID_BOOKING` naming the bad field; nothing is written then.
   */
  async create(request: BookingRequest, by: Actor): Promise<Booking> {
    // An emergency is urgent work from here to its offer: long loops of the tick give way to it at every item. (The
    // request is not checked yet: a priority that is not a number is simply not urgent, and is refused below.)
    const priority: unknown = request?.priority;
    const urgent = typeof priority === 'number' && isEmergencyCategory(priority as TriageCategory);
    return urgent ? urgentWork.run(() => this.createBooking(request, by)) : this.createBooking(request, by);
  }

  private async createBooking(request: BookingRequest, by: Actor): Promise<Booking> {
    const now = this.clock();
    const checked = checkBookingRequest(request, now);
    const actor = checkActor(by);
    const context = this.context;
    const estimate = quotePrice(this.context, checked, checked.scheduledAt ?? now, now, this.tariff);
    // The request's spread after the first fields, not before them: measured, spread first then ten fields allocated
    // ~4.9 KB per booking in V8 (same maps, fast properties; the slow path is V8's), this order ~0.3 KB.
    const booking: Booking = {
      id: randomUUID(),
      status: 'created',
      ...checked,
      emergency: isEmergencyCategory(checked.priority),
      originalPriority: checked.priority,
      declinedBy: [],
      estimatedPrice: estimate.price,
      estimatedDurationMinutes: ESTIMATED_VISIT_MINUTES[checked.callType],
      createdAt: now,
      version: 1,
    };
    const creation: BookingWrite = {
      before: booking,
      after: booking,
      update: { bookingId: booking.id, from: null, to: 'created', by: actor, at: now },
    };
    const later =
      booking.scheduledAt !== undefined && booking.scheduledAt - this.settings.scheduleLeadMs > now;
    // A search starting at once is stored with the booking, and so is an emergency's offer: one write.
    const writes = later
      ? [creation]
      : [creation, transitionWrite(booking, 'searching', SYSTEM, now, 'search_started')];
    const offer =
      booking.emergency && !later
        ? immediateOffer(context, (writes[1] as BookingWrite).after, now)
        : undefined;
    let stored: Booking;
    try {
      stored = await this.storeNew(writes, offer);
    } finally {
      if (offer) context.bookings.unreserve(offer.candidate.doctorId, booking.id);
    }
    context.metrics?.bookingsCreated.inc({ priority: String(booking.priority) });
    if (stored.status === 'offered' && offer) sendOffer(context, stored, offer.candidate);
    else if (stored.status === 'searching') {
      if (booking.emergency) await matchEmergency(context, booking.id, now);
      else if (this.settings.matching === 'greedy') {
        const searching = context.bookings.get(booking.id);
        if (searching?.status === 'searching') await matchGreedy(context, searching, now);
      }
    }
    return copyBooking(context.bookings.get(booking.id) ?? (await context.store.get(booking.id)));
  }

  /**
   * Stores a new booking with its first writes and, when given, its offer. Should the store refuse the offer's doctor
   * (held by a booking memory did not know of), the booking is stored without it and searches as usual.
   */
  private async storeNew(
    writes: readonly BookingWrite[],
    offer: { write: BookingWrite; candidate: Candidate } | undefined,
  ): Promise<Booking> {
    const recorder = this.context.recorder;
    if (offer === undefined) return recorder.create(writes);
    try {
      return await recorder.create([...writes, offer.write], {
        etaSeconds: Math.round(offer.candidate.etaSeconds),
      });
    } catch (error) {
      if (!(error instanceof TotError) || error.code !== 'DISPATCH_DOCTOR_UNAVAILABLE') throw error;
      this.context.logger.warn(
        { err: error, bookingId: offer.write.after.id },
        'offer with the booking refused',
      );
      return recorder.create(writes);
    }
  }

  /** @throws TotError `DISPATCH_BOOKING_NOT_FOUND`. */
  async get(id: string): Promise<Booking> {
    const active = this.context.bookings.get(id);
    return active ? copyBooking(active) : this.context.store.get(id);
  }

  /** @throws TotError `DISPATCH_BOOKING_NOT_FOUND` for an unknown `after`; `DISPATCH_INVALID_BOOKING` for a bad limit. */
  async list(filter: BookingListFilter): Promise<Booking[]> {
    return this.context.store.list(filter);
  }

  /** @throws TotError `DISPATCH_BOOKING_NOT_FOUND`. */
  async history(id: string): Promise<BookingStatusUpdate[]> {
    return this.context.store.history(id);
  }

  /** Copies of the active bookings, in queue order (priority, then age). */
  active(): Booking[] {
    return [...this.context.bookings.all()].sort(queueOrder).map(copyBooking);
  }

  /** A copy of the active booking with that id, without asking the store; undefined when it is not active. */
  activeBooking(id: string): Booking | undefined {
    const booking = this.context.bookings.get(id);
    return booking && copyBooking(booking);
  }

  bookingOfDoctor(doctorId: string): Booking | undefined {
    const holder = this.context.bookings.holderOf(doctorId);
    return holder && copyBooking(holder);
  }

  /** @throws TotError `DISPATCH_INVALID_TRANSITION`, `DISPATCH_BOOKING_NOT_FOUND`, `DISPATCH_INVALID_BOOKING`. */
  async cancel(id: string, by: Actor, reason: string): Promise<Booking> {
    const actor = checkActor(by);
    return cancelBooking(this.context, id, actor, checkText('reason', reason, 500), this.clock());
  }

  /** @throws TotError `DISPATCH_OFFER_NOT_OPEN`, `DISPATCH_BOOKING_NOT_FOUND`. */
  async accept(id: string, doctorId: string, by: Actor): Promise<Booking> {
    return acceptOffer(this.context, id, checkText('doctorId', doctorId), checkActor(by), this.clock());
  }

  /** @throws TotError `DISPATCH_OFFER_NOT_OPEN`, `DISPATCH_BOOKING_NOT_FOUND`. */
  async decline(id: string, doctorId: string, by: Actor, reason?: string): Promise<Booking> {
    const why = reason === undefined ? 'declined' : `declined:${checkText('reason', reason, 500)}`;
    return declineOffer(this.context, id, checkText('doctorId', doctorId), checkActor(by), why, this.clock());
  }

  /** @throws TotError `DISPATCH_INVALID_TRANSITION`, `DISPATCH_BOOKING_NOT_FOUND`. */
  async arrived(id: string, doctorId: string, by: Actor): Promise<Booking> {
    return visitStep(
      this.context,
      id,
      checkText('doctorId', doctorId),
      'arrived',
      checkActor(by),
      this.clock(),
    );
  }

  /** @throws TotError `DISPATCH_INVALID_TRANSITION`, `DISPATCH_BOOKING_NOT_FOUND`. */
  async start(id: string, doctorId: string, by: Actor): Promise<Booking> {
    return visitStep(
      this.context,
      id,
      checkText('doctorId', doctorId),
      'in_progress',
      checkActor(by),
      this.clock(),
    );
  }

  /** @throws TotError `DISPATCH_INVALID_TRANSITION`, `DISPATCH_BOOKING_NOT_FOUND`. */
  async complete(id: string, doctorId: string, by: Actor): Promise<Booking> {
    return visitStep(
      this.context,
      id,
      checkText('doctorId', doctorId),
      'completed',
      checkActor(by),
      this.clock(),
    );
  }

  /** @throws TotError `DISPATCH_DOCTOR_UNAVAILABLE`, `DISPATCH_INVALID_TRANSITION`, `DISPATCH_BOOKING_NOT_FOUND`. */
  async assign(id: string, doctorId: string, by: Actor): Promise<Booking> {
    return assignManually(this.context, id, checkText('doctorId', doctorId), checkActor(by), this.clock());
  }

  /** @throws TotError `DISPATCH_INVALID_TRANSITION`, `DISPATCH_BOOKING_NOT_FOUND`. */
  async reassign(id: string, by: Actor, reason: string): Promise<Booking> {
    return reassignBooking(this.context, id, checkActor(by), checkText('reason', reason, 200), this.clock());
  }

  /** @throws TotError `DISPATCH_INVALID_BOOKING` (priority), `DISPATCH_INVALID_TRANSITION`, `DISPATCH_BOOKING_NOT_FOUND`. */
  async changePriority(id: string, priority: TriageCategory, by: Actor): Promise<Booking> {
    return changeBookingPriority(this.context, id, checkPriority(priority), checkActor(by), this.clock());
  }

  /**
   * The quote for a booking at this moment: the tariff of dispatch/pricing.ts with the distance from the nearest
   * available doctor with the specialization (and that doctor's ETA).
   *
   * @throws TotError `DISPATCH_INVALID_BOOKING` for a bad field.
   */
  estimatePrice(
    request: Pick<BookingRequest, 'lat' | 'lng' | 'callType' | 'priority' | 'specialization'>,
  ): PriceEstimate {
    const now = this.clock();
    const checked = checkBookingRequest(
      { patientId: 'quote', symptoms: '', address: 'quote', ...request } as BookingRequest,
      now,
    );
    return quotePrice(this.context, checked, now, now, this.tariff);
  }
}
