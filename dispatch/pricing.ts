/**
 * The price quoted before a booking is made, and the visit lengths the dispatcher plans with. Pure.
 *
 * The tariff (roubles, VAT included), in the order it is applied:
 * 1. a base by call type — consultation 1 500, home visit 3 000, urgent visit 4 500, emergency 6 000 — the doctor's
 *    time on site;
 * 2. travel: 60 per km of road from the nearest suitable available doctor (the straight line × the ETA model's detour
 *    factor, 1.3), free for the first 3 km — most of the city's calls are that close and pay the base alone;
 * 3. an emergency surcharge of 1 000 for triage categories 1 and 2 (they jump the queue and may take a doctor from
 *    another patient);
 * 4. a night surcharge of 25 % of the above from 22:00 to 07:00 local time (Moscow, UTC+3, no daylight saving);
 * rounded to the nearest 10 roubles.
 * Placeholder figures of a home-doctor service in a large Russian city; a clinic's own tariff replaces them.
 */
import { DEFAULT_DETOUR_FACTOR } from '../geo/eta.ts';
import {
  isEmergencyCategory,
  type CallType,
  type PriceEstimate,
  type TriageCategory,
} from './booking-types.ts';

/** The tariff {@link estimatePrice} applies. */
export interface Tariff {
  baseByCallType: Readonly<Record<CallType, number>>;
  perKm: number;
  freeKm: number;
  detourFactor: number;
  emergencySurcharge: number;
  nightRate: number;
  /** Local hour the night starts (inclusive) and ends (exclusive). */
  nightFromHour: number;
  nightToHour: number;
  /** Local time = UTC + this. */
  utcOffsetMinutes: number;
  roundTo: number;
}

/** The tariff described at the top of this file. */
export const DEFAULT_TARIFF: Tariff = {
  baseByCallType: { consultation: 1_500, home_visit: 3_000, urgent_visit: 4_500, emergency: 6_000 },
  perKm: 60,
  freeKm: 3,
  detourFactor: DEFAULT_DETOUR_FACTOR,
  emergencySurcharge: 1_000,
  nightRate: 0.25,
  nightFromHour: 22,
  nightToHour: 7,
  utcOffsetMinutes: 180,
  roundTo: 10,
};

/**
 * Planned length of a visit by call type, minutes: the seeds' averages (a consultation is a short talk and an
 * examination, an emergency includes stabilising the patient and handing over to an ambulance when needed).
 */
export const ESTIMATED_VISIT_MINUTES: Readonly<Record<CallType, number>> = {
  consultation: 20,
  home_visit: 40,
  urgent_visit: 45,
  emergency: 60,
};

/** What a price is computed from. */
export interface PriceInput {
  callType: CallType;
  priority: TriageCategory;
  /** Straight-line km from the nearest suitable available doctor; undefined when nobody is near (no travel term). */
  nearestDoctorKm?: number;
  etaSeconds?: number;
  /** When the visit happens (the booking's scheduled time, or now), ms since the epoch. */
  at: number;
}

/** The price of a visit under `tariff`, with its breakdown (the items add up to the price before rounding). */
export function estimatePrice(input: PriceInput, tariff: Tariff = DEFAULT_TARIFF): PriceEstimate {
  const breakdown: { item: string; amount: number }[] = [];
  breakdown.push({ item: `base:${input.callType}`, amount: tariff.baseByCallType[input.callType] });
  if (input.nearestDoctorKm !== undefined) {
    const roadKm = input.nearestDoctorKm * tariff.detourFactor;
    const paidKm = Math.max(0, roadKm - tariff.freeKm);
    if (paidKm > 0) breakdown.push({ item: 'travel', amount: round2(paidKm * tariff.perKm) });
  }
  if (isEmergencyCategory(input.priority))
    breakdown.push({ item: 'emergency', amount: tariff.emergencySurcharge });
  if (isNight(input.at, tariff)) {
    const subtotal = breakdown.reduce((sum, entry) => sum + entry.amount, 0);
    breakdown.push({ item: 'night', amount: round2(subtotal * tariff.nightRate) });
  }
  const total = breakdown.reduce((sum, entry) => sum + entry.amount, 0);
  const estimate: PriceEstimate = {
    price: Math.round(total / tariff.roundTo) * tariff.roundTo,
    currency: 'RUB',
    breakdown,
  };
  if (input.nearestDoctorKm !== undefined) estimate.nearestDoctorKm = round2(input.nearestDoctorKm);
  if (input.etaSeconds !== undefined) estimate.etaSeconds = Math.round(input.etaSeconds);
  return estimate;
}

/** Whether `at` falls in the tariff's night (local time). */
export function isNight(at: number, tariff: Tariff = DEFAULT_TARIFF): boolean {
  const local = new Date(at + tariff.utcOffsetMinutes * 60_000);
  const hour = local.getUTCHours();
  return tariff.nightFromHour > tariff.nightToHour
    ? hour >= tariff.nightFromHour || hour < tariff.nightToHour
    : hour >= tariff.nightFromHour && hour < tariff.nightToHour;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
