/**
 * Fleets for the snapshot tests: deterministic for a seed, with every kind of state a snapshot must keep.
 */
import { seededRandom } from '../../../bench/lib/random.ts';
import { Fleet } from '../../../engine/fleet.ts';

/** The benches' seeded generator (mulberry32): the same sequence for a seed. */
export { seededRandom };

/**
 * A fleet with every kind of state: placed and unplaced doctors, each status and offline reason, clinics, ratings,
 * optional fix fields present and absent, 40 specializations (so some overflow past the 32 with a bit).
 */
export function variedFleet(n = 500): Fleet {
  const r = seededRandom(1);
  const fleet = new Fleet({ offlineAfterMs: 30_000 });
  const names = Array.from({ length: 40 }, (_, i) => `spec-${i}`);
  for (let i = 0; i < n; i++) {
    const id = `doctor-${i}`;
    const specializations = names.filter(() => r() < 0.08);
    fleet.register(
      {
        id,
        specializations,
        ...(r() < 0.8 ? { clinicId: `clinic-${Math.floor(r() * 7)}` } : {}),
        ...(r() < 0.7 ? { rating: Math.round(r() * 50) / 10 } : {}),
      },
      0,
    );
    if (r() < 0.9) {
      const fix = { doctorId: id, lat: 55.55 + r() * 0.35, lng: 37.35 + r() * 0.5, ts: 1_000 + i };
      fleet.applyFix(
        r() < 0.5
          ? { ...fix, heading: r() * 360, speed: r() * 20, accuracy: r() * 30, battery: 50, seq: i }
          : fix,
        1_000 + i,
      );
    }
    const roll = r();
    if (roll < 0.1) fleet.setStatus(id, 'offline', 2_000);
    else if (roll < 0.3) fleet.setStatus(id, 'offered', 2_000);
    else if (roll < 0.4) {
      fleet.setStatus(id, 'offered', 2_000);
      fleet.setStatus(id, 'assigned', 2_000);
    }
  }
  // Doctors with a fix at 1 000–1 500 whose later fixes never came: timed out at 35 000.
  for (let i = 0; i < n; i += 7)
    fleet.applyFix({ doctorId: `doctor-${i}`, lat: 55.7, lng: 37.6, ts: 40_000 }, 40_000);
  fleet.sweepOffline(60_000);
  fleet.applyFix({ doctorId: 'doctor-0', lat: 55.71, lng: 37.61, ts: 61_000, seq: 3 }, 61_000);
  fleet.applyFix({ doctorId: 'doctor-0', lat: 55.71, lng: 37.61, ts: 10 }, 61_000);
  return fleet;
}
