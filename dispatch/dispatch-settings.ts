/**
 * The dispatcher's tunables with their defaults and checks. engine/config.ts reads them from DISPATCH_* variables;
 * the simulation passes its own. Every duration is in ms, every ETA in seconds.
 */
import type { Config } from '../engine/config.ts';
import type { EtaOptions } from '../geo/eta.ts';
import { TotError } from '../geo/errors.ts';
import { DEFAULT_TARGET_ARRIVAL_MINUTES, TRIAGE_CATEGORIES, type TriageCategory } from './booking-types.ts';
import { DEFAULT_SCORING, type ScoringWeights } from './scoring.ts';

/**
 * How searching bookings get doctors. `batched`: non-emergencies wait up to the batch window and are assigned jointly
 * (minimum total cost over the batch); `greedy`: each booking takes its cheapest free candidate the moment it is
 * matched, first come first served — the nearest-first baseline the simulation compares with. Emergencies are
 * matched at once in both modes.
 */
export type MatchingMode = 'batched' | 'greedy';

/** Every tunable of the dispatcher. */
export interface DispatchSettings {
  matching: MatchingMode;
  /** How long non-emergencies gather before a joint assignment (DISPATCH_BATCH_WINDOW_MS). Default 1 000. */
  batchWindowMs: number;
  /**
   * Batched matching only: how far ahead a doctor finishing a visit counts as a candidate for a routine booking, at an
   * ETA of the visit's expected remaining time plus the drive (dispatch/look-ahead.ts); 0 turns the look-ahead off
   * (DISPATCH_LOOK_AHEAD_MS).
   * Default 600 000 (10 min); the search timeout (less room for a declined offer) bounds it anyway.
   */
  lookAheadMs: number;
  /**
   * Batched matching only: the share of a candidate's coverage gap (dispatch/coverage.ts: the ETA from the doctor to
   * the nearest other free doctor) added to its cost; 0 turns it off (DISPATCH_COVERAGE_WEIGHT). Default 0.5: a doctor who is the only cover of
   * their area must be nearer by half of what the next patient there would lose before they are taken (measured:
   * 0.5 did better than 1, which sends patients noticeably further; docs/BENCHMARKS.md).
   */
  coverageWeight: number;
  /**
   * Batched matching only: an en-route routine booking is given to a free doctor who would arrive at least this much
   * sooner than its doctor on the way, once per booking (dispatch/rematch.ts); 0 turns rematching off
   * (DISPATCH_REMATCH_SAVING_MS). Default 300 000
   * (5 min): enough to be worth turning a doctor round and a second offer that may be declined.
   */
  rematchSavingMs: number;
  /** How long a doctor has to answer an offer (DISPATCH_OFFER_TIMEOUT_MS). Default 20 000. */
  offerTimeoutMs: number;
  /** The same for an emergency (DISPATCH_EMERGENCY_OFFER_TIMEOUT_MS). Default 10 000. */
  emergencyOfferTimeoutMs: number;
  /** A search without a doctor for this long ends in no_doctor_found (DISPATCH_SEARCH_TIMEOUT_MS). Default 600 000. */
  searchTimeoutMs: number;
  /**
   * A booking left in no_doctor_found this long after its search ended is cancelled (reason `no_doctor_found_expired`,
   * the patient notified) unless someone retried or assigned it meanwhile (DISPATCH_NO_DOCTOR_FOUND_TTL_MS). Default
   * 86 400 000 (a day): past that nobody will, and the dispatcher's memory would keep it for good.
   */
  noDoctorFoundTtlMs: number;
  /** Target minutes from booking (or its scheduled time) to arrival per category (DISPATCH_TARGETS). */
  targetMinutes: Record<TriageCategory, number>;
  /** Nearest available doctors considered per booking (DISPATCH_CANDIDATES). Default 10. */
  candidates: number;
  /** Straight-line radius of the candidate search, km (DISPATCH_MAX_KM). Default 30. */
  maxKm: number;
  /** Candidates whose ETA exceeds this are dropped, seconds (DISPATCH_MAX_ETA_S). Default 3 600. */
  maxEtaSeconds: number;
  /** A booking for later starts its search this long before its time (DISPATCH_SCHEDULE_LEAD_MS). Default 1 800 000. */
  scheduleLeadMs: number;
  /** Period of tick() under start(), ms (DISPATCH_TICK_MS). Default 100. */
  tickIntervalMs: number;
  scoring: ScoringWeights;
  /** Options of geo/eta.ts for every ETA the dispatcher computes. */
  eta: EtaOptions;
}

/** The defaults, each explained on {@link DispatchSettings}. */
export const DEFAULT_DISPATCH_SETTINGS: DispatchSettings = {
  matching: 'batched',
  batchWindowMs: 1_000,
  lookAheadMs: 600_000,
  coverageWeight: 0.5,
  rematchSavingMs: 300_000,
  offerTimeoutMs: 20_000,
  emergencyOfferTimeoutMs: 10_000,
  searchTimeoutMs: 600_000,
  noDoctorFoundTtlMs: 86_400_000,
  targetMinutes: { ...DEFAULT_TARGET_ARRIVAL_MINUTES },
  candidates: 10,
  maxKm: 30,
  maxEtaSeconds: 3_600,
  scheduleLeadMs: 1_800_000,
  tickIntervalMs: 100,
  scoring: DEFAULT_SCORING,
  eta: {},
};

/** Settings as a caller gives them: any subset, scoring and targets field by field. */
export type DispatchSettingsInput = Partial<Omit<DispatchSettings, 'scoring' | 'targetMinutes'>> & {
  scoring?: Partial<ScoringWeights>;
  targetMinutes?: Partial<Record<TriageCategory, number>>;
};

function invalid(field: string, expected: string, value: unknown): TotError {
  return new TotError(
    'ENGINE_INVALID_ARGUMENT',
    `dispatch settings: ${field} must be ${expected}, got ${String(value)}`,
    {
      field,
      value,
    },
  );
}

function positive(field: string, value: number): void {
  if (!(Number.isFinite(value) && value > 0)) throw invalid(field, 'a positive number', value);
}

function nonNegative(field: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) throw invalid(field, 'a finite number ≥ 0', value);
}

/**
 * The defaults overlaid with `input`, checked.
 *
 * @throws TotError `ENGINE_INVALID_ARGUMENT` naming the first bad setting (a non-positive duration, an unknown
 *   matching mode, targets that are not positive or not ordered — a more urgent category must not get a longer
 *   target).
 */
export function resolveDispatchSettings(input: DispatchSettingsInput = {}): DispatchSettings {
  const settings: DispatchSettings = {
    ...DEFAULT_DISPATCH_SETTINGS,
    ...stripUndefined(input),
    scoring: { ...DEFAULT_SCORING, ...stripUndefined(input.scoring ?? {}) },
    targetMinutes: {
      ...DEFAULT_DISPATCH_SETTINGS.targetMinutes,
      ...stripUndefined(input.targetMinutes ?? {}),
    },
    eta: { ...(input.eta ?? {}) },
  };
  if (settings.matching !== 'batched' && settings.matching !== 'greedy') {
    throw invalid('matching', "'batched' or 'greedy'", settings.matching);
  }
  positive('batchWindowMs', settings.batchWindowMs);
  nonNegative('lookAheadMs', settings.lookAheadMs);
  nonNegative('coverageWeight', settings.coverageWeight);
  nonNegative('rematchSavingMs', settings.rematchSavingMs);
  positive('offerTimeoutMs', settings.offerTimeoutMs);
  positive('emergencyOfferTimeoutMs', settings.emergencyOfferTimeoutMs);
  positive('searchTimeoutMs', settings.searchTimeoutMs);
  positive('noDoctorFoundTtlMs', settings.noDoctorFoundTtlMs);
  positive('maxKm', settings.maxKm);
  positive('maxEtaSeconds', settings.maxEtaSeconds);
  positive('tickIntervalMs', settings.tickIntervalMs);
  nonNegative('scheduleLeadMs', settings.scheduleLeadMs);
  if (!(Number.isInteger(settings.candidates) && settings.candidates >= 1 && settings.candidates <= 1_000)) {
    throw invalid('candidates', 'a whole number in [1, 1000]', settings.candidates);
  }
  let previous = 0;
  for (const category of TRIAGE_CATEGORIES) {
    const minutes = settings.targetMinutes[category];
    positive(`targetMinutes[${category}]`, minutes);
    if (minutes < previous) {
      throw invalid(
        `targetMinutes[${category}]`,
        `≥ the target of category ${category - 1} (${previous})`,
        minutes,
      );
    }
    previous = minutes;
  }
  const scoring = settings.scoring;
  nonNegative('scoring.ratingSecondsPerStar', scoring.ratingSecondsPerStar);
  nonNegative('scoring.fairnessSecondsPerVisit', scoring.fairnessSecondsPerVisit);
  positive('scoring.fairnessWindowMs', scoring.fairnessWindowMs);
  if (!(Number.isFinite(scoring.unratedRating) && scoring.unratedRating >= 0 && scoring.unratedRating <= 5)) {
    throw invalid('scoring.unratedRating', 'a number in [0, 5]', scoring.unratedRating);
  }
  return settings;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The settings the DISPATCH_* variables of the configuration give (engine/config.ts validated them). */
export function settingsFromConfig(
  config: Pick<
    Config,
    | 'DISPATCH_MATCHING'
    | 'DISPATCH_BATCH_WINDOW_MS'
    | 'DISPATCH_LOOK_AHEAD_MS'
    | 'DISPATCH_COVERAGE_WEIGHT'
    | 'DISPATCH_REMATCH_SAVING_MS'
    | 'DISPATCH_OFFER_TIMEOUT_MS'
    | 'DISPATCH_EMERGENCY_OFFER_TIMEOUT_MS'
    | 'DISPATCH_SEARCH_TIMEOUT_MS'
    | 'DISPATCH_NO_DOCTOR_FOUND_TTL_MS'
    | 'DISPATCH_TARGETS'
    | 'DISPATCH_CANDIDATES'
    | 'DISPATCH_MAX_KM'
    | 'DISPATCH_MAX_ETA_S'
    | 'DISPATCH_SCHEDULE_LEAD_MS'
    | 'DISPATCH_TICK_MS'
    | 'DISPATCH_RATING_SECONDS_PER_STAR'
    | 'DISPATCH_FAIRNESS_SECONDS_PER_VISIT'
    | 'DISPATCH_FAIRNESS_WINDOW_MS'
  >,
): DispatchSettingsInput {
  const [one, two, three, four] = config.DISPATCH_TARGETS;
  return {
    matching: config.DISPATCH_MATCHING,
    batchWindowMs: config.DISPATCH_BATCH_WINDOW_MS,
    lookAheadMs: config.DISPATCH_LOOK_AHEAD_MS,
    coverageWeight: config.DISPATCH_COVERAGE_WEIGHT,
    rematchSavingMs: config.DISPATCH_REMATCH_SAVING_MS,
    offerTimeoutMs: config.DISPATCH_OFFER_TIMEOUT_MS,
    emergencyOfferTimeoutMs: config.DISPATCH_EMERGENCY_OFFER_TIMEOUT_MS,
    searchTimeoutMs: config.DISPATCH_SEARCH_TIMEOUT_MS,
    noDoctorFoundTtlMs: config.DISPATCH_NO_DOCTOR_FOUND_TTL_MS,
    targetMinutes: { 1: one, 2: two, 3: three, 4: four },
    candidates: config.DISPATCH_CANDIDATES,
    maxKm: config.DISPATCH_MAX_KM,
    maxEtaSeconds: config.DISPATCH_MAX_ETA_S,
    scheduleLeadMs: config.DISPATCH_SCHEDULE_LEAD_MS,
    tickIntervalMs: config.DISPATCH_TICK_MS,
    scoring: {
      ratingSecondsPerStar: config.DISPATCH_RATING_SECONDS_PER_STAR,
      fairnessSecondsPerVisit: config.DISPATCH_FAIRNESS_SECONDS_PER_VISIT,
      fairnessWindowMs: config.DISPATCH_FAIRNESS_WINDOW_MS,
    },
  };
}
