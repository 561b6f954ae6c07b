/**
 * Equality of two fleets' state, for snapshot round trips (tests, restore checks, the backup's self-test).
 */
import { COUNTER_NAMES, type DoctorView, type Fleet } from './fleet.ts';

function same(a: unknown, b: unknown): boolean {
  return Object.is(a, b);
}

function viewDifferences(id: string, a: DoctorView, b: DoctorView): string[] {
  const differences: string[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof DoctorView>;
  for (const key of keys) {
    const left = a[key];
    const right = b[key];
    if (key === 'specializations') {
      const l = [...(left as readonly string[])].sort().join('\u0000');
      const r = [...(right as readonly string[])].sort().join('\u0000');
      if (l !== r) differences.push(`${id}.specializations: ${String(left)} ≠ ${String(right)}`);
    } else if (!same(left, right)) {
      differences.push(`${id}.${key}: ${String(left)} ≠ ${String(right)}`);
    }
  }
  return differences;
}

/**
 * Every difference between two fleets, as readable lines (empty when they are equal): configuration, the set of
 * doctors, each doctor's full view (position, fix fields, status, offline reason, profile), per-status counts and
 * per-cell counts at the index resolution. Event queues and query-cost counters are not state and are ignored.
 * Stops after `limit` differences.
 */
export function fleetDifferences(a: Fleet, b: Fleet, limit = 20): string[] {
  const differences: string[] = [];
  const add = (line: string) => {
    if (differences.length < limit) differences.push(line);
  };
  if (a.resolution !== b.resolution) add(`resolution: ${a.resolution} ≠ ${b.resolution}`);
  if (a.offlineAfterMs !== b.offlineAfterMs) add(`offlineAfterMs: ${a.offlineAfterMs} ≠ ${b.offlineAfterMs}`);
  if (a.size !== b.size) add(`size: ${a.size} ≠ ${b.size}`);
  for (const id of a.ids()) {
    if (differences.length >= limit) break;
    const left = a.get(id) as DoctorView;
    const right = b.get(id);
    if (right === undefined) add(`${id}: missing from the second fleet`);
    else for (const line of viewDifferences(id, left, right)) add(line);
  }
  for (const id of b.ids()) if (a.get(id) === undefined) add(`${id}: missing from the first fleet`);
  const statsA = a.stats();
  const statsB = b.stats();
  for (const [status, n] of Object.entries(statsA.byStatus)) {
    const m = statsB.byStatus[status as keyof typeof statsB.byStatus];
    if (n !== m) add(`count of ${status}: ${n} ≠ ${m}`);
  }
  for (const key of COUNTER_NAMES) {
    if (statsA[key] !== statsB[key]) add(`${key}: ${statsA[key]} ≠ ${statsB[key]}`);
  }
  if (a.resolution === b.resolution) {
    const cellsA = a.countsByCell(a.resolution);
    const cellsB = b.countsByCell(b.resolution);
    if (cellsA.size !== cellsB.size) add(`non-empty cells: ${cellsA.size} ≠ ${cellsB.size}`);
    for (const [cell, n] of cellsA)
      if (cellsB.get(cell) !== n) add(`cell ${cell}: ${n} ≠ ${cellsB.get(cell)}`);
  }
  return differences;
}
