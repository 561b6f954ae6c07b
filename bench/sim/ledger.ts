/**
 * The simulation's account of every booking, kept from the dispatcher's change notifications: the times that matter
 * to the patient (assigned, arrived) and the booking's final status, plus a watch that no doctor is ever held by two
 * bookings at once.
 */
import {
  DOCTOR_HOLDING_STATUSES,
  type BookingChange,
  type BookingStatus,
  type TriageCategory,
} from '../../dispatch/booking-types.ts';

/** One booking as the report needs it. Times are simulated ms since the epoch. */
export interface BookingAccount {
  id: string;
  /** Position in the scenario. */
  index: number;
  /** The category it was booked with. */
  priority: TriageCategory;
  createdAt: number;
  status: BookingStatus;
  /** The first time the booking was offered to a doctor: how long the matcher kept it before anyone was asked. */
  firstOfferedAt?: number;
  /** The first time a doctor was assigned (a reassignment does not reset the clock the patient waits by). */
  firstAssignedAt?: number;
  /** The latest assignment: the one whose doctor drove to the patient when the booking was reached. */
  lastAssignedAt?: number;
  arrivedAt?: number;
  completedAt?: number;
  /** Why it was cancelled, as recorded (`patient_cancelled`, …). */
  cancelReason?: string;
  /** Status changes recorded for it. */
  transitions: number;
  /** Whether a doctor it waited for while they finished a visit was offered it (reason `matched:look_ahead`). */
  lookAheadOffered: boolean;
  /** Whether its doctor, still on the way, was replaced by a nearer one (reason `reassigned:nearer_doctor`). */
  rematched: boolean;
  /** Times it went back to searching after a doctor had it (declines, lapses, preemption). */
  researches: number;
}

/** A moment at which one doctor was held by two bookings. */
export interface DoubleHolding {
  doctorId: string;
  bookingIds: [string, string];
  at: number;
}

const HOLDING = new Set<BookingStatus>(DOCTOR_HOLDING_STATUSES);

/** Collects {@link BookingAccount}s; feed it every {@link BookingChange}. */
export class BookingLedger {
  /** Accounts by booking id, in the order the bookings were first seen. */
  readonly accounts = new Map<string, BookingAccount>();
  /** Every double holding seen; empty in a correct run. */
  readonly doubleHoldings: DoubleHolding[] = [];
  /** Changes that went back in simulated time or were recorded for a booking after a final status. */
  readonly anomalies: string[] = [];
  private readonly holderOf = new Map<string, string>();
  private readonly heldBy = new Map<string, string>();

  /** Records the booking's scenario index as soon as its id is known (create() resolved). */
  created(id: string, index: number, priority: TriageCategory, createdAt: number): BookingAccount {
    let account = this.accounts.get(id);
    if (!account) {
      account = {
        id,
        index,
        priority,
        createdAt,
        status: 'created',
        transitions: 0,
        researches: 0,
        lookAheadOffered: false,
        rematched: false,
      };
      this.accounts.set(id, account);
    } else {
      account.index = index;
      account.priority = priority;
      account.createdAt = createdAt;
    }
    return account;
  }

  /** The dispatcher's listener: call it with every change, in the order they are recorded. */
  record(change: BookingChange): void {
    const { booking, update } = change;
    const account =
      this.accounts.get(booking.id) ??
      this.created(booking.id, -1, booking.originalPriority, booking.createdAt);
    if (account.status === 'completed' || account.status === 'cancelled') {
      this.anomalies.push(`${booking.id}: ${update.from ?? 'null'} → ${update.to} after ${account.status}`);
    }
    account.transitions++;
    account.status = update.to;
    if (update.to === 'offered' && account.firstOfferedAt === undefined) account.firstOfferedAt = update.at;
    if (update.to === 'offered' && update.reason === 'matched:look_ahead') account.lookAheadOffered = true;
    if (update.to === 'searching' && update.reason === 'reassigned:nearer_doctor') account.rematched = true;
    if (update.to === 'assigned' && account.firstAssignedAt === undefined)
      account.firstAssignedAt = update.at;
    if (update.to === 'assigned') account.lastAssignedAt = update.at;
    if (update.to === 'arrived') account.arrivedAt = update.at;
    if (update.to === 'completed') account.completedAt = update.at;
    if (update.to === 'cancelled') account.cancelReason = update.reason ?? booking.cancelReason;
    // from = to records a change that is not a status change (a new priority).
    if (
      update.to === 'searching' &&
      update.from !== 'searching' &&
      update.from !== null &&
      update.from !== 'created'
    )
      account.researches++;
    this.watchHolding(booking.id, HOLDING.has(update.to) ? booking.doctorId : undefined, update.at);
  }

  /** Final statuses counted: how many bookings ended in each status. */
  countByStatus(): Partial<Record<BookingStatus, number>> {
    const counts: Partial<Record<BookingStatus, number>> = {};
    for (const account of this.accounts.values()) counts[account.status] = (counts[account.status] ?? 0) + 1;
    return counts;
  }

  private watchHolding(bookingId: string, doctorId: string | undefined, at: number): void {
    const previous = this.heldBy.get(bookingId);
    if (previous !== undefined && previous !== doctorId) {
      if (this.holderOf.get(previous) === bookingId) this.holderOf.delete(previous);
      this.heldBy.delete(bookingId);
    }
    if (doctorId === undefined) return;
    const holder = this.holderOf.get(doctorId);
    if (holder !== undefined && holder !== bookingId) {
      this.doubleHoldings.push({ doctorId, bookingIds: [holder, bookingId], at });
      this.heldBy.delete(holder);
    }
    this.holderOf.set(doctorId, bookingId);
    this.heldBy.set(bookingId, doctorId);
  }
}
