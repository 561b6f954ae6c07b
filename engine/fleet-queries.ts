/**
 * The fleet's reads: one doctor by id, the ids, counts by status, the spatial queries (k nearest, inside an area,
 * counts per cell) and the stats; engine/fleet.ts has their promises and throws. The spatial queries turn a doctor
 * filter into the index's filter (status bits, specialization tag bits, an overflow-name predicate) and answer with
 * views (engine/fleet-views.ts), or for the matcher's loops with brief hits (id, position, rating).
 */
import { ALL_STATUSES, type AreaInput, type NearbyOptions, type PointFilter } from '../geo/fleet-index.ts';
import type { H3Cell } from '../geo/h3.ts';
import { invalidArgument, statusCode, statusName } from './fleet-checks.ts';
import type { FleetState } from './fleet-state.ts';
import {
  type BriefHit,
  DOCTOR_STATUSES,
  type DoctorFilter,
  type DoctorStatus,
  type DoctorView,
  type FleetHit,
  type FleetNearbyOptions,
  type FleetStats,
} from './fleet-types.ts';
import { viewAt, viewUnplaced } from './fleet-views.ts';

/** `Fleet.get`. */
export function doctorView(state: FleetState, id: string): DoctorView | undefined {
  const slot = state.index.slotOf(id);
  if (slot >= 0) return viewAt(state, slot);
  const doctor = state.unplaced.get(id);
  return doctor === undefined ? undefined : viewUnplaced(state, id, doctor);
}

/** `Fleet.positionOf`. */
export function positionOf(state: FleetState, id: string): { lat: number; lng: number } | undefined {
  const slot = state.index.slotOf(id);
  return slot < 0 ? undefined : { lat: state.index.latAt(slot), lng: state.index.lngAt(slot) };
}

/** `Fleet.statusOf`. */
export function statusOf(state: FleetState, id: string): DoctorStatus | undefined {
  const slot = state.index.slotOf(id);
  if (slot >= 0) return statusName(state.index.statusAt(slot));
  const doctor = state.unplaced.get(id);
  return doctor === undefined ? undefined : statusName(doctor.status);
}

/** `Fleet.ids`. */
export function doctorIds(state: FleetState): string[] {
  const index = state.index;
  const ids: string[] = [];
  for (let slot = 0; slot < index.slotLimit; slot++) if (index.isLive(slot)) ids.push(index.idAt(slot));
  for (const id of state.unplaced.byId.keys()) ids.push(id);
  return ids;
}

/** `Fleet.countByStatus`. */
export function countByStatus(state: FleetState, status: DoctorStatus): number {
  const code = statusCode(status);
  return state.index.countWithStatus(code) + state.unplaced.countWithStatus(code);
}

/** `Fleet.nearby`. */
export function nearby(state: FleetState, lat: number, lng: number, options: FleetNearbyOptions): FleetHit[] {
  const n = nearestInto(state, lat, lng, options);
  const hits = new Array<FleetHit>(n);
  for (let i = 0; i < n; i++) {
    hits[i] = {
      doctor: viewAt(state, state.scratchSlots[i] as number),
      distanceKm: state.scratchDistances[i] as number,
    };
  }
  return hits;
}

/**
 * `Fleet.nearbyBrief`. Written out rather than through a callback shared with {@link nearby}: the matcher asks for
 * some 10 000 of these a second, and the callback's closure and boxed arguments were half of what each one
 * allocated.
 */
export function nearbyBrief(
  state: FleetState,
  lat: number,
  lng: number,
  options: FleetNearbyOptions,
): BriefHit[] {
  const n = nearestInto(state, lat, lng, options);
  const { index, doctors, scratchSlots, scratchDistances } = state;
  const hits = new Array<BriefHit>(n);
  for (let i = 0; i < n; i++) {
    const slot = scratchSlots[i] as number;
    const rating = doctors.rating(slot);
    hits[i] = {
      id: index.idAt(slot),
      lat: index.latAt(slot),
      lng: index.lngAt(slot),
      rating: Number.isNaN(rating) ? undefined : rating,
      distanceKm: scratchDistances[i] as number,
    };
  }
  return hits;
}

/**
 * The answer of `Fleet.nearbyInto`, in columns the caller keeps and each query overwrites: no object per doctor, for
 * loops that ask tens of thousands of queries a second (the matcher's coverage gaps).
 */
export class NearbyColumns {
  /** Hits of the last query, nearest first; the columns hold at least this many. */
  count = 0;
  ids: string[] = [];
  lat = new Float64Array(8);
  lng = new Float64Array(8);
  /** Haversine distance, km. */
  distanceKm = new Float64Array(8);
}

/** `Fleet.nearbyInto`. */
export function nearbyInto(
  state: FleetState,
  lat: number,
  lng: number,
  options: FleetNearbyOptions,
  into: NearbyColumns,
): number {
  const n = nearestInto(state, lat, lng, options);
  if (into.lat.length < n) {
    into.lat = new Float64Array(n);
    into.lng = new Float64Array(n);
    into.distanceKm = new Float64Array(n);
  }
  const { index, scratchSlots, scratchDistances } = state;
  for (let i = 0; i < n; i++) {
    const slot = scratchSlots[i] as number;
    into.ids[i] = index.idAt(slot);
    into.lat[i] = index.latAt(slot);
    into.lng[i] = index.lngAt(slot);
    into.distanceKm[i] = scratchDistances[i] as number;
  }
  into.count = n;
  return n;
}

/**
 * The index's k nearest matching `options`, left in the fleet's scratch arrays (`scratchSlots`, `scratchDistances`,
 * nearest first); returns how many. The caller reads them before the next query.
 */
function nearestInto(state: FleetState, lat: number, lng: number, options: FleetNearbyOptions): number {
  const query = pointFilter(state, options) as NearbyOptions | undefined;
  if (query === undefined) return 0;
  query.k = options.k;
  if (options.maxKm !== undefined) query.maxKm = options.maxKm;
  const room = Number.isInteger(options.k) && options.k > 0 ? Math.min(options.k, state.index.size) : 0;
  if (state.scratchSlots.length < room) {
    state.scratchSlots = new Int32Array(room);
    state.scratchDistances = new Float64Array(room);
  }
  return state.index.nearbyInto(lat, lng, query, state.scratchSlots, state.scratchDistances);
}

/** `Fleet.within`. */
export function within(state: FleetState, area: AreaInput, filter: DoctorFilter): DoctorView[] {
  const filterOfPoints = pointFilter(state, filter);
  if (filterOfPoints === undefined) return [];
  const hits = state.index.within(area, filterOfPoints);
  hits.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return hits.map((hit) => viewAt(state, hit.slot));
}

/** `Fleet.countsByCell`. */
export function countsByCell(state: FleetState, res: number, filter: DoctorFilter): Map<H3Cell, number> {
  const filterOfPoints = pointFilter(state, filter);
  if (filterOfPoints === undefined) return new Map();
  return state.index.countsByCell(res, filterOfPoints);
}

/** `Fleet.stats`. */
export function fleetStats(state: FleetState): FleetStats {
  const index = state.index;
  const byStatus = {} as Record<DoctorStatus, number>;
  for (const status of DOCTOR_STATUSES) byStatus[status] = countByStatus(state, status);
  const cells = index.cellCounts();
  return {
    doctors: index.size + state.unplaced.size,
    placed: index.size,
    byStatus,
    ...state.counters,
    cells: cells.cells,
    nonEmptyCells: cells.nonEmpty,
    writes: index.writeStats(),
    queries: index.totalQueryCost(),
    lastQuery: index.lastQueryCost(),
  };
}

/** The index filter for a doctor filter, or undefined when no doctor can match (an unknown specialization). */
function pointFilter(state: FleetState, filter: DoctorFilter): PointFilter | undefined {
  let statusMask = ALL_STATUSES;
  if (typeof filter.status === 'string') {
    statusMask = (1 << statusCode(filter.status)) >>> 0;
  } else if (filter.status !== undefined) {
    if (!Array.isArray(filter.status))
      throw invalidArgument('status', 'a status or an array of statuses', filter.status);
    statusMask = 0;
    for (const status of filter.status) statusMask = (statusMask | (1 << statusCode(status))) >>> 0;
  }
  if (filter.specialization === undefined) return { statusMask };
  const names = typeof filter.specialization === 'string' ? [filter.specialization] : filter.specialization;
  if (!Array.isArray(names))
    throw invalidArgument('specialization', 'a name or an array of names', filter.specialization);
  const specializations = state.specializations.filterFor(names);
  if (specializations === undefined) return undefined;
  const filterOfPoints: PointFilter = { statusMask, tagsAll: specializations.tagsAll };
  if (specializations.overflowNames.length > 0) {
    filterOfPoints.predicate = state.specializations.overflowPredicate(specializations.overflowNames);
  }
  return filterOfPoints;
}
