/**
 * A dispatcher on a fixed clock the test advances, over a fleet and a traffic field of its own, with a channel, a bus
 * and listeners that record everything. Traffic runs at 36 km/h all day, so with the ETA model's 1.3 detour one
 * straight-line km takes 130 s. Time is only ever moved by the test, and tick() is called explicitly: no sleeps.
 */
import { unpack } from 'msgpackr';
import { InThreadAssignmentSolver } from '../../../dispatch/assignment.ts';
import type { BookingRepository } from '../../../dispatch/booking-repository.ts';
import type {
  Actor,
  AssignmentSolver,
  BookingChange,
  BookingRequest,
  DispatchEvent,
  Offer,
} from '../../../dispatch/booking-types.ts';
import type { DoctorChannel } from '../../../dispatch/dispatch-context.ts';
import type { DispatchSettingsInput } from '../../../dispatch/dispatch-settings.ts';
import { Dispatcher } from '../../../dispatch/dispatcher.ts';
import { MemoryBookingStore } from '../../../dispatch/memory-booking-store.ts';
import type { Bus, OutgoingMessage, PartState } from '../../../engine/bus.ts';
import { TOPICS } from '../../../engine/bus.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { Metrics } from '../../../engine/metrics.ts';
import { TrafficField } from '../../../geo/traffic-field.ts';

/** 09:00 UTC, noon in Moscow: no night surcharge. */
export const START = Date.UTC(2026, 10, 23, 9, 0, 0);
/** The test city's centre. */
export const CENTRE = { lat: 55.75, lng: 37.62 };
/** Degrees of latitude per km. */
export const KM_LAT = 1 / 111.195;

export const PATIENT: Actor = { id: 'patient-1', role: 'patient' };
export const DISPATCHER: Actor = { id: 'dispatcher-1', role: 'dispatcher' };
export const doctorActor = (id: string): Actor => ({ id, role: 'doctor' });

/** A point `north` km north and `east` km east of the centre. */
export function at(north: number, east = 0): { lat: number; lng: number } {
  return {
    lat: CENTRE.lat + north * KM_LAT,
    lng: CENTRE.lng + east * (KM_LAT / Math.cos((CENTRE.lat * Math.PI) / 180)),
  };
}

/** Records what the dispatcher sends to doctors. */
export class RecordingChannel implements DoctorChannel {
  readonly offers: { doctorId: string; offer: Offer }[] = [];
  readonly withdrawals: { doctorId: string; bookingId: string; reason: string }[] = [];
  readonly assignments: { doctorId: string; assignment: Offer }[] = [];
  /** Called inside offer(), e.g. to look at the store at that moment. */
  onOffer: ((doctorId: string, offer: Offer) => void) | undefined;

  offer(doctorId: string, offer: Offer): boolean {
    this.offers.push({ doctorId, offer });
    this.onOffer?.(doctorId, offer);
    return true;
  }

  withdraw(doctorId: string, bookingId: string, reason: string): void {
    this.withdrawals.push({ doctorId, bookingId, reason });
  }

  assigned(doctorId: string, assignment: Offer): void {
    this.assignments.push({ doctorId, assignment });
  }
}

/** A bus that keeps what is published. */
export class RecordingBus implements Bus {
  readonly kind = 'recording';
  readonly published: { topic: string; message: OutgoingMessage }[] = [];

  async ensureTopics(): Promise<void> {}
  async publish(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    for (const message of messages) this.published.push({ topic, message });
  }
  async subscribe(): Promise<never> {
    throw new Error('not used');
  }
  state(): PartState {
    return 'ready';
  }
  async close(): Promise<void> {}

  /** The decoded events published on the events topic. */
  events(): (DispatchEvent & { key: string })[] {
    return this.published
      .filter((entry) => entry.topic === TOPICS.events)
      .map((entry) => ({ ...(unpack(entry.message.value) as DispatchEvent), key: entry.message.key }));
  }
}

/** Options of {@link dispatchHarness}. */
export interface HarnessOptions {
  settings?: DispatchSettingsInput;
  store?: BookingRepository;
  solver?: AssignmentSolver;
  fleet?: Fleet;
  now?: number;
}

/** A dispatcher with everything around it recorded. */
export function dispatchHarness(options: HarnessOptions = {}) {
  let now = options.now ?? START;
  const live = {
    fleet: options.fleet ?? new Fleet({ offlineAfterMs: 60_000 }),
    traffic: new TrafficField({ freeFlowProfileKmh: new Array<number>(24).fill(36) }),
  };
  const store = options.store ?? new MemoryBookingStore();
  const channel = new RecordingChannel();
  const bus = new RecordingBus();
  const metrics = new Metrics({ processMetrics: false });
  const dispatcher = new Dispatcher({
    store,
    engine: live,
    solver: options.solver ?? new InThreadAssignmentSolver(),
    channel,
    bus,
    topics: TOPICS,
    clock: () => now,
    metrics,
    settings: options.settings ?? {},
  });
  const changes: BookingChange[] = [];
  dispatcher.onChange((change) => changes.push(change));
  const events: DispatchEvent[] = [];
  dispatcher.onEvent((event) => events.push(event));

  return {
    dispatcher,
    store,
    live,
    channel,
    bus,
    metrics,
    changes,
    events,
    now: () => now,
    /** Moves the clock forward. */
    advance(ms: number): number {
      now += ms;
      return now;
    },
    /** Ticks at the current time. */
    tick: () => dispatcher.tick(now),
    /** Registers a doctor at a position (km north/east of the centre) with a fix at the current time. */
    addDoctor(
      id: string,
      north: number,
      east = 0,
      profile: { specializations?: string[]; rating?: number } = {},
    ): void {
      live.fleet.register({ id, ...profile }, now);
      live.fleet.applyFix({ doctorId: id, ...at(north, east), ts: now }, now);
    },
    /** Moves a doctor (a fresh fix at the current time). */
    moveDoctor(id: string, north: number, east = 0): void {
      live.fleet.applyFix({ doctorId: id, ...at(north, east), ts: now }, now);
    },
    statusOf: (id: string) => live.fleet.get(id)?.status,
    /** The value of a metric sample: a counter with these labels, or a histogram's `_count`. */
    async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
      const metric = (await metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
      const histogram = String(metric?.type) === 'histogram';
      const sample = metric?.values.find(
        (value) =>
          (!histogram || String((value as { metricName?: string }).metricName).endsWith('_count')) &&
          Object.entries(labels).every(([key, expected]) => String(value.labels[key]) === expected),
      );
      return sample?.value ?? 0;
    },
    /** A booking request at (north, east) km from the centre. */
    request(north: number, east = 0, overrides: Partial<BookingRequest> = {}): BookingRequest {
      return {
        patientId: 'patient-1',
        callType: 'home_visit',
        symptoms: 'fever since yesterday',
        address: `${north} km north, ${east} km east`,
        ...at(north, east),
        priority: 4,
        ...overrides,
      };
    },
  };
}

/** The harness type. */
export type DispatchHarness = ReturnType<typeof dispatchHarness>;
