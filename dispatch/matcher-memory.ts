/**
 * What batched matching remembers between batches: the learnt visit durations (visit-durations.ts), the bookings
 * waiting for a doctor about to be free (look-ahead.ts) and the bookings already rematched (rematch.ts). In process
 * only: after a restart the durations are read back from the latest completed visits (restore.ts), plans are made
 * again at the first batch, and a booking rematched before the restart may be rematched once more.
 */
import type { BookingChange } from './booking-types.ts';
import type { Candidate } from './candidates.ts';
import type { DispatchContext } from './dispatch-context.ts';
import { VisitDurations } from './visit-durations.ts';

/** A booking waiting for a doctor about to be free. */
export interface Plan {
  doctorId: string;
  /** When the doctor's visit is expected to end, ms since the epoch. */
  freeAt: number;
  /** Expected arrival at the patient's: freeAt plus the drive, ms since the epoch. */
  arriveAt: number;
  /** When the booking was first planned for this doctor. */
  since: number;
}

/** The memory of one dispatcher's matcher; see the module comment. */
export class MatcherMemory {
  readonly durations: VisitDurations;
  /** Bookings rematched once (rematch.ts), forgotten when they leave the active bookings. */
  readonly rematched = new Set<string>();
  /** When the en-route bookings were last looked at for a rematch. */
  lastRematchAt = -Infinity;
  private readonly plans = new Map<string, Plan>();

  constructor(durations: VisitDurations = new VisitDurations()) {
    this.durations = durations;
  }

  /** A recorder listener: learns the duration of every visit that completes. */
  observe(change: BookingChange): void {
    const { booking, update } = change;
    if (update.to !== 'completed' || booking.startedAt === undefined) return;
    this.durations.record(booking.callType, (booking.completedAt ?? update.at) - booking.startedAt);
  }

  /** The plan of a booking, if it waits for a doctor. */
  planOf(bookingId: string): Plan | undefined {
    return this.plans.get(bookingId);
  }

  /** Number of bookings planned now. */
  get planned(): number {
    return this.plans.size;
  }

  /** Records that `bookingId` waits for the soon-free `candidate`; a plan for the same doctor keeps its start. */
  plan(bookingId: string, candidate: Candidate, now: number): void {
    const previous = this.plans.get(bookingId);
    this.plans.set(bookingId, {
      doctorId: candidate.doctorId,
      freeAt: now + Math.round((candidate.freeInSeconds ?? 0) * 1000),
      arriveAt: now + Math.round(candidate.etaSeconds * 1000),
      since: previous?.doctorId === candidate.doctorId ? previous.since : now,
    });
  }

  /** Forgets the plan of a booking (offered, or no longer searching). */
  drop(bookingId: string): void {
    this.plans.delete(bookingId);
  }

  /**
   * Whether a planned doctor is free for their booking now (visit over, available, neither held nor reserved): the
   * batch should run at once rather than at the booking's next try. Forgets the plans of bookings no longer searching.
   */
  plannedDoctorFreed(context: DispatchContext): boolean {
    let freed = false;
    for (const [bookingId, plan] of this.plans) {
      if (context.bookings.get(bookingId)?.status !== 'searching') {
        this.plans.delete(bookingId);
        continue;
      }
      if (
        context.live.fleet.get(plan.doctorId)?.status === 'available' &&
        context.bookings.isFree(plan.doctorId)
      ) {
        freed = true;
      }
    }
    return freed;
  }

  /** Forgets the rematches of bookings no longer active. */
  forgetFinished(context: DispatchContext): void {
    for (const id of this.rematched) if (context.bookings.get(id) === undefined) this.rematched.delete(id);
  }
}

/**
 * The matcher memory of a dispatcher, made on first use and subscribed then to the recorder's changes (durations are
 * learnt from the visits that end from then on).
 */
export function matcherMemoryOf(context: DispatchContext): MatcherMemory {
  let memory = context.matcherMemory;
  if (memory === undefined) {
    const created = new MatcherMemory();
    context.recorder.listen((change) => created.observe(change));
    context.matcherMemory = created;
    memory = created;
  }
  return memory;
}
