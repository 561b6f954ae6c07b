/**
 * The scenario of a dispatch simulation, drawn once from the seed so that the batched and the greedy run see the
 * same city: the doctors (home positions and profiles of the engine's city simulator), the bookings (a Poisson
 * process over the city with demand hot spots, a category mix and a few patient cancellations) and the random
 * numbers of each doctor's answer to each booking (so that a doctor offered the same booking in both runs behaves
 * the same).
 */
import { CitySimulator, MOSCOW_BOX, type SimDoctor } from '../../engine/simulator/index.ts';
import { Random, nextIn, streamSeed } from '../../engine/simulator/random.ts';
import { BookingDraw, type DrawnBooking } from '../../dispatch/simulation/booking-draw.ts';
import type { UnitRandom } from '../../dispatch/simulation/doctor-phones.ts';
import type { SimulationOptions } from './options.ts';

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
/** A Monday, 00:00 in Moscow (UTC+3): the day every scenario is set on. */
const SCENARIO_DAY_UTC = Date.UTC(2026, 2, 2, 0, 0) - 3 * MS_PER_HOUR;

// Stream families of the scenario; the city simulator's own families are below 20.
const BOOKING_STREAM = 21;
const PAIR_STREAM = 22;
const PAIR_DOCTOR_STREAM = 23;

/** A booking of the scenario: when it arrives, what is asked, and what the patient does later. */
export interface ScheduledBooking extends DrawnBooking {
  /** Position in the scenario, 0…; also the booking's number in its address. */
  index: number;
  /** Simulated time of arrival, ms since the epoch. */
  at: number;
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
  const draw = new BookingDraw(new Random(options.seed, BOOKING_STREAM), {
    box: MOSCOW_BOX,
    hotSpots: city.hotSpots(),
    emergencyShare: options.emergencyShare,
    cancelShare: options.cancelShare,
  });
  const bookings: ScheduledBooking[] = [];
  let t = startAt;
  for (let index = 0; ; index++) {
    t += draw.gapMs(options.bookingsPerHour);
    if (t >= bookingsEndAt) break;
    bookings.push({ index, at: Math.round(t), ...draw.draw(index) });
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

/**
 * The random numbers of doctor `doctorIndex` answering booking `bookingIndex`: independent of the order in which
 * offers happen, so that the same doctor offered the same booking answers the same way in both runs.
 */
export class PairRandom implements UnitRandom {
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
