/**
 * The scenario of a dispatch simulation, drawn once from the seed so that the batched and the greedy run see the
 * same city: the doctors (home positions and profiles of the engine's city simulator), the bookings (a Poisson
 * process over the city with demand hot spots, a category mix and a few patient cancellations) and the random
 * numbers of each doctor's answer to each booking (so that a doctor offered the same booking in both runs behaves
 * the same).
 */
import { CitySimulator, MOSCOW_BOX, type SimDoctor } from '../../engine/simulator/index.ts';
import { Random, nextIn, streamSeed } from '../../engine/simulator/random.ts';
import type { BookingRequest, CallType, TriageCategory } from '../../dispatch/booking-types.ts';
import type { SimulationOptions } from './options.ts';

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
/** A Monday, 00:00 in Moscow (UTC+3): the day every scenario is set on. */
const SCENARIO_DAY_UTC = Date.UTC(2026, 2, 2, 0, 0) - 3 * MS_PER_HOUR;

// Stream families of the scenario; the city simulator's own families are below 20.
const BOOKING_STREAM = 21;
const PAIR_STREAM = 22;
const PAIR_DOCTOR_STREAM = 23;

/** Spread of bookings around a demand hot spot, metres (standard deviation of each axis, roughly). */
const DEMAND_SPREAD_M = 2500;
/** Share of bookings drawn around the hot spots; the rest fall uniformly over the inner city. */
const HOT_SPOT_SHARE = 0.5;
/** Share of routine bookings that ask for a pediatrician (the specialization mix of the simulated doctors has 20 %). */
const PEDIATRIC_SHARE = 0.1;
/** Length of a visit, minutes, uniform in this range. */
const VISIT_MINUTES: readonly [number, number] = [20, 60];

const SYMPTOMS: Readonly<Record<TriageCategory, readonly string[]>> = {
  1: ['chest pain and shortness of breath', 'loss of consciousness', 'suspected stroke'],
  2: ['high fever 39.5 °C for two days', 'severe abdominal pain', 'asthma attack not easing'],
  3: ['fever and cough', 'back pain', 'ear ache in a child'],
  4: ['routine check-up', 'prescription renewal', 'blood pressure control'],
};
const CALL_TYPE: Readonly<Record<TriageCategory, CallType>> = {
  1: 'emergency',
  2: 'urgent_visit',
  3: 'home_visit',
  4: 'home_visit',
};

/** A booking of the scenario: when it arrives, what is asked, and what the patient does later. */
export interface ScheduledBooking {
  /** Position in the scenario, 0…; also the booking's number in its address. */
  index: number;
  /** Simulated time of arrival, ms since the epoch. */
  at: number;
  request: BookingRequest;
  /** Length of the visit once started, ms. */
  visitMs: number;
  /** When set, the patient cancels this long after booking unless the doctor has arrived. */
  cancelAfterMs?: number;
}

/** Everything both runs of a simulation share. */
export interface Scenario {
  options: SimulationOptions;
  /** When bookings start arriving, ms since the epoch. */
  startAt: number;
  /** When the last booking may arrive. */
  bookingsEndAt: number;
  /** When the city stops at the latest (after the drain). */
  endAt: number;
  doctors: SimDoctor[];
  bookings: ScheduledBooking[];
  /** The traffic detectors, as a city simulator without doctors (same seed ⇒ same detectors and hot spots). */
  traffic(): CitySimulator;
}

/**
 * Draws the scenario of `options`. Doctors and detectors come from the engine's city simulator; bookings from a
 * Poisson process of rate `bookingsPerHour` over [startAt, startAt + minutes).
 */
export function buildScenario(options: SimulationOptions): Scenario {
  const startAt = SCENARIO_DAY_UTC + Math.round(options.startHour * MS_PER_HOUR);
  const bookingsEndAt = startAt + options.minutes * MS_PER_MINUTE;
  const city = new CitySimulator({
    doctors: options.doctors,
    detectors: 0,
    seed: options.seed,
    onDutyShare: 1,
  });
  const hotSpots = city.hotSpots();
  const random = new Random(options.seed, BOOKING_STREAM);
  const box = MOSCOW_BOX;
  const metersPerDegreeLat = 111_320;
  const metersPerDegreeLng = metersPerDegreeLat * Math.cos((((box.minLat + box.maxLat) / 2) * Math.PI) / 180);
  const inner = (min: number, max: number): number =>
    random.between(min + 0.15 * (max - min), max - 0.15 * (max - min));
  const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));

  const bookings: ScheduledBooking[] = [];
  const ratePerMs = options.bookingsPerHour / MS_PER_HOUR;
  let t = startAt;
  for (let index = 0; ratePerMs > 0; index++) {
    t += -Math.log(1 - random.next()) / ratePerMs;
    if (t >= bookingsEndAt) break;
    let lat: number;
    let lng: number;
    const spot = hotSpots.length > 0 && random.next() < HOT_SPOT_SHARE ? random.pick(hotSpots) : undefined;
    if (spot) {
      // Sum of three uniforms: a cheap bell around the hot spot.
      const spread = (): number =>
        (random.next() + random.next() + random.next() - 1.5) * 2 * DEMAND_SPREAD_M;
      lat = clamp(spot.lat + spread() / metersPerDegreeLat, box.minLat, box.maxLat);
      lng = clamp(spot.lng + spread() / metersPerDegreeLng, box.minLng, box.maxLng);
    } else {
      lat = inner(box.minLat, box.maxLat);
      lng = inner(box.minLng, box.maxLng);
    }
    const priority = drawCategory(random, options.emergencyShare);
    const request: BookingRequest = {
      patientId: `patient-${String(index + 1).padStart(6, '0')}`,
      callType: CALL_TYPE[priority],
      symptoms: random.pick(SYMPTOMS[priority]),
      address: `simulated address #${index + 1}`,
      lat: round6(lat),
      lng: round6(lng),
      priority,
    };
    if (priority >= 3 && random.next() < PEDIATRIC_SHARE) request.specialization = 'pediatrician';
    if (priority === 1) request.emergencyType = random.pick(['cardiac', 'neurological', 'respiratory']);
    const booking: ScheduledBooking = {
      index,
      at: Math.round(t),
      request,
      visitMs: Math.round(random.between(VISIT_MINUTES[0], VISIT_MINUTES[1]) * MS_PER_MINUTE),
    };
    if (priority >= 3 && random.next() < options.cancelShare) {
      booking.cancelAfterMs = Math.round(random.between(5, 45) * MS_PER_MINUTE);
    }
    bookings.push(booking);
  }

  return {
    options,
    startAt,
    bookingsEndAt,
    endAt: bookingsEndAt + options.drainMinutes * MS_PER_MINUTE,
    doctors: city.doctors(),
    bookings,
    traffic: () => new CitySimulator({ doctors: 0, detectors: options.detectors, seed: options.seed }),
  };
}

/** One third of the emergencies are category 1; routine bookings are 40 % category 3 and 60 % category 4. */
function drawCategory(random: Random, emergencyShare: number): TriageCategory {
  const draw = random.next();
  if (draw < emergencyShare / 3) return 1;
  if (draw < emergencyShare) return 2;
  return random.next() < 0.4 ? 3 : 4;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * The random numbers of doctor `doctorIndex` answering booking `bookingIndex`: independent of the order in which
 * offers happen, so that the same doctor offered the same booking answers the same way in both runs.
 */
export class PairRandom {
  private readonly state = new Uint32Array(1);

  constructor(seed: number, bookingIndex: number, doctorIndex: number) {
    this.state[0] =
      streamSeed(seed, PAIR_STREAM, bookingIndex) ^ streamSeed(seed, PAIR_DOCTOR_STREAM, doctorIndex);
  }

  /** A number in [0, 1). */
  next(): number {
    return nextIn(this.state, 0);
  }

  /** A number in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
}
