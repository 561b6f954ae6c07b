/**
 * An in-memory {@link DispatchService} for the API's tests: the booking lifecycle of dispatch/booking-types.ts without
 * the matcher — a booking waits in `searching` until the test offers it to a doctor with {@link FakeDispatch.offerTo}.
 * It refuses what the real dispatcher refuses with the same codes (an answer to an offer that is not the doctor's is
 * DISPATCH_OFFER_NOT_OPEN, a change the lifecycle forbids DISPATCH_INVALID_TRANSITION), and records every call.
 */
import {
  BOOKING_TRANSITIONS,
  isEmergencyCategory,
  type Actor,
  type Booking,
  type BookingChange,
  type BookingListFilter,
  type BookingRequest,
  type BookingStatus,
  type BookingStatusUpdate,
  type DispatchService,
  type OfferChannel,
  type PriceEstimate,
  type TriageCategory,
} from '../../dispatch/booking-types.ts';
import { TotError } from '../../geo/errors.ts';

/** A call the fake received: method name and arguments. */
export interface RecordedCall {
  method: string;
  args: unknown[];
}

export class FakeDispatch implements DispatchService {
  readonly calls: RecordedCall[] = [];
  private readonly bookings = new Map<string, Booking>();
  private readonly updates = new Map<string, BookingStatusUpdate[]>();
  private readonly listeners = new Set<(change: BookingChange) => void>();
  /** Doctors a manual assignment refuses (DISPATCH_DOCTOR_UNAVAILABLE). */
  readonly busyDoctors = new Set<string>();
  private nextId = 1;

  constructor(
    private readonly clock: () => number = Date.now,
    /** Where {@link offerTo} sends offers, as the real dispatcher does. */
    private readonly channel?: OfferChannel,
  ) {}

  async create(request: BookingRequest, by: Actor): Promise<Booking> {
    this.record('create', request, by);
    const now = this.clock();
    const booking: Booking = {
      ...request,
      id: `booking-${this.nextId++}`,
      status: 'created',
      emergency: isEmergencyCategory(request.priority),
      originalPriority: request.priority,
      declinedBy: [],
      estimatedPrice: 2500,
      estimatedDurationMinutes: 45,
      createdAt: now,
      version: 1,
    };
    this.bookings.set(booking.id, booking);
    this.updates.set(booking.id, [{ bookingId: booking.id, from: null, to: 'created', by, at: now }]);
    return this.change(booking.id, 'searching', { id: 'system', role: 'system' }, {});
  }

  async get(id: string): Promise<Booking> {
    return { ...this.booking(id) };
  }

  async list(filter: BookingListFilter): Promise<Booking[]> {
    this.record('list', filter);
    let all = [...this.bookings.values()]
      .filter((booking) => filter.patientId === undefined || booking.patientId === filter.patientId)
      .filter((booking) => filter.doctorId === undefined || booking.doctorId === filter.doctorId)
      .filter((booking) => filter.status === undefined || filter.status.includes(booking.status))
      .sort((a, b) => b.createdAt - a.createdAt || Number(idNumber(b.id) - idNumber(a.id)));
    if (filter.after !== undefined) {
      const index = all.findIndex((booking) => booking.id === filter.after);
      all = index < 0 ? [] : all.slice(index + 1);
    }
    return all.slice(0, filter.limit ?? 50).map((booking) => ({ ...booking }));
  }

  async history(id: string): Promise<BookingStatusUpdate[]> {
    this.booking(id);
    return [...(this.updates.get(id) ?? [])];
  }

  active(): Booking[] {
    return [...this.bookings.values()].filter(
      (booking) => !['completed', 'cancelled'].includes(booking.status),
    );
  }

  bookingOfDoctor(doctorId: string): Booking | undefined {
    return this.active().find((booking) => booking.doctorId === doctorId);
  }

  async cancel(id: string, by: Actor, reason: string): Promise<Booking> {
    this.record('cancel', id, by, reason);
    return this.change(id, 'cancelled', by, { cancelReason: reason, doctorId: undefined }, reason);
  }

  /** Offers a searching booking to `doctorId` (what the matcher would do), through the channel when given. */
  offerTo(id: string, doctorId: string, expiresInMs = 30_000): Booking {
    const booking = this.change(
      id,
      'offered',
      { id: 'system', role: 'system' },
      {
        doctorId,
        offerExpiresAt: this.clock() + expiresInMs,
      },
    );
    this.channel?.offer(doctorId, {
      type: 'offer',
      bookingId: id,
      priority: booking.priority,
      emergency: booking.emergency,
      callType: booking.callType,
      address: booking.address,
      lat: booking.lat,
      lng: booking.lng,
      symptoms: booking.symptoms,
      etaSeconds: 300,
      expiresAt: booking.offerExpiresAt ?? 0,
    });
    return booking;
  }

  async accept(id: string, doctorId: string, by: Actor): Promise<Booking> {
    this.record('accept', id, doctorId, by);
    this.requireOffer(id, doctorId);
    return this.change(id, 'assigned', by, { offerExpiresAt: undefined, assignedEtaSeconds: 300 });
  }

  async decline(id: string, doctorId: string, by: Actor, reason?: string): Promise<Booking> {
    this.record('decline', id, doctorId, by, reason);
    const booking = this.requireOffer(id, doctorId);
    return this.change(
      id,
      'searching',
      by,
      { doctorId: undefined, offerExpiresAt: undefined, declinedBy: [...booking.declinedBy, doctorId] },
      reason ?? 'declined',
    );
  }

  async arrived(id: string, doctorId: string, by: Actor): Promise<Booking> {
    this.record('arrived', id, doctorId, by);
    this.requireDoctor(id, doctorId);
    return this.change(id, 'arrived', by, {});
  }

  async start(id: string, doctorId: string, by: Actor): Promise<Booking> {
    this.record('start', id, doctorId, by);
    this.requireDoctor(id, doctorId);
    return this.change(id, 'in_progress', by, {});
  }

  async complete(id: string, doctorId: string, by: Actor): Promise<Booking> {
    this.record('complete', id, doctorId, by);
    this.requireDoctor(id, doctorId);
    return this.change(id, 'completed', by, {});
  }

  /** Moves an assigned booking on the way (what the dispatcher does when the doctor sets off). */
  setOff(id: string): Booking {
    return this.change(id, 'en_route', { id: 'system', role: 'system' }, {});
  }

  async assign(id: string, doctorId: string, by: Actor): Promise<Booking> {
    this.record('assign', id, doctorId, by);
    if (this.busyDoctors.has(doctorId)) {
      throw new TotError('DISPATCH_DOCTOR_UNAVAILABLE', `doctor ${doctorId} is not available`, {
        field: 'doctorId',
      });
    }
    return this.change(id, 'assigned', by, { doctorId });
  }

  async reassign(id: string, by: Actor, reason: string): Promise<Booking> {
    this.record('reassign', id, by, reason);
    return this.change(id, 'searching', by, { doctorId: undefined }, `reassigned:${reason}`);
  }

  async changePriority(id: string, priority: TriageCategory, by: Actor): Promise<Booking> {
    this.record('changePriority', id, priority, by);
    const booking = this.booking(id);
    const changed = {
      ...booking,
      priority,
      emergency: isEmergencyCategory(priority),
      version: booking.version + 1,
    };
    this.bookings.set(id, changed);
    return { ...changed };
  }

  estimatePrice(request: Pick<BookingRequest, 'lat' | 'lng' | 'callType' | 'priority'>): PriceEstimate {
    this.record('estimatePrice', request);
    return { price: 2500, currency: 'RUB', breakdown: [{ item: request.callType, amount: 2500 }] };
  }

  onChange(listener: (change: BookingChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls of `method`. */
  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Number of bookings held. */
  get size(): number {
    return this.bookings.size;
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  private booking(id: string): Booking {
    const booking = this.bookings.get(id);
    if (!booking) {
      throw new TotError('DISPATCH_BOOKING_NOT_FOUND', `booking ${id} does not exist`, { field: 'id' });
    }
    return booking;
  }

  private requireOffer(id: string, doctorId: string): Booking {
    const booking = this.booking(id);
    if (booking.status !== 'offered' || booking.doctorId !== doctorId) {
      throw new TotError(
        'DISPATCH_OFFER_NOT_OPEN',
        `booking ${id} has no open offer for doctor ${doctorId}`,
        {
          field: 'bookingId',
        },
      );
    }
    return booking;
  }

  private requireDoctor(id: string, doctorId: string): void {
    if (this.booking(id).doctorId !== doctorId) {
      throw new TotError(
        'DISPATCH_INVALID_TRANSITION',
        `booking ${id} is not assigned to doctor ${doctorId}`,
        {
          field: 'id',
        },
      );
    }
  }

  private change(
    id: string,
    to: BookingStatus,
    by: Actor,
    fields: Partial<Booking>,
    reason?: string,
  ): Booking {
    const booking = this.booking(id);
    if (!BOOKING_TRANSITIONS[booking.status].includes(to)) {
      throw new TotError(
        'DISPATCH_INVALID_TRANSITION',
        `booking ${id}: ${booking.status} → ${to} is not allowed`,
        {
          field: 'status',
        },
      );
    }
    const changed: Booking = { ...booking, ...fields, status: to, version: booking.version + 1 };
    this.bookings.set(id, changed);
    const update: BookingStatusUpdate = {
      bookingId: id,
      from: booking.status,
      to,
      by,
      at: this.clock(),
      ...(reason === undefined ? {} : { reason }),
      ...(changed.doctorId === undefined ? {} : { doctorId: changed.doctorId }),
    };
    this.updates.get(id)?.push(update);
    for (const listener of this.listeners) listener({ booking: { ...changed }, update });
    return { ...changed };
  }
}

function idNumber(id: string): bigint {
  return BigInt(/(\d+)$/.exec(id)?.[1] ?? '0');
}
