/**
 * The simulation's options and report arithmetic (bench/sim/options.ts, bench/sim/report.ts) on hand-made inputs.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { BookingAccount } from '../../../bench/sim/ledger.ts';
import { parseSimulationArguments, resolveSimulationOptions } from '../../../bench/sim/options.ts';
import { PATIENT_CANCEL_REASON, compare, summarise } from '../../../bench/sim/report.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 2, 7, 0);

/** A booking created at T0 that reached each given stage after that many minutes. */
function account(
  index: number,
  status: BookingAccount['status'],
  minutes: { assigned?: number; arrived?: number } = {},
  extra: Partial<BookingAccount> = {},
): BookingAccount {
  return {
    id: `b${index}`,
    index,
    priority: 1,
    createdAt: T0,
    status,
    transitions: 1,
    researches: 0,
    lookAheadOffered: false,
    rematched: false,
    ...(minutes.assigned === undefined
      ? {}
      : { firstAssignedAt: T0 + minutes.assigned * MINUTE, lastAssignedAt: T0 + minutes.assigned * MINUTE }),
    ...(minutes.arrived === undefined ? {} : { arrivedAt: T0 + minutes.arrived * MINUTE }),
    ...extra,
  };
}

describe('simulation report', () => {
  it('gives nearest-rank percentiles, the mean, the drive and the share within the target', () => {
    // Category 1 (target 15 min): arrivals after 5, 10, 20 and 30 min; one booking nobody reached; one the patient
    // cancelled before any arrival, which needed no doctor.
    const accounts = [
      account(0, 'completed', { assigned: 1, arrived: 5 }),
      account(1, 'completed', { assigned: 2, arrived: 10 }),
      account(2, 'in_progress', { assigned: 4, arrived: 20 }),
      account(3, 'completed', { assigned: 10, arrived: 30 }),
      account(4, 'no_doctor_found'),
      account(5, 'cancelled', {}, { cancelReason: PATIENT_CANCEL_REASON }),
    ];
    const summary = summarise(1, accounts);
    expect(summary).toMatchObject({
      bookings: 6,
      completed: 3,
      cancelled: 1,
      noDoctor: 1,
      active: 1,
      arrived: 4,
      assignP50: 2,
      assignP90: 10,
      arriveP50: 10,
      arriveP90: 30,
      arriveMean: 16.25,
      driveMean: 12,
      // 2 of the 5 bookings that needed a doctor: the one nobody reached is a miss.
      withinTarget: 0.4,
    });
  });

  it('compares batched with greedy as relative differences, negative when batched is faster', () => {
    const greedy = summarise('all', [account(0, 'completed', { assigned: 1, arrived: 20 })]);
    const batched = summarise('all', [account(0, 'completed', { assigned: 1, arrived: 15 })]);
    const [difference] = compare([batched], [greedy]);
    // Category 1, target 15 min: batched arrives within it, greedy does not.
    expect(difference).toMatchObject({
      arriveMeanPercent: -25,
      driveMeanPercent: -26.3,
      withinTargetPoints: 100,
      noDoctorDelta: 0,
    });
  });

  it('splits the wait: booking to first offer, bookings served by a doctor they waited for or given a nearer one', () => {
    const summary = summarise(4, [
      account(0, 'completed', { assigned: 1, arrived: 5 }, { firstOfferedAt: T0 + 0.5 * MINUTE }),
      account(
        1,
        'completed',
        { assigned: 4, arrived: 9 },
        {
          firstOfferedAt: T0 + 3.5 * MINUTE,
          lookAheadOffered: true,
        },
      ),
      account(
        2,
        'en_route',
        { assigned: 1 },
        { firstOfferedAt: T0 + 1 * MINUTE, rematched: true, researches: 1 },
      ),
      account(3, 'searching'),
    ]);
    expect(summary).toMatchObject({
      firstOfferMean: 1.67,
      lookAheadOffered: 1,
      rematched: 1,
      researchesPerBooking: 0.25,
    });
  });

  it('reports nothing to compare as null, not as zero', () => {
    const empty = summarise(2, []);
    expect(empty.arriveMean).toBeNull();
    expect(empty.withinTarget).toBeNull();
    expect(compare([empty], [empty])[0]?.arriveMeanPercent).toBeNull();
  });
});

describe('simulation options', () => {
  it('reads the flags of the command line over the defaults', () => {
    const options = parseSimulationArguments([
      '--minutes',
      '30',
      '--bookings-per-hour',
      '120.5',
      '--matching',
      'greedy',
      '--json',
    ]);
    expect(options).toMatchObject({
      minutes: 30,
      bookingsPerHour: 120.5,
      matching: ['greedy'],
      json: true,
      doctors: resolveSimulationOptions().doctors,
      help: false,
    });
    expect(parseSimulationArguments(['--matching', 'both']).matching).toEqual(['batched', 'greedy']);
    expect(
      parseSimulationArguments([
        '--look-ahead-minutes',
        '0',
        '--coverage-weight',
        '0.25',
        '--rematch-saving-minutes',
        '3',
        '--rating-seconds-per-star',
        '0',
        '--fairness-seconds-per-visit',
        '0',
      ]),
    ).toMatchObject({
      lookAheadMinutes: 0,
      coverageWeight: 0.25,
      rematchSavingMinutes: 3,
      ratingSecondsPerStar: 0,
      fairnessSecondsPerVisit: 0,
    });
    // Omitted, the dispatcher's own defaults stand.
    expect(resolveSimulationOptions().lookAheadMinutes).toBeUndefined();
  });

  it('refuses a value out of range or not a number, naming the option', () => {
    const refusal = (argv: string[]): string => {
      try {
        parseSimulationArguments(argv);
      } catch (error) {
        return z.prettifyError(error as z.ZodError);
      }
      return 'accepted';
    };
    expect(refusal(['--emergency-share', '1.5'])).toContain('emergencyShare');
    expect(refusal(['--doctors', 'many'])).toContain('doctors');
    expect(refusal(['--matching', 'fastest'])).toContain('matching');
  });

  it('refuses an unknown flag', () => {
    expect(() => parseSimulationArguments(['--doctor', '3'])).toThrow(/doctor/);
  });
});
