/**
 * The vocabulary of dispatch: booking statuses and their lifecycle, triage categories and their arrival targets, the
 * booking record, its status updates, the domain events published on tot.events, and the small interfaces the
 * dispatcher is given by the composition root (the assignment solver, the channel offers travel on). Types and
 * constants only; the behaviour lives beside it (booking-lifecycle.ts, dispatcher.ts, …).
 */

/** A booking's status, in lifecycle order. */
export const BOOKING_STATUSES = [
  'created',
  'searching',
  'offered',
  'assigned',
  'en_route',
  'arrived',
  'in_progress',
  'completed',
  'cancelled',
  'no_doctor_found',
] as const;

/** One of {@link BOOKING_STATUSES}. */
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

/**
 * The allowed status changes. The happy path is created → searching → offered → assigned → en_route → arrived →
 * in_progress → completed. An offer declined or timed out goes offered → searching; a reassignment (dispatcher
 * override, preemption by an emergency, the doctor dropping out) goes assigned or en_route → searching and is recorded
 * with reason `reassigned:<why>` — reassignment is a transition, not a status of its own, so that no reader has to
 * handle a booking that is "reassigned" and nothing else. A dispatcher's manual assignment goes searching or
 * no_doctor_found → assigned. Searching with no candidate until the search deadline gives no_doctor_found, from
 * which a dispatcher (or a new search) may go back to searching. Cancelling is possible until the visit starts.
 */
export const BOOKING_TRANSITIONS: Readonly<Record<BookingStatus, readonly BookingStatus[]>> = {
  created: ['searching', 'cancelled'],
  searching: ['offered', 'assigned', 'no_doctor_found', 'cancelled'],
  offered: ['assigned', 'searching', 'cancelled'],
  assigned: ['en_route', 'searching', 'cancelled'],
  en_route: ['arrived', 'searching', 'cancelled'],
  arrived: ['in_progress', 'cancelled'],
  in_progress: ['completed'],
  completed: [],
  cancelled: [],
  no_doctor_found: ['searching', 'assigned', 'cancelled'],
};

/** Statuses in which a booking holds a doctor; a doctor is held by at most one booking (the store enforces it). */
export const DOCTOR_HOLDING_STATUSES: readonly BookingStatus[] = [
  'offered',
  'assigned',
  'en_route',
  'arrived',
  'in_progress',
];

/** Statuses a booking never leaves. */
export const FINAL_STATUSES: readonly BookingStatus[] = ['completed', 'cancelled'];

/**
 * Triage categories: 1 life-threatening, 2 urgent, 3 soon, 4 routine. Categories 1 and 2 are emergencies: they skip
 * the batch window, are matched at once, and may preempt a doctor assigned to a lower-priority booking.
 */
export const TRIAGE_CATEGORIES = [1, 2, 3, 4] as const;

/** One of {@link TRIAGE_CATEGORIES}; lower is more urgent. */
export type TriageCategory = (typeof TRIAGE_CATEGORIES)[number];

/** Whether a category is an emergency (matched at once, may preempt). */
export function isEmergencyCategory(priority: TriageCategory): boolean {
  return priority <= 2;
}

/**
 * Target time from booking to the doctor's arrival per category, minutes. Category 1 follows the 15-minute goal of
 * the Dispatch issue (ambulance standards in Russian cities are 20 minutes; a home-doctor service sending the nearest
 * free doctor should beat that); the others are the product's promise to patients. Configurable (DISPATCH_TARGETS).
 */
export const DEFAULT_TARGET_ARRIVAL_MINUTES: Readonly<Record<TriageCategory, number>> = {
  1: 15,
  2: 30,
  3: 60,
  4: 180,
};

/** How the patient asked for the visit (the seeds' call types). */
export const CALL_TYPES = ['home_visit', 'urgent_visit', 'emergency', 'consultation'] as const;

/** One of {@link CALL_TYPES}. */
export type CallType = (typeof CALL_TYPES)[number];

/** What a patient (or a dispatcher on their behalf) submits. Validated by the API's zod schema before it gets here. */
export interface BookingRequest {
  patientId: string;
  callType: CallType;
  symptoms: string;
  address: string;
  lat: number;
  lng: number;
  priority: TriageCategory;
  /** Only doctors with this specialization (e.g. `pediatrics`); any doctor when omitted. */
  specialization?: string;
  /** ms since the epoch; a visit booked ahead. Omitted: as soon as possible. */
  scheduledAt?: number;
  /** Free-text emergency type (e.g. `cardiac`), only with an emergency category. */
  emergencyType?: string;
}

/** A booking as the dispatcher and the store keep it. Times are ms since the epoch. */
export interface Booking extends BookingRequest {
  id: string;
  status: BookingStatus;
  /** Derived from the priority: {@link isEmergencyCategory}. */
  emergency: boolean;
  /** The priority it was booked with; `priority` may have been raised since (preemption, dispatcher). */
  originalPriority: TriageCategory;
  /** The doctor offered, assigned or visiting; after completion or cancellation the one it had; undefined while searching. */
  doctorId?: string;
  /** While offered: when the offer lapses. */
  offerExpiresAt?: number;
  /** Doctors who declined or let an offer lapse; not offered this booking again. */
  declinedBy: string[];
  /** Price estimate at booking and the final price at completion, in roubles. */
  estimatedPrice: number;
  finalPrice?: number;
  /** ETA in seconds when the doctor was assigned, and the visit's estimated and actual duration in minutes. */
  assignedEtaSeconds?: number;
  estimatedDurationMinutes: number;
  actualDurationMinutes?: number;
  cancelReason?: string;
  createdAt: number;
  searchingAt?: number;
  offeredAt?: number;
  assignedAt?: number;
  enRouteAt?: number;
  arrivedAt?: number;
  startedAt?: number;
  completedAt?: number;
  cancelledAt?: number;
  /** Increments with every change; the store refuses a write based on a stale version. */
  version: number;
}

/** Who made a change: a user (with their role) or the system (matcher, timers). */
export interface Actor {
  /** A user id, or `system`. */
  id: string;
  role: 'patient' | 'doctor' | 'clinic_admin' | 'dispatcher' | 'admin' | 'system';
}

/** One recorded transition (the seeds' booking_status_updates). */
export interface BookingStatusUpdate {
  bookingId: string;
  from: BookingStatus | null;
  to: BookingStatus;
  by: Actor;
  /** Why, e.g. `offer_timeout`, `declined`, `reassigned:preempted`, `patient_cancelled`. */
  reason?: string;
  doctorId?: string;
  at: number;
}

/** Domain events on tot.events (key: booking id), msgpack-encoded maps. */
export type DispatchEvent =
  | { type: 'BookingCreated'; bookingId: string; priority: TriageCategory; emergency: boolean; at: number }
  | {
      type: 'BookingStatusChanged';
      bookingId: string;
      from: BookingStatus | null;
      to: BookingStatus;
      reason?: string;
      doctorId?: string;
      at: number;
    }
  | {
      type: 'DoctorOffered';
      bookingId: string;
      doctorId: string;
      etaSeconds: number;
      expiresAt: number;
      at: number;
    }
  | { type: 'DoctorAssigned'; bookingId: string; doctorId: string; etaSeconds: number; at: number }
  | { type: 'DoctorArrived'; bookingId: string; doctorId: string; at: number }
  | {
      type: 'BookingPreempted';
      bookingId: string;
      byBookingId: string;
      doctorId: string;
      newPriority: TriageCategory;
      at: number;
    }
  | { type: 'EmergencyEscalated'; bookingId: string; priority: TriageCategory; reason: string; at: number }
  | {
      type: 'SlaBreached';
      bookingId: string;
      priority: TriageCategory;
      targetMinutes: number;
      status: BookingStatus;
      at: number;
    };

/** An offer as a doctor's phone receives it. */
export interface Offer {
  type: 'offer';
  bookingId: string;
  priority: TriageCategory;
  emergency: boolean;
  callType: CallType;
  address: string;
  lat: number;
  lng: number;
  symptoms: string;
  etaSeconds: number;
  /** ms since the epoch. */
  expiresAt: number;
}

/** How offers reach doctors (the phone sockets of api/gateway). */
export interface OfferChannel {
  /** Sends `offer` to the doctor's open sockets; false when the doctor has none (the offer still stands until it lapses). */
  offer(doctorId: string, offer: Offer): boolean;
  /** Tells the doctor an offer or assignment no longer stands (cancelled, preempted, lapsed). */
  withdraw(doctorId: string, bookingId: string, reason: string): void;
}

/**
 * A sparse rectangular assignment problem: `rows` bookings, `cols` doctors, and for each booking only its candidates,
 * in compressed sparse rows: the candidates of row r are `colIndex[rowStart[r] .. rowStart[r + 1])` with the costs at
 * the same positions of `costs` (finite, ≥ 0). Leaving row r without a doctor costs `unassignedCost[r]` (finite, > any
 * of its candidate costs makes it always prefer a doctor; the priority of the booking sets how much more). The
 * solution minimises Σ cost of the chosen pairs + Σ unassignedCost of the rows left out, each column used at most once.
 */
export interface AssignmentProblem {
  rows: number;
  cols: number;
  /** rows + 1 offsets into colIndex/costs, non-decreasing, rowStart[0] = 0, rowStart[rows] = colIndex.length. */
  rowStart: Int32Array;
  /** Column of each candidate, in [0, cols); a column appears at most once per row. */
  colIndex: Int32Array;
  costs: Float64Array;
  unassignedCost: Float64Array;
}

/** The solution of an {@link AssignmentProblem}: for each row the column assigned, or -1; and its total cost. */
export interface AssignmentSolution {
  rowToCol: Int32Array;
  totalCost: number;
}

/** Solves {@link AssignmentProblem}s exactly. Implemented in-thread (dispatch/) and on piscina workers (workers/). */
export interface AssignmentSolver {
  /** @throws TotError `DISPATCH_INVALID_ASSIGNMENT` for a malformed problem. */
  solve(problem: AssignmentProblem): Promise<AssignmentSolution>;
}

/** Which bookings {@link DispatchService.list} returns; all filters are optional and combine with AND. */
export interface BookingListFilter {
  patientId?: string;
  doctorId?: string;
  status?: readonly BookingStatus[];
  /** Newest first; at most `limit` (default 50, at most 500), after the booking with id `after` when given. */
  limit?: number;
  after?: string;
}

/** What a booking would cost, as quoted before it is made (roubles). */
export interface PriceEstimate {
  price: number;
  currency: 'RUB';
  /** Straight-line distance from the nearest suitable available doctor, km; undefined when nobody is near. */
  nearestDoctorKm?: number;
  etaSeconds?: number;
  breakdown: { item: string; amount: number }[];
}

/** A change of a booking, as listeners (patient tracking, the live map) receive it. */
export interface BookingChange {
  booking: Booking;
  update: BookingStatusUpdate;
}

/**
 * The dispatcher as the API, the simulator and the live map use it (dispatch/dispatcher.ts implements it). Every
 * method validates its arguments and either changes the booking and records the transition, or throws and changes
 * nothing. `by` is who asks; authorization (who may ask) is the API's job.
 */
export interface DispatchService {
  /** Creates a booking and starts the search (an emergency is matched before this resolves). */
  create(request: BookingRequest, by: Actor): Promise<Booking>;
  /** @throws TotError `DISPATCH_BOOKING_NOT_FOUND`. */
  get(id: string): Promise<Booking>;
  list(filter: BookingListFilter): Promise<Booking[]>;
  /** The recorded transitions of a booking, oldest first. @throws `DISPATCH_BOOKING_NOT_FOUND`. */
  history(id: string): Promise<BookingStatusUpdate[]>;
  /** Bookings not yet completed or cancelled, from memory. */
  active(): Booking[];
  /** The booking holding a doctor (offered … in_progress), if any. */
  bookingOfDoctor(doctorId: string): Booking | undefined;
  cancel(id: string, by: Actor, reason: string): Promise<Booking>;
  /** The offered doctor accepts. @throws `DISPATCH_OFFER_NOT_OPEN` when the offer is not theirs or has lapsed. */
  accept(id: string, doctorId: string, by: Actor): Promise<Booking>;
  /** The offered doctor declines; the search goes on without them. */
  decline(id: string, doctorId: string, by: Actor, reason?: string): Promise<Booking>;
  /** The assigned doctor reports arrival, the start and the end of the visit. */
  arrived(id: string, doctorId: string, by: Actor): Promise<Booking>;
  start(id: string, doctorId: string, by: Actor): Promise<Booking>;
  complete(id: string, doctorId: string, by: Actor): Promise<Booking>;
  /** Dispatcher override: give the booking to this doctor now (no offer). @throws `DISPATCH_DOCTOR_UNAVAILABLE`. */
  assign(id: string, doctorId: string, by: Actor): Promise<Booking>;
  /** Dispatcher override: take the doctor off the booking and search again. */
  reassign(id: string, by: Actor, reason: string): Promise<Booking>;
  changePriority(id: string, priority: TriageCategory, by: Actor): Promise<Booking>;
  estimatePrice(
    request: Pick<BookingRequest, 'lat' | 'lng' | 'callType' | 'priority' | 'specialization'>,
  ): PriceEstimate;
  /**
   * Calls `listener` after every recorded change; returns the unsubscribe function. The change is frozen and shared
   * by every listener: read it, keep it, never change it.
   */
  onChange(listener: (change: BookingChange) => void): () => void;
}
