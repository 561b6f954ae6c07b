import type { Booking, BookingChange, BookingStatus, DispatchService } from '../../dispatch/booking-types.ts';
import { FINAL_STATUSES } from '../../dispatch/booking-types.ts';
import type { DoctorView } from '../../engine/fleet.ts';
import { etaSeconds } from '../../geo/eta.ts';
import type { LatLng, TrafficField } from '../../geo/traffic-field.ts';

/** The assigned doctor's position, as the first frame carries it. */
export interface DoctorPosition {
  lat: number;
  lng: number;
  heading?: number;
  speed?: number;
}

/** First frame of a tracking socket: the booking now, and its doctor's position and ETA while one is on the way. */
export interface StateFrame {
  type: 'state';
  booking: Booking;
  doctor?: DoctorPosition;
  etaSeconds?: number;
}

/** The booking changed (every recorded transition). */
export interface StatusFrame {
  type: 'status';
  booking: Booking;
}

/** The assigned doctor moved: their latest position, the ETA from it, and `at`, the fix's phone time (ms). */
export interface PositionFrame extends DoctorPosition {
  type: 'position';
  /** Whole seconds to the address, 0 once arrived; absent only when it cannot be computed. */
  etaSeconds?: number;
  at: number;
}

/** What a tracking socket receives. */
export type TrackFrame = StateFrame | StatusFrame | PositionFrame;

/** One tracking socket as the hub reaches it. */
export interface TrackWatcher {
  send(frame: TrackFrame): void;
  /** The booking reached a final status (after its status frame): the socket may close. */
  finished(): void;
  /** Reading the booking failed at the start (e.g. the store went down): the socket should close. */
  failed(error: unknown): void;
}

/** Options of {@link TrackHub}. */
export interface TrackHubOptions {
  /** The dispatcher (a getter: it starts after the store). */
  dispatch: () => Pick<DispatchService, 'get' | 'onChange'>;
  /** The live fleet (a getter: a restore at boot replaces it). */
  fleet: () => { get(id: string): DoctorView | undefined };
  /** The traffic field the ETA drives through (a getter, as the fleet). */
  traffic: () => TrafficField;
  /** The engine's clock (simulated time when the simulator runs faster), for the ETA. */
  clock: () => number;
  /** The wall clock, for the per-socket position rate. Default `Date.now`. */
  wallClock?: () => number;
  /** Least time between two position frames of one socket, ms. Default 1000. */
  minPositionIntervalMs?: number;
  /** How often the tracked doctors are checked for new fixes, ms; 0: no timer, the owner calls {@link TrackHub.tick}. */
  tickMs?: number;
  /** The ETA (seconds, may throw on bad coordinates). Default geo/eta.ts `etaSeconds`; tests count its calls. */
  eta?: (traffic: TrafficField, from: LatLng, to: LatLng, now: number) => number;
}

/** Statuses in which the patient follows the doctor on the map. */
const MOVING_STATUSES: readonly BookingStatus[] = ['assigned', 'en_route', 'arrived'];

interface WatcherState {
  /** False until the first frame went out; changes meanwhile wait in `buffered`. */
  ready: boolean;
  buffered: BookingChange[];
  pending: NewFix | undefined;
  lastPositionAt: number;
}

/**
 * A fix of the tracked doctor not yet reported, shared by the booking's sockets. Its frame, and so its ETA (the costly
 * part, ≈ 30 µs), is built when the first socket is due to send it: a doctor sending a fix every tick to a socket
 * throttled to one frame a second would otherwise have most ETAs computed for nothing.
 */
interface NewFix {
  position: DoctorPosition & LatLng;
  /** The fix's phone time, ms. */
  at: number;
  frame: PositionFrame | undefined;
}

interface Tracked {
  booking: Booking | undefined;
  /** The `lastFixAt` of the doctor last reported to the watchers. */
  lastFixAt: number | undefined;
  watchers: Map<TrackWatcher, WatcherState>;
}

/**
 * Live tracking of bookings for their sockets, without the sockets: on watch it sends a `state` frame, then a
 * `status` frame for every change of the booking (DispatchService.onChange) and a `position` frame when the assigned
 * doctor moves. Movement is found by a per-tick check of `lastFixAt` of the doctors of tracked bookings only — a few
 * map lookups per tick, whatever the fleet's size. Positions are throttled per socket: at most one per
 * `minPositionIntervalMs`, the latest position winning (a socket never receives a backlog of stale positions). The
 * ETA of a position is computed only when a socket is due to send it, once for all the sockets of its booking.
 */
export class TrackHub {
  private readonly byBooking = new Map<string, Tracked>();
  private readonly wallClock: () => number;
  private readonly minIntervalMs: number;
  private readonly eta: NonNullable<TrackHubOptions['eta']>;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: TrackHubOptions) {
    this.wallClock = options.wallClock ?? Date.now;
    this.minIntervalMs = options.minPositionIntervalMs ?? 1000;
    this.eta = options.eta ?? etaSeconds;
  }

  /** Bookings with at least one watcher. */
  get trackedBookings(): number {
    return this.byBooking.size;
  }

  /**
   * Starts tracking `bookingId` for `watcher`: the watcher is registered at once (so no change is missed), the booking
   * is read, the `state` frame sent, then the changes that came meanwhile (those newer than what was read). Returns
   * the function that stops watching. Never rejects: a failed read goes to `watcher.failed`.
   */
  watch(bookingId: string, watcher: TrackWatcher): () => void {
    this.unsubscribe ??= this.options.dispatch().onChange((change) => this.onChange(change));
    let tracked = this.byBooking.get(bookingId);
    if (!tracked) {
      tracked = { booking: undefined, lastFixAt: undefined, watchers: new Map() };
      this.byBooking.set(bookingId, tracked);
    }
    const state: WatcherState = { ready: false, buffered: [], pending: undefined, lastPositionAt: -Infinity };
    tracked.watchers.set(watcher, state);
    this.startTimer();
    const stop = () => this.unwatch(bookingId, watcher);
    void this.begin(bookingId, watcher, state).catch((error: unknown) => {
      stop();
      watcher.failed(error);
    });
    return stop;
  }

  /**
   * Checks the doctors of tracked bookings for new fixes and sends each socket its latest position when its interval
   * has passed. Called by the hub's timer; public for tests and for an owner that drives time itself.
   */
  tick(): void {
    const wall = this.wallClock();
    for (const tracked of this.byBooking.values()) {
      const fix = this.newFix(tracked);
      for (const [watcher, state] of tracked.watchers) {
        if (!state.ready) continue;
        if (fix) state.pending = fix;
        if (state.pending && wall - state.lastPositionAt >= this.minIntervalMs) {
          watcher.send(this.frameOf(tracked, state.pending));
          state.pending = undefined;
          state.lastPositionAt = wall;
        }
      }
    }
  }

  /** Stops the timer and the dispatcher subscription; watchers get nothing more. */
  stop(): void {
    this.stopTimer();
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.byBooking.clear();
  }

  private async begin(bookingId: string, watcher: TrackWatcher, state: WatcherState): Promise<void> {
    const booking = await this.options.dispatch().get(bookingId);
    const tracked = this.byBooking.get(bookingId);
    if (!tracked?.watchers.has(watcher)) return;
    if (!tracked.booking || tracked.booking.version < booking.version) tracked.booking = booking;
    const frame: StateFrame = { type: 'state', booking };
    const doctor = this.doctorOf(booking);
    if (doctor) {
      frame.doctor = positionOf(doctor);
      const eta = this.etaOf(doctor, booking);
      if (eta !== undefined) frame.etaSeconds = eta;
      state.lastPositionAt = this.wallClock();
      tracked.lastFixAt ??= doctor.lastFixAt;
    }
    watcher.send(frame);
    state.ready = true;
    let latest = booking;
    for (const change of state.buffered.splice(0)) {
      if (change.booking.version <= latest.version) continue;
      this.deliver(watcher, change.booking);
      latest = change.booking;
    }
    if (FINAL_STATUSES.includes(latest.status)) this.finish(bookingId, watcher);
  }

  private onChange(change: BookingChange): void {
    const tracked = this.byBooking.get(change.booking.id);
    if (!tracked) return;
    const previous = tracked.booking;
    if (previous && previous.version >= change.booking.version) return;
    tracked.booking = change.booking;
    if (previous?.doctorId !== change.booking.doctorId || !MOVING_STATUSES.includes(change.booking.status)) {
      // Another doctor (or none): the next tick reports the new one; positions of the old one are dropped.
      tracked.lastFixAt = undefined;
      for (const state of tracked.watchers.values()) state.pending = undefined;
    }
    const final = FINAL_STATUSES.includes(change.booking.status);
    for (const [watcher, state] of [...tracked.watchers]) {
      if (!state.ready) {
        state.buffered.push(change);
        continue;
      }
      this.deliver(watcher, change.booking);
      if (final) this.finish(change.booking.id, watcher);
    }
  }

  private deliver(watcher: TrackWatcher, booking: Booking): void {
    watcher.send({ type: 'status', booking });
  }

  private finish(bookingId: string, watcher: TrackWatcher): void {
    this.unwatch(bookingId, watcher);
    watcher.finished();
  }

  private unwatch(bookingId: string, watcher: TrackWatcher): void {
    const tracked = this.byBooking.get(bookingId);
    if (!tracked?.watchers.delete(watcher)) return;
    if (tracked.watchers.size === 0) this.byBooking.delete(bookingId);
    if (this.byBooking.size === 0) this.stopTimer();
  }

  /** The tracked booking's doctor's fix when it is one not yet reported, else undefined. No ETA yet. */
  private newFix(tracked: Tracked): NewFix | undefined {
    const booking = tracked.booking;
    if (!booking) return undefined;
    const doctor = this.doctorOf(booking);
    if (!doctor || doctor.lastFixAt === tracked.lastFixAt) return undefined;
    tracked.lastFixAt = doctor.lastFixAt;
    return { position: positionOf(doctor), at: doctor.lastFixAt ?? this.options.clock(), frame: undefined };
  }

  /**
   * The position frame of `fix`, built once for all the booking's sockets: the ETA is from the fix's position to the
   * booking as it is now (0 once arrived), at the engine's time of sending.
   */
  private frameOf(tracked: Tracked, fix: NewFix): PositionFrame {
    if (fix.frame) return fix.frame;
    // A fix is only pending while the booking has a doctor on the way (onChange drops it otherwise).
    const eta = tracked.booking ? this.etaOf(fix.position, tracked.booking) : undefined;
    fix.frame = {
      type: 'position',
      ...fix.position,
      ...(eta === undefined ? {} : { etaSeconds: eta }),
      at: fix.at,
    };
    return fix.frame;
  }

  /** The booking's doctor with a position, while the patient follows them; undefined otherwise. */
  private doctorOf(booking: Booking): (DoctorView & { lat: number; lng: number }) | undefined {
    if (booking.doctorId === undefined || !MOVING_STATUSES.includes(booking.status)) return undefined;
    const doctor = this.options.fleet().get(booking.doctorId);
    if (doctor?.lat === undefined || doctor.lng === undefined) return undefined;
    return doctor as DoctorView & { lat: number; lng: number };
  }

  /** Whole seconds to the address; 0 once the doctor has arrived. */
  private etaOf(doctor: LatLng, booking: Booking): number | undefined {
    if (booking.status === 'arrived') return 0;
    try {
      return Math.round(this.eta(this.options.traffic(), doctor, booking, this.options.clock()));
    } catch {
      // Coordinates are checked where they enter; an ETA that cannot be computed is left out rather than guessed.
      return undefined;
    }
  }

  private startTimer(): void {
    const tickMs = this.options.tickMs ?? 200;
    if (this.timer || tickMs <= 0) return;
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function positionOf(doctor: DoctorView & { lat: number; lng: number }): DoctorPosition {
  return {
    lat: doctor.lat,
    lng: doctor.lng,
    ...(doctor.heading === undefined ? {} : { heading: doctor.heading }),
    ...(doctor.speed === undefined ? {} : { speed: doctor.speed }),
  };
}
