/**
 * Simulated patients' bookings: where they are (half around the city's hot spots, half anywhere in the inner city),
 * what they ask for (a category mix with an emergency share, some asking for a pediatrician), how long the visit takes
 * and whether the patient will cancel. Shared by the offline simulation (bench/sim draws a whole scenario ahead) and
 * the running engine's demo city (which draws as it goes); both draw from one seeded stream in the same order, so the
 * same seed gives the same bookings.
 */
import type { CityBox, SimHotSpot } from '../../engine/simulator/index.ts';
import type { Random } from '../../engine/simulator/random.ts';
import type { BookingRequest, CallType, TriageCategory } from '../booking-types.ts';

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const METERS_PER_DEGREE_LAT = 111_320;
/** Spread of bookings around a demand hot spot, metres (standard deviation of each axis, roughly). */
const DEMAND_SPREAD_M = 2500;
/** Share of bookings drawn around the hot spots; the rest fall uniformly over the inner city. */
const HOT_SPOT_SHARE = 0.5;
/** Share of routine bookings that ask for a pediatrician (the specialization mix of the simulated doctors has 20 %). */
const PEDIATRIC_SHARE = 0.1;
/** Length of a visit, minutes, uniform in this range. */
const VISIT_MINUTES: readonly [number, number] = [20, 60];
/** When a patient cancels, this long after booking, minutes, uniform in this range. */
const CANCEL_AFTER_MINUTES: readonly [number, number] = [5, 45];

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

/** A drawn booking: what is asked, and what the patient does later. */
export interface DrawnBooking {
  request: BookingRequest;
  /** Length of the visit once started, ms. */
  visitMs: number;
  /** When set, the patient cancels this long after booking unless the doctor has arrived. */
  cancelAfterMs?: number;
}

/** The demand of a city. */
export interface DemandOptions {
  /** The city; bookings fall inside it. */
  box: Readonly<CityBox>;
  /** Where demand concentrates (the city simulator's congestion hot spots). */
  hotSpots: readonly SimHotSpot[];
  /** Share of bookings in categories 1 and 2 (one third category 1, two thirds category 2), in [0, 1]. */
  emergencyShare: number;
  /** Share of routine bookings (categories 3 and 4) the patient cancels before the doctor arrives, in [0, 1]. */
  cancelShare: number;
}

/** Draws the bookings of a city from one seeded stream; see the module comment. */
export class BookingDraw {
  private readonly metersPerDegreeLng: number;

  constructor(
    private readonly random: Random,
    private readonly demand: DemandOptions,
  ) {
    const { box } = demand;
    this.metersPerDegreeLng =
      METERS_PER_DEGREE_LAT * Math.cos((((box.minLat + box.maxLat) / 2) * Math.PI) / 180);
  }

  /**
   * Time to the next arrival of a Poisson process of `bookingsPerHour`, ms (not rounded); Infinity at rate 0, without
   * drawing.
   */
  gapMs(bookingsPerHour: number): number {
    const ratePerMs = bookingsPerHour / MS_PER_HOUR;
    if (!(ratePerMs > 0)) return Infinity;
    return -Math.log(1 - this.random.next()) / ratePerMs;
  }

  /** The booking number `index` (0…): patient `patient-000001`… at `simulated address #1`…. */
  draw(index: number): DrawnBooking {
    const random = this.random;
    const { box, hotSpots } = this.demand;
    const inner = (min: number, max: number): number =>
      random.between(min + 0.15 * (max - min), max - 0.15 * (max - min));
    let lat: number;
    let lng: number;
    const spot = hotSpots.length > 0 && random.next() < HOT_SPOT_SHARE ? random.pick(hotSpots) : undefined;
    if (spot) {
      // Sum of three uniforms: a cheap bell around the hot spot.
      const spread = (): number =>
        (random.next() + random.next() + random.next() - 1.5) * 2 * DEMAND_SPREAD_M;
      lat = clamp(spot.lat + spread() / METERS_PER_DEGREE_LAT, box.minLat, box.maxLat);
      lng = clamp(spot.lng + spread() / this.metersPerDegreeLng, box.minLng, box.maxLng);
    } else {
      lat = inner(box.minLat, box.maxLat);
      lng = inner(box.minLng, box.maxLng);
    }
    const priority = drawCategory(random, this.demand.emergencyShare);
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
    const booking: DrawnBooking = {
      request,
      visitMs: Math.round(random.between(VISIT_MINUTES[0], VISIT_MINUTES[1]) * MS_PER_MINUTE),
    };
    if (priority >= 3 && random.next() < this.demand.cancelShare) {
      booking.cancelAfterMs = Math.round(
        random.between(CANCEL_AFTER_MINUTES[0], CANCEL_AFTER_MINUTES[1]) * MS_PER_MINUTE,
      );
    }
    return booking;
  }
}

/** One third of the emergencies are category 1; routine bookings are 40 % category 3 and 60 % category 4. */
function drawCategory(random: Random, emergencyShare: number): TriageCategory {
  const draw = random.next();
  if (draw < emergencyShare / 3) return 1;
  if (draw < emergencyShare) return 2;
  return random.next() < 0.4 ? 3 : 4;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
