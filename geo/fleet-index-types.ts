/**
 * The fleet index's public vocabulary (options, attributes, filters, results, cost counters) and the argument
 * checks and filter helpers its parts share.
 */
import { TotError } from './errors.ts';
import { STATUS_BITS, STATUS_MASK } from './fleet-index-cells.ts';
import type { H3Cell } from './h3.ts';

/** Default H3 resolution: ≈0.105 km² cells, ≈200 m edges. */
export const DEFAULT_FLEET_RESOLUTION = 9;

/** Largest status value (statuses are 0…31 so that a 32-bit mask can select any set of them). */
export const MAX_POINT_STATUS = 31;

/** A `statusMask` selecting every status. */
export const ALL_STATUSES = 0xffffffff;

/** Options of {@link FleetIndex}. */
export interface FleetIndexOptions {
  /** H3 resolution of the cells, 0…15 (default {@link DEFAULT_FLEET_RESOLUTION}). */
  resolution?: number;
  /** Slots allocated up front; the arrays double when full (default 1024). */
  initialCapacity?: number;
}

/** The attributes a point carries for filtering. */
export interface PointAttributes {
  /** Small integer 0…31, e.g. a doctor status code (default 0). */
  status?: number;
  /** 32-bit mask, e.g. specializations (default 0). */
  tags?: number;
}

/** A filter evaluated on the index's typed arrays; all given conditions must hold. */
export interface PointFilter {
  /** Bit s set ⇔ status s is accepted (see {@link statusBit}); default {@link ALL_STATUSES}. */
  statusMask?: number;
  /** Every bit of this mask must be set in the point's tags. */
  tagsAll?: number;
  /** At least one bit of this mask must be set in the point's tags (0: no condition). */
  tagsAny?: number;
  /** Extra condition for rare cases, called after the mask tests pass. Must not modify the index. */
  predicate?: (id: string, slot: number) => boolean;
}

/** Options of {@link FleetIndex.nearby}. */
export interface NearbyOptions extends PointFilter {
  /** How many points at most (integer ≥ 0). */
  k: number;
  /** Only points within this great-circle distance, km (inclusive); default unlimited. */
  maxKm?: number;
}

/** One result of {@link FleetIndex.nearby}. */
export interface NearbyHit {
  id: string;
  /** The point's slot, valid until the point is removed. */
  slot: number;
  /** Haversine distance from the query point, km (see geo/distance.ts). */
  distanceKm: number;
}

/** One result of {@link FleetIndex.within}. */
export interface WithinHit {
  id: string;
  slot: number;
}

/** A point as stored. */
export interface IndexedPoint {
  id: string;
  slot: number;
  lat: number;
  lng: number;
  status: number;
  tags: number;
  /** H3 cell at the index's resolution. */
  cell: H3Cell;
  /** The `now` of the last upsert, ms. */
  updatedAt: number;
}

/** Work done by queries: what the last one cost, or the running totals. */
export interface QueryCost {
  /** Queries counted (1 for the last query). */
  queries: number;
  /** Cells whose members were scanned. */
  cellsVisited: number;
  /** Cells created to look past empty ground (h3 calls, once per cell). */
  cellsCreated: number;
  /** Points looked at (filter evaluated). */
  candidatesChecked: number;
  /** Points whose exact distance (or polygon test) was computed. */
  distancesComputed: number;
  /** Queries answered by a scan of every point. */
  linearScans: number;
}

/** Counters of point writes. */
export interface UpsertStats {
  inserts: number;
  moves: number;
  /** latLngToCell calls made by writes; the rest were settled by the cells' safe disks (same cell or a neighbour). */
  h3Lookups: number;
  /** Moves that changed cell. */
  cellChanges: number;
  removes: number;
}

/** The mask bit of a status, for {@link PointFilter.statusMask}. */
export function statusBit(status: number): number {
  return (1 << status) >>> 0;
}

/** A `GEO_INVALID_ARGUMENT` error naming the field and the value. */
export function invalidArgument(field: string, requirement: string, value: unknown): TotError {
  return new TotError('GEO_INVALID_ARGUMENT', `${field} must be ${requirement}, got ${String(value)}`, {
    field,
    value,
  });
}

/** A status in 0…31. @throws TotError `GEO_INVALID_ARGUMENT`. */
export function validateStatus(status: number, field = 'status'): number {
  if (!Number.isInteger(status) || status < 0 || status > MAX_POINT_STATUS) {
    throw invalidArgument(field, `an integer in [0, ${MAX_POINT_STATUS}]`, status);
  }
  return status;
}

/** A 32-bit mask, as an unsigned number. @throws TotError `GEO_INVALID_ARGUMENT`. */
export function validateMask(mask: number, field: string): number {
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xffffffff) {
    throw invalidArgument(field, 'an integer in [0, 2^32 - 1]', mask);
  }
  return mask >>> 0;
}

/** A cost record with every counter at zero. */
export function emptyCost(): QueryCost {
  return {
    queries: 0,
    cellsVisited: 0,
    cellsCreated: 0,
    candidatesChecked: 0,
    distancesComputed: 0,
    linearScans: 0,
  };
}

/** A validated filter, ready for the scans: masks as int32 for `&` tests. */
export interface CompiledFilter {
  statusMask: number;
  tagsAll: number;
  tagsAny: number;
  predicate: ((id: string, slot: number) => boolean) | undefined;
}

/** Validates a filter. @throws TotError `GEO_INVALID_ARGUMENT` for masks outside 32 bits. */
export function compileFilter(filter: PointFilter): CompiledFilter {
  return {
    statusMask:
      filter.statusMask === undefined ? ALL_STATUSES : validateMask(filter.statusMask, 'statusMask'),
    tagsAll: filter.tagsAll === undefined ? 0 : validateMask(filter.tagsAll, 'tagsAll') | 0,
    tagsAny: filter.tagsAny === undefined ? 0 : validateMask(filter.tagsAny, 'tagsAny') | 0,
    predicate: filter.predicate,
  };
}

/** Whether the compiled filter accepts every point. */
export function acceptsAll(filter: CompiledFilter): boolean {
  return (
    filter.statusMask === ALL_STATUSES && filter.tagsAll === 0 && filter.tagsAny === 0 && !filter.predicate
  );
}

/** What the queries read of the points besides cell records: per-slot tags and ids. */
export interface PointColumns {
  tags: Uint32Array;
  ids: readonly string[];
}

/** The slot of a cell-record entry if the point passes the filter, else -1. */
export function matchingSlot(entry: number, filter: CompiledFilter, points: PointColumns): number {
  if (((filter.statusMask >>> (entry & STATUS_MASK)) & 1) === 0) return -1;
  const slot = entry >>> STATUS_BITS;
  const tags = points.tags[slot] as number;
  if ((tags & filter.tagsAll) !== filter.tagsAll) return -1;
  if (filter.tagsAny !== 0 && (tags & filter.tagsAny) === 0) return -1;
  if (filter.predicate !== undefined && !filter.predicate(points.ids[slot] as string, slot)) return -1;
  return slot;
}
