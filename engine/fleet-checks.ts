/**
 * Argument checks of the fleet: every bad input becomes a coded TotError naming the field and the value, thrown
 * before anything changes.
 */
import { TotError } from '../geo/errors.ts';
import {
  DOCTOR_STATUSES,
  DOCTOR_STATUS_TRANSITIONS,
  type DoctorProfile,
  type DoctorStatus,
  type Fix,
} from './fleet-types.ts';

/** Status code (index in DOCTOR_STATUSES) of `offline`. */
export const OFFLINE = DOCTOR_STATUSES.indexOf('offline');
/** Status code of `available`. */
export const AVAILABLE = DOCTOR_STATUSES.indexOf('available');

const STATUS_CODE = new Map<string, number>(DOCTOR_STATUSES.map((status, code) => [status, code]));
/** TRANSITION_ALLOWED[from][to] for status codes. */
const TRANSITION_ALLOWED: boolean[][] = DOCTOR_STATUSES.map((from) =>
  DOCTOR_STATUSES.map((to) => DOCTOR_STATUS_TRANSITIONS[from].includes(to)),
);

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** An `ENGINE_INVALID_ARGUMENT` error. */
export function invalidArgument(field: string, requirement: string, value: unknown): TotError {
  return new TotError('ENGINE_INVALID_ARGUMENT', `${field} must be ${requirement}, got ${describe(value)}`, {
    field,
    value,
  });
}

function invalidFix(field: string, requirement: string, value: unknown): TotError {
  return new TotError('ENGINE_INVALID_FIX', `fix.${field} must be ${requirement}, got ${describe(value)}`, {
    field,
    value,
  });
}

/** The code of a status name. @throws TotError `ENGINE_INVALID_ARGUMENT` for anything else. */
export function statusCode(status: unknown, field = 'status'): number {
  const code = typeof status === 'string' ? STATUS_CODE.get(status) : undefined;
  if (code === undefined) throw invalidArgument(field, `one of ${DOCTOR_STATUSES.join(', ')}`, status);
  return code;
}

/** The name of a status code. */
export function statusName(code: number): DoctorStatus {
  return DOCTOR_STATUSES[code] as DoctorStatus;
}

/**
 * Throws `ENGINE_INVALID_TRANSITION` unless from → to is in the table (or from = to), naming the doctor, both
 * statuses and the allowed ones.
 */
export function checkTransition(doctorId: string, from: number, to: number): void {
  if (from === to || TRANSITION_ALLOWED[from]?.[to] === true) return;
  const fromName = statusName(from);
  const toName = statusName(to);
  throw new TotError(
    'ENGINE_INVALID_TRANSITION',
    `doctor ${JSON.stringify(doctorId)} cannot go from ${fromName} to ${toName} ` +
      `(allowed: ${DOCTOR_STATUS_TRANSITIONS[fromName].join(', ')})`,
    { field: 'status', value: toName, from: fromName, doctorId },
  );
}

function optionalInRange(
  fix: Fix,
  field: 'accuracy' | 'speed' | 'heading' | 'battery',
  min: number,
  max: number,
): void {
  const value = fix[field];
  if (value !== undefined && !(typeof value === 'number' && value >= min && value <= max)) {
    throw invalidFix(field, `a number in [${min}, ${max}] or absent`, value);
  }
}

/** Throws `ENGINE_INVALID_FIX` naming the first bad field of a fix. */
export function checkFix(fix: Fix): void {
  if (fix === null || typeof fix !== 'object') throw invalidFix('', 'an object', fix);
  if (typeof fix.doctorId !== 'string' || fix.doctorId.length === 0) {
    throw invalidFix('doctorId', 'a non-empty string', fix.doctorId);
  }
  if (!(typeof fix.lat === 'number' && fix.lat >= -90 && fix.lat <= 90)) {
    throw invalidFix('lat', 'a number in [-90, 90]', fix.lat);
  }
  if (!(typeof fix.lng === 'number' && fix.lng >= -180 && fix.lng <= 180)) {
    throw invalidFix('lng', 'a number in [-180, 180]', fix.lng);
  }
  if (!Number.isFinite(fix.ts)) throw invalidFix('ts', 'a finite number (ms since the epoch)', fix.ts);
  optionalInRange(fix, 'accuracy', 0, Number.MAX_VALUE);
  optionalInRange(fix, 'speed', 0, Number.MAX_VALUE);
  optionalInRange(fix, 'heading', 0, 360);
  optionalInRange(fix, 'battery', 0, 100);
  if (fix.seq !== undefined && !Number.isFinite(fix.seq))
    throw invalidFix('seq', 'a finite number or absent', fix.seq);
}

/**
 * Throws `ENGINE_INVALID_ARGUMENT` naming the first bad field of a profile; returns the status code if one is given.
 */
export function checkProfile(profile: DoctorProfile): number | undefined {
  if (profile === null || typeof profile !== 'object') throw invalidArgument('profile', 'an object', profile);
  if (typeof profile.id !== 'string' || profile.id.length === 0) {
    throw invalidArgument('id', 'a non-empty string', profile.id);
  }
  const specializations = profile.specializations;
  if (
    specializations !== undefined &&
    (!Array.isArray(specializations) ||
      specializations.some((name) => typeof name !== 'string' || name === ''))
  ) {
    throw invalidArgument('specializations', 'an array of non-empty strings', specializations);
  }
  if (profile.clinicId !== undefined && (typeof profile.clinicId !== 'string' || profile.clinicId === '')) {
    throw invalidArgument('clinicId', 'a non-empty string', profile.clinicId);
  }
  if (profile.rating !== undefined && !Number.isFinite(profile.rating)) {
    throw invalidArgument('rating', 'a finite number', profile.rating);
  }
  return profile.status === undefined ? undefined : statusCode(profile.status);
}
