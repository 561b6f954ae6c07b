/**
 * The simulation report: per priority, time-to-assign and time-to-arrive (p50, p90, mean), the share of visits within
 * the category's target, the outcome counts; the difference batched vs greedy; how fast the city ran. Printed as a
 * table, or with --json as one JSON object per line.
 */
import {
  DEFAULT_TARGET_ARRIVAL_MINUTES,
  TRIAGE_CATEGORIES,
  type TriageCategory,
} from '../../dispatch/booking-types.ts';
import type { BookingAccount } from './ledger.ts';
import type { MatchingMode, SimulationOptions } from './options.ts';
import type { PhoneCounters } from '../../dispatch/simulation/doctor-phones.ts';

/** The reason the simulated patients give when they cancel. */
export const PATIENT_CANCEL_REASON = 'patient_cancelled';

const MS_PER_MINUTE = 60_000;

/** The figures of one priority (or of all bookings, `priority: 'all'`). Times in minutes. */
export interface PrioritySummary {
  priority: TriageCategory | 'all';
  bookings: number;
  completed: number;
  cancelled: number;
  noDoctor: number;
  /** Neither final nor without a doctor when the city stopped. */
  active: number;
  /** Bookings a doctor reached. */
  arrived: number;
  assignP50: number | null;
  assignP90: number | null;
  arriveP50: number | null;
  arriveP90: number | null;
  arriveMean: number | null;
  /**
   * Mean time from booking to the first offer, over the bookings offered: what the matcher itself added (batch window,
   * waiting for a doctor about to be free, no candidate at all) before any doctor was asked.
   */
  firstOfferMean: number | null;
  /** Bookings offered to a doctor they waited for while the doctor finished a visit (look-ahead). */
  lookAheadOffered: number;
  /** Bookings whose doctor, still on the way, was replaced by a nearer one (rematch). */
  rematched: number;
  /** Times bookings went back to searching after a doctor had them (declines, lapses, preemption), per booking. */
  researchesPerBooking: number | null;
  /** Mean drive: from the (last) assignment to the arrival — the part of the wait the choice of doctor decides. */
  driveMean: number | null;
  /**
   * Doctors arriving within the category's target, over the bookings that needed one (all but those the patient
   * cancelled before the arrival); a booking nobody reached counts as a miss.
   */
  withinTarget: number | null;
}

/** What one run produced besides the bookings. */
export interface RunFigures {
  matching: MatchingMode;
  /** Simulated minutes the city ran (bookings plus drain). */
  simulatedMinutes: number;
  /** Wall seconds of the simulated loop (store, engine and dispatcher set-up excluded). */
  wallSeconds: number;
  /**
   * Wall seconds of the set-up (fleet registration, traffic warm-up, the dispatcher's restore; with the opening and
   * migration of the embedded store, shared by the runs of one simulation, split evenly among them).
   */
  setupSeconds: number;
  /** Wall seconds of the simulated loop during which a store call was in flight. */
  storeSeconds: number;
  /** Store calls (statements outside transactions, and transactions) during the simulated loop. */
  storeCalls: number;
  phones: PhoneCounters;
  /** Records the run published on the bus's event topic. */
  events: number;
  doubleHoldings: number;
  anomalies: number;
  /** Bookings the store holds at the end (they really persist). */
  storedBookings: number;
  /** Batches the dispatcher solved (batched matching), those with two bookings or more, and their mean size. */
  batches: number;
  jointBatches: number;
  meanJointBatchRows: number | null;
}

/** One run: its figures and its bookings' accounts. */
export interface RunResult {
  figures: RunFigures;
  accounts: BookingAccount[];
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function minutes(ms: number): number {
  return ms / MS_PER_MINUTE;
}

function round(value: number | null, digits = 2): number | null {
  return value === null ? null : Number(value.toFixed(digits));
}

/** The figures of `accounts` (already filtered to one priority or not). */
export function summarise(
  priority: TriageCategory | 'all',
  accounts: readonly BookingAccount[],
): PrioritySummary {
  const assign: number[] = [];
  const arrive: number[] = [];
  let firstOfferTotal = 0;
  let firstOffers = 0;
  let researches = 0;
  let lookAheadOffered = 0;
  let rematched = 0;
  let driveTotal = 0;
  let drives = 0;
  let completed = 0;
  let cancelled = 0;
  let noDoctor = 0;
  let active = 0;
  let withinTarget = 0;
  let needed = 0;
  for (const account of accounts) {
    if (account.status === 'completed') completed++;
    else if (account.status === 'cancelled') cancelled++;
    else if (account.status === 'no_doctor_found') noDoctor++;
    else active++;
    if (account.firstAssignedAt !== undefined)
      assign.push(minutes(account.firstAssignedAt - account.createdAt));
    if (account.firstOfferedAt !== undefined) {
      firstOfferTotal += minutes(account.firstOfferedAt - account.createdAt);
      firstOffers++;
    }
    researches += account.researches;
    if (account.lookAheadOffered) lookAheadOffered++;
    if (account.rematched) rematched++;
    const patientCancelled =
      account.status === 'cancelled' &&
      account.cancelReason === PATIENT_CANCEL_REASON &&
      account.arrivedAt === undefined;
    if (!patientCancelled) needed++;
    if (account.arrivedAt !== undefined) {
      const waited = minutes(account.arrivedAt - account.createdAt);
      arrive.push(waited);
      if (account.lastAssignedAt !== undefined) {
        driveTotal += minutes(account.arrivedAt - account.lastAssignedAt);
        drives++;
      }
      if (waited <= DEFAULT_TARGET_ARRIVAL_MINUTES[account.priority]) withinTarget++;
    }
  }
  assign.sort((a, b) => a - b);
  arrive.sort((a, b) => a - b);
  return {
    priority,
    bookings: accounts.length,
    completed,
    cancelled,
    noDoctor,
    active,
    arrived: arrive.length,
    assignP50: round(percentile(assign, 0.5)),
    assignP90: round(percentile(assign, 0.9)),
    arriveP50: round(percentile(arrive, 0.5)),
    arriveP90: round(percentile(arrive, 0.9)),
    arriveMean: round(
      arrive.length === 0 ? null : arrive.reduce((sum, value) => sum + value, 0) / arrive.length,
    ),
    firstOfferMean: round(firstOffers === 0 ? null : firstOfferTotal / firstOffers),
    lookAheadOffered,
    rematched,
    researchesPerBooking: round(accounts.length === 0 ? null : researches / accounts.length, 3),
    driveMean: round(drives === 0 ? null : driveTotal / drives),
    withinTarget: round(needed === 0 ? null : withinTarget / needed, 4),
  };
}

/** The summaries of a run: one per category, then all bookings together. */
export function summariseRun(accounts: readonly BookingAccount[]): PrioritySummary[] {
  return [
    ...TRIAGE_CATEGORIES.map((priority) =>
      summarise(
        priority,
        accounts.filter((account) => account.priority === priority),
      ),
    ),
    summarise('all', accounts),
  ];
}

/** Batched against greedy for one priority: relative differences of the means and p90s, points of the target share. */
export interface Difference {
  priority: TriageCategory | 'all';
  /** (batched − greedy) / greedy of the mean time-to-arrive, percent; negative when batched is faster. */
  arriveMeanPercent: number | null;
  driveMeanPercent: number | null;
  arriveP90Percent: number | null;
  assignP90Percent: number | null;
  /** batched − greedy of the within-target share, percentage points. */
  withinTargetPoints: number | null;
  noDoctorDelta: number;
}

function relative(batched: number | null, greedy: number | null): number | null {
  if (batched === null || greedy === null || greedy === 0) return null;
  return round(((batched - greedy) / greedy) * 100, 1);
}

/** The difference batched vs greedy, per priority. */
export function compare(
  batched: readonly PrioritySummary[],
  greedy: readonly PrioritySummary[],
): Difference[] {
  return batched.map((b, i) => {
    const g = greedy[i] as PrioritySummary;
    return {
      priority: b.priority,
      arriveMeanPercent: relative(b.arriveMean, g.arriveMean),
      driveMeanPercent: relative(b.driveMean, g.driveMean),
      arriveP90Percent: relative(b.arriveP90, g.arriveP90),
      assignP90Percent: relative(b.assignP90, g.assignP90),
      withinTargetPoints:
        b.withinTarget === null || g.withinTarget === null
          ? null
          : round((b.withinTarget - g.withinTarget) * 100, 1),
      noDoctorDelta: b.noDoctor - g.noDoctor,
    };
  });
}

/** The whole report as JSON lines: the scenario, a summary per run and priority, the differences, the speed. */
export function reportLines(
  options: SimulationOptions,
  runs: readonly RunResult[],
  bookings: number,
): object[] {
  const { json: _json, ...scenario } = options;
  const lines: object[] = [{ kind: 'scenario', ...scenario, scheduledBookings: bookings }];
  const summaries = runs.map((run) => summariseRun(run.accounts));
  runs.forEach((run, i) => {
    for (const summary of summaries[i] as PrioritySummary[]) {
      lines.push({ kind: 'summary', matching: run.figures.matching, ...summary });
    }
  });
  const batched = runs.findIndex((run) => run.figures.matching === 'batched');
  const greedy = runs.findIndex((run) => run.figures.matching === 'greedy');
  if (batched >= 0 && greedy >= 0) {
    for (const difference of compare(
      summaries[batched] as PrioritySummary[],
      summaries[greedy] as PrioritySummary[],
    )) {
      lines.push({ kind: 'difference', ...difference });
    }
  }
  for (const run of runs) {
    const { phones, ...figures } = run.figures;
    lines.push({
      kind: 'run',
      ...figures,
      simulatedMinutesPerWallSecond: round(figures.simulatedMinutes / Math.max(figures.wallSeconds, 1e-9), 1),
      ...phones,
    });
  }
  return lines;
}

function cell(value: number | string | null, width: number): string {
  const text = value === null ? '–' : String(value);
  return text.padStart(width);
}

/** The report as text tables. */
export function formatReport(
  options: SimulationOptions,
  runs: readonly RunResult[],
  bookings: number,
): string {
  const out: string[] = [];
  out.push(
    `Dispatch simulation: ${options.minutes} min of bookings (+ up to ${options.drainMinutes} min drain) from ` +
      `${String(options.startHour).padStart(2, '0')}:00, ${options.doctors} doctors, ${options.bookingsPerHour} ` +
      `bookings/h (${bookings} scheduled), emergency share ${options.emergencyShare}, seed ${options.seed}`,
  );
  out.push('times in minutes from booking; "within" = arrived within the category target (15/30/60/180 min)');
  const header = [
    'matching',
    'prio',
    'bookings',
    'done',
    'cancel',
    'no-doc',
    'active',
    'assign50',
    'assign90',
    'arrive50',
    'arrive90',
    'arrive-mean',
    'offer-mean',
    'drive-mean',
    'within',
  ];
  const widths = header.map((h) => Math.max(h.length, 8));
  out.push(header.map((h, i) => h.padStart(widths[i] as number)).join(' '));
  const summaries = runs.map((run) => summariseRun(run.accounts));
  runs.forEach((run, r) => {
    for (const s of summaries[r] as PrioritySummary[]) {
      const row = [
        run.figures.matching,
        s.priority,
        s.bookings,
        s.completed,
        s.cancelled,
        s.noDoctor,
        s.active,
        s.assignP50,
        s.assignP90,
        s.arriveP50,
        s.arriveP90,
        s.arriveMean,
        s.firstOfferMean,
        s.driveMean,
        s.withinTarget === null ? null : `${(s.withinTarget * 100).toFixed(1)}%`,
      ];
      out.push(row.map((value, i) => cell(value, widths[i] as number)).join(' '));
    }
  });
  const batched = runs.findIndex((run) => run.figures.matching === 'batched');
  const greedy = runs.findIndex((run) => run.figures.matching === 'greedy');
  if (batched >= 0 && greedy >= 0) {
    out.push('');
    out.push('batched vs greedy (negative = batched faster):');
    for (const d of compare(
      summaries[batched] as PrioritySummary[],
      summaries[greedy] as PrioritySummary[],
    )) {
      const percent = (value: number | null) => (value === null ? '–' : `${value > 0 ? '+' : ''}${value}%`);
      out.push(
        `  priority ${String(d.priority).padEnd(3)}  mean arrive ${percent(d.arriveMeanPercent)}, ` +
          `mean drive ${percent(d.driveMeanPercent)}, ` +
          `p90 arrive ${percent(d.arriveP90Percent)}, p90 assign ${percent(d.assignP90Percent)}, ` +
          `within target ${d.withinTargetPoints === null ? '–' : `${d.withinTargetPoints > 0 ? '+' : ''}${d.withinTargetPoints} pt`}, ` +
          `no-doctor ${d.noDoctorDelta > 0 ? '+' : ''}${d.noDoctorDelta}`,
      );
    }
  }
  out.push('');
  runs.forEach((run, r) => {
    const f = run.figures;
    const all = (summaries[r] as PrioritySummary[]).at(-1) as PrioritySummary;
    const speed = f.simulatedMinutes / Math.max(f.wallSeconds, 1e-9);
    const refused = Object.entries(f.phones.refused)
      .map(([code, count]) => `${code} ${count}`)
      .join(', ');
    out.push(
      `${f.matching}: ${f.simulatedMinutes.toFixed(0)} simulated min in ${f.wallSeconds.toFixed(2)} s ` +
        `(${speed.toFixed(1)} simulated min per wall second; ${f.storeSeconds.toFixed(2)} s in ${f.storeCalls} ` +
        `store calls; set-up ${f.setupSeconds.toFixed(1)} s); ` +
        `offers ${f.phones.offers}, accepted ${f.phones.accepted}, declined ${f.phones.declined}, ` +
        `withdrawn ${f.phones.withdrawnOffers} offers / ${f.phones.withdrawnVisits} visits; ` +
        `events on the bus ${f.events}; bookings stored ${f.storedBookings}; ` +
        `double holdings ${f.doubleHoldings}; refused calls ${refused === '' ? 'none' : refused}` +
        (f.batches === 0
          ? ''
          : `; batches ${f.batches}, ${f.jointBatches} of them with 2+ bookings` +
            (f.meanJointBatchRows === null ? '' : ` (mean ${f.meanJointBatchRows.toFixed(1)})`) +
            `; bookings offered a doctor they waited for ${all.lookAheadOffered}, ` +
            `given a nearer doctor on the way ${all.rematched}`),
    );
  });
  return out.join('\n');
}
