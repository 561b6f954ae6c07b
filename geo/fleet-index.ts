/**
 * The fleet's spatial index: moving points (doctors) bucketed by H3 cell, answering k-nearest, polygon and
 * per-cell count queries exactly.
 *
 * Layout. A point is a dense slot number (an id → slot map and a free list recycle slots) with per-slot typed arrays
 * for its cell, its position in the cell, its 32-bit `tags` and its update time. Its coordinates and small `status`
 * live in its cell's record array (see {@link CellTable}), so a query scans each cell as one contiguous run of
 * memory, walks the grid through cached neighbour slots with no h3-js call beyond locating the query point, and
 * allocates nothing but its result.
 *
 * Nearest-neighbour search is best-first over cells, keyed by a lower bound of the distance from the query point q
 * to any point of the cell:
 *
 *     lb(c) = haversine(q, centre(c)) − outer(c)
 *
 * where outer(c) is the cell's circumradius (largest centre-to-vertex distance; edges are great-circle arcs so no
 * point of the cell is farther) plus a millimetre of margin. By the triangle inequality every point p of c has
 * d(q, p) ≥ d(q, centre) − d(centre, p) ≥ lb(c). The search starts at the cell containing q, pops cells in
 * increasing lb, scans their members and queues their not-yet-seen neighbours. It stops when the smallest queued
 * lb exceeds the current k-th distance (or maxKm). That is exact: a point p in a cell never queued is reached from
 * q by a geodesic that leaves the popped region through some cell adjacent to a popped cell (cells meeting at a
 * vertex or an edge are H3 neighbours), i.e. through a queued (or pruned, lb > k-th) cell c′, so
 * d(q, p) ≥ d(q, c′) ≥ lb(c′) > k-th. The bound follows each cell's true size, so it holds where H3 cells shrink
 * (up to ~2× between cells of one resolution) and at pentagons (5 neighbours). The "ring" a search covers is thus
 * the set of cells whose lb is below the k-th distance — typically 5–10 cells at city density.
 *
 * When a search would visit more cells than a linear scan costs (a query far from every point, or fewer matching
 * points than k), it switches to a scan of all points, which is exact too.
 */
import * as h3 from 'h3-js';
import { KM_PER_DEGREE, RAD_PER_DEG, haversineKmCos } from './distance.ts';
import { TotError, assertLatLng } from './errors.ts';
import {
  CellTable,
  MAX_SLOTS,
  NEIGHBORS_PER_CELL,
  NO_CELL,
  RECORD_COS,
  RECORD_ENTRY,
  RECORD_LAT,
  RECORD_LNG,
  RECORD_STRIDE,
  STATUS_BITS,
  STATUS_MASK,
  STATUS_RADIX,
} from './fleet-index-cells.ts';
import { CellQueue, TopK } from './fleet-index-heaps.ts';
import { type AreaInput, type PreparedArea, areaContains, prepareArea } from './fleet-index-polygon.ts';
import { type H3Cell, averageCellAreaKm2, assertResolution, polygonToCells } from './h3.ts';

export type { AreaInput } from './fleet-index-polygon.ts';

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

const INITIAL_CAPACITY = 1024;
/** A search gives up for a linear scan once cellsVisited × this > points + {@link SCAN_FIXED_COST}. */
const CELL_COST_IN_POINTS = 16;
const SCAN_FIXED_COST = 4096;
/** A search that would create more cells than this (empty ground far from every point) scans instead. */
const MAX_CELLS_CREATED_PER_QUERY = 256;
/** within() uses the H3 covering when the polygon's bounding box spans at most this many cells; else it scans. */
const WITHIN_MAX_COVER_CELLS = 20_000;

function invalidArgument(field: string, requirement: string, value: unknown): TotError {
  return new TotError('GEO_INVALID_ARGUMENT', `${field} must be ${requirement}, got ${String(value)}`, {
    field,
    value,
  });
}

function validateStatus(status: number, field = 'status'): number {
  if (!Number.isInteger(status) || status < 0 || status > MAX_POINT_STATUS) {
    throw invalidArgument(field, `an integer in [0, ${MAX_POINT_STATUS}]`, status);
  }
  return status;
}

function validateMask(mask: number, field: string): number {
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xffffffff) {
    throw invalidArgument(field, 'an integer in [0, 2^32 - 1]', mask);
  }
  return mask >>> 0;
}

function emptyCost(): QueryCost {
  return {
    queries: 0,
    cellsVisited: 0,
    cellsCreated: 0,
    candidatesChecked: 0,
    distancesComputed: 0,
    linearScans: 0,
  };
}

/**
 * The H3 fleet index. Not thread-safe; one owner mutates it. Times are arguments (`now`, ms), never read from a clock.
 */
export class FleetIndex {
  /** H3 resolution of the index's cells. */
  readonly resolution: number;
  private readonly cells: CellTable;
  private readonly slotById = new Map<string, number>();
  private ids: string[] = [];
  private updatedAt: Float64Array;
  private cellOf: Int32Array;
  private positionInCell: Int32Array;
  private tags: Uint32Array;
  private capacityValue: number;
  private highWater = 0;
  private readonly freeSlots: number[] = [];
  private readonly statusCounts = new Int32Array(MAX_POINT_STATUS + 1);
  private readonly queue = new CellQueue();
  private readonly top = new TopK();
  private sortedSlots = new Int32Array(16);
  private sortedDistances = new Float64Array(16);
  private readonly last: QueryCost = emptyCost();
  private readonly total: QueryCost = emptyCost();
  private readonly writes: UpsertStats = {
    inserts: 0,
    moves: 0,
    h3Lookups: 0,
    cellChanges: 0,
    removes: 0,
  };
  // The running query's point and filter, kept in fields so the per-cell scans take no arguments.
  private queryLat = 0;
  private queryLng = 0;
  private queryCos = 1;
  private queryMaxKm = Number.POSITIVE_INFINITY;
  private filterStatusMask = ALL_STATUSES;
  private filterTagsAll = 0;
  private filterTagsAny = 0;
  private filterPredicate: ((id: string, slot: number) => boolean) | undefined = undefined;

  /** @throws TotError `GEO_INVALID_RESOLUTION`; `GEO_INVALID_ARGUMENT` for a bad initialCapacity. */
  constructor(options: FleetIndexOptions = {}) {
    const resolution = options.resolution ?? DEFAULT_FLEET_RESOLUTION;
    assertResolution(resolution, 'resolution');
    const capacity = options.initialCapacity ?? INITIAL_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_SLOTS) {
      throw invalidArgument('initialCapacity', `an integer in [1, ${MAX_SLOTS}]`, capacity);
    }
    this.resolution = resolution;
    this.cells = new CellTable(resolution);
    this.capacityValue = capacity;
    this.updatedAt = new Float64Array(capacity);
    this.cellOf = new Int32Array(capacity).fill(NO_CELL);
    this.positionInCell = new Int32Array(capacity);
    this.tags = new Uint32Array(capacity);
  }

  /** Number of points. */
  get size(): number {
    return this.slotById.size;
  }

  /** Slots allocated; every slot returned so far is below it. Owners of parallel per-slot arrays size them by it. */
  get capacity(): number {
    return this.capacityValue;
  }

  /** One past the highest slot ever used; iterate `0 … slotLimit − 1` with {@link isLive} to visit every point. */
  get slotLimit(): number {
    return this.highWater;
  }

  /** Number of points with the given status (0…31). */
  countWithStatus(status: number): number {
    return this.statusCounts[status] ?? 0;
  }

  /**
   * Inserts a point or moves an existing one; `attributes` (when given) replace the point's status/tags, missing
   * ones default to 0 on insert and stay unchanged on update. Returns the point's slot. `cellHint` is a cell the
   * point is probably in (e.g. read from a snapshot): a new point provably inside it (or a neighbour) skips the h3
   * computation; a wrong or invalid hint is ignored, never trusted.
   * @throws TotError `GEO_INVALID_COORDINATE`; `GEO_INVALID_ARGUMENT` for an empty id or bad status/tags. On a
   * throw nothing changes.
   */
  upsert(
    id: string,
    lat: number,
    lng: number,
    attributes: PointAttributes | undefined,
    now: number,
    cellHint?: H3Cell,
  ): number {
    assertLatLng(lat, lng);
    const status = attributes?.status === undefined ? undefined : validateStatus(attributes.status);
    const tags = attributes?.tags === undefined ? undefined : validateMask(attributes.tags, 'tags');
    let slot = this.slotById.get(id);
    if (slot === undefined) {
      if (typeof id !== 'string' || id.length === 0) throw invalidArgument('id', 'a non-empty string', id);
      slot = this.insert(id, lat, lng, status ?? 0, tags ?? 0, this.hintSlot(cellHint));
    } else {
      if (status !== undefined) this.writeStatus(slot, status);
      if (tags !== undefined) this.tags[slot] = tags;
      this.move(slot, lat, lng);
    }
    this.updatedAt[slot] = now;
    return slot;
  }

  /**
   * Moves the point in `slot` (from {@link slotOf} or {@link upsert}) without an id lookup.
   * @throws TotError `GEO_INVALID_COORDINATE`; `GEO_INVALID_ARGUMENT` when the slot holds no point.
   */
  moveAt(slot: number, lat: number, lng: number, now: number): void {
    assertLatLng(lat, lng);
    this.assertLive(slot);
    this.move(slot, lat, lng);
    this.updatedAt[slot] = now;
  }

  /** Removes a point; returns whether it existed. Its slot may be reused by a later insert. */
  remove(id: string): boolean {
    const slot = this.slotById.get(id);
    if (slot === undefined) return false;
    const c = this.cellOf[slot] as number;
    this.countStatus(this.statusAt(slot), -1);
    const moved = this.cells.removeMember(c, this.positionInCell[slot] as number);
    if (moved >= 0) this.positionInCell[moved] = this.positionInCell[slot] as number;
    this.cellOf[slot] = NO_CELL;
    this.ids[slot] = '';
    this.slotById.delete(id);
    this.freeSlots.push(slot);
    this.writes.removes++;
    return true;
  }

  /** The point with this id, or undefined. */
  get(id: string): IndexedPoint | undefined {
    const slot = this.slotById.get(id);
    return slot === undefined ? undefined : this.pointAt(slot);
  }

  /** Slot of a point, or -1. */
  slotOf(id: string): number {
    return this.slotById.get(id) ?? -1;
  }

  /** Whether `slot` currently holds a point. */
  isLive(slot: number): boolean {
    return slot >= 0 && slot < this.highWater && (this.cellOf[slot] as number) !== NO_CELL;
  }

  /** Id of the point in a live slot. */
  idAt(slot: number): string {
    return this.ids[slot] as string;
  }

  /** Latitude of the point in a live slot. */
  latAt(slot: number): number {
    return this.recordValue(slot, RECORD_LAT);
  }

  /** Longitude of the point in a live slot. */
  lngAt(slot: number): number {
    return this.recordValue(slot, RECORD_LNG);
  }

  /** Status of the point in a live slot. */
  statusAt(slot: number): number {
    return this.recordValue(slot, RECORD_ENTRY) % STATUS_RADIX;
  }

  /** Tags of the point in a live slot. */
  tagsAt(slot: number): number {
    return this.tags[slot] as number;
  }

  /** Update time of the point in a live slot. */
  updatedAtOf(slot: number): number {
    return this.updatedAt[slot] as number;
  }

  /** H3 cell of the point in a live slot. */
  cellAt(slot: number): H3Cell {
    return this.cells.cellIds[this.cellOf[slot] as number] as H3Cell;
  }

  /** The point in a live slot. */
  pointAt(slot: number): IndexedPoint {
    return {
      id: this.ids[slot] as string,
      slot,
      lat: this.latAt(slot),
      lng: this.lngAt(slot),
      status: this.statusAt(slot),
      tags: this.tags[slot] as number,
      cell: this.cellAt(slot),
      updatedAt: this.updatedAt[slot] as number,
    };
  }

  /**
   * Sets the status of the point in a live slot.
   * @throws TotError `GEO_INVALID_ARGUMENT` for a dead slot or a status outside 0…31.
   */
  setStatusAt(slot: number, status: number): void {
    this.assertLive(slot);
    this.writeStatus(slot, validateStatus(status));
  }

  /**
   * Sets the tags of the point in a live slot.
   * @throws TotError `GEO_INVALID_ARGUMENT` for a dead slot or tags outside 32 bits.
   */
  setTagsAt(slot: number, tags: number): void {
    this.assertLive(slot);
    this.tags[slot] = validateMask(tags, 'tags');
  }

  /**
   * The `k` points nearest to (lat, lng) that pass the filter, within `maxKm` if given, sorted by haversine
   * distance, ties by id. Exact: equal to sorting every matching point by `haversineKm` (see geo/distance.ts).
   * @throws TotError `GEO_INVALID_COORDINATE`; `GEO_INVALID_ARGUMENT` for k not a non-negative integer, maxKm
   * negative or NaN, or masks outside 32 bits.
   */
  nearby(lat: number, lng: number, options: NearbyOptions): NearbyHit[] {
    assertLatLng(lat, lng);
    const k = options.k;
    if (!Number.isInteger(k) || k < 0) throw invalidArgument('k', 'a non-negative integer', k);
    const maxKm = options.maxKm ?? Number.POSITIVE_INFINITY;
    if (!(maxKm >= 0)) throw invalidArgument('maxKm', 'a number ≥ 0', maxKm);
    this.setFilter(options);
    this.beginQuery();
    const possible = this.countPossible(this.filterStatusMask);
    if (k === 0 || possible === 0) return this.endQuery([]);
    this.queryLat = lat;
    this.queryLng = lng;
    this.queryCos = Math.cos(lat * RAD_PER_DEG);
    this.queryMaxKm = maxKm;
    const kept = Math.min(k, possible);
    this.top.reset(kept, this.ids);
    // With no more candidates than k and no radius every candidate is an answer: a scan is the cheapest search.
    const scan = (possible <= k && maxKm === Number.POSITIVE_INFINITY) || !this.searchCells();
    if (scan) {
      this.top.reset(kept, this.ids);
      this.last.linearScans = 1;
      const cells = this.cells;
      let worst = Number.POSITIVE_INFINITY;
      for (let c = 0; c < cells.highWater; c++) {
        if ((cells.count[c] as number) > 0) worst = this.scanCellNearby(c, worst);
      }
    }
    return this.endQuery(this.collect());
  }

  /**
   * Points inside a GeoJSON Polygon/MultiPolygon (boundary included, edges straight in lng/lat as in turf) that pass
   * the filter, in no particular order. Exact: equal to testing every point with turf's booleanPointInPolygon.
   * Candidates come from an H3 covering (cells overlapping the polygon, plus the neighbours of partly covered cells
   * so points a hair outside their cell's straight-edged outline are kept); cells deep inside the polygon are taken
   * whole, the rest point by point.
   * @throws TotError `GEO_INVALID_POLYGON` (with the offending ring/position); `GEO_INVALID_ARGUMENT` for bad masks.
   */
  within(area: AreaInput, filter: PointFilter = {}): WithinHit[] {
    const prepared = prepareArea(area);
    this.setFilter(filter);
    this.beginQuery();
    const hits: WithinHit[] = [];
    const [minLng, minLat, maxLng, maxLat] = prepared.bbox;
    const bboxKm2 =
      (maxLat - minLat) *
      KM_PER_DEGREE *
      (maxLng - minLng) *
      KM_PER_DEGREE *
      Math.cos(((minLat + maxLat) / 2) * RAD_PER_DEG);
    const coverCells = bboxKm2 / averageCellAreaKm2(this.resolution);
    // Beyond 180° of longitude H3 reads the polygon as crossing the antimeridian while turf does not: scan.
    if (maxLng - minLng >= 180 || coverCells > WITHIN_MAX_COVER_CELLS || this.size === 0) {
      this.last.linearScans = 1;
      const cells = this.cells;
      for (let c = 0; c < cells.highWater; c++) {
        if ((cells.count[c] as number) > 0) this.scanCellArea(c, prepared, hits);
      }
    } else {
      this.coverArea(prepared, hits);
    }
    return this.endQuery(hits);
  }

  /**
   * Number of points per H3 cell at a resolution no finer than the index's (for the map at low zoom); only
   * non-zero counts appear. With a filter, only matching points count.
   * @throws TotError `GEO_INVALID_RESOLUTION` when res is not in [0, index resolution]; `GEO_INVALID_ARGUMENT` for
   * bad masks.
   */
  countsByCell(res: number, filter?: PointFilter): Map<H3Cell, number> {
    assertResolution(res);
    if (res > this.resolution) {
      throw new TotError('GEO_INVALID_RESOLUTION', `res must be ≤ the index resolution ${this.resolution}, got ${res}`, {
        field: 'res',
        value: res,
      });
    }
    this.setFilter(filter ?? {});
    const unfiltered =
      this.filterStatusMask === ALL_STATUSES &&
      this.filterTagsAll === 0 &&
      this.filterTagsAny === 0 &&
      this.filterPredicate === undefined;
    const counts = new Map<H3Cell, number>();
    const cells = this.cells;
    for (let c = 0; c < cells.highWater; c++) {
      const count = cells.count[c] as number;
      if (count === 0) continue;
      let n = count;
      if (!unfiltered) {
        n = 0;
        const records = cells.records[c] as Float64Array;
        for (let at = 0; at < count * RECORD_STRIDE; at += RECORD_STRIDE) {
          if (this.matchingSlot(records[at + RECORD_ENTRY] as number) >= 0) n++;
        }
        if (n === 0) continue;
      }
      const key = res === this.resolution ? (cells.cellIds[c] as H3Cell) : cells.parentOf(c, res);
      counts.set(key, (counts.get(key) ?? 0) + n);
    }
    return counts;
  }

  /** Cost of the last query (nearby/within). A copy. */
  lastQueryCost(): QueryCost {
    return { ...this.last };
  }

  /** Running totals of query costs since construction. A copy. */
  totalQueryCost(): QueryCost {
    return { ...this.total };
  }

  /** Counters of writes since construction. A copy. */
  writeStats(): UpsertStats {
    return { ...this.writes };
  }

  /** Cells in the cell table (including empty ones kept as search scaffolding) and cells holding points. */
  cellCounts(): { cells: number; nonEmpty: number } {
    return { cells: this.cells.size, nonEmpty: this.cells.nonEmpty };
  }

  private assertLive(slot: number): void {
    if (!Number.isInteger(slot) || !this.isLive(slot)) throw invalidArgument('slot', 'a live slot', slot);
  }

  private countStatus(status: number, delta: number): void {
    this.statusCounts[status] = (this.statusCounts[status] as number) + delta;
  }

  private recordValue(slot: number, field: number): number {
    const records = this.cells.records[this.cellOf[slot] as number] as Float64Array;
    return records[(this.positionInCell[slot] as number) * RECORD_STRIDE + field] as number;
  }

  private writeStatus(slot: number, status: number): void {
    this.countStatus(this.statusAt(slot), -1);
    this.countStatus(status, 1);
    const records = this.cells.records[this.cellOf[slot] as number] as Float64Array;
    records[(this.positionInCell[slot] as number) * RECORD_STRIDE + RECORD_ENTRY] = slot * STATUS_RADIX + status;
  }

  /** The cell slot of a hint if it is a cell of this index's resolution, else NO_CELL. */
  private hintSlot(cellHint: H3Cell | undefined): number {
    if (cellHint === undefined) return NO_CELL;
    const known = this.cells.find(cellHint);
    if (known !== NO_CELL) return known;
    if (typeof cellHint !== 'string' || !h3.isValidCell(cellHint) || h3.getResolution(cellHint) !== this.resolution) {
      return NO_CELL;
    }
    return this.cells.slotFor(cellHint);
  }

  private insert(id: string, lat: number, lng: number, status: number, tags: number, hint: number): number {
    let slot: number;
    if (this.freeSlots.length > 0) {
      slot = this.freeSlots.pop() as number;
    } else {
      if (this.highWater >= this.capacityValue) this.grow();
      slot = this.highWater++;
    }
    this.slotById.set(id, slot);
    this.ids[slot] = id;
    this.countStatus(status, 1);
    this.tags[slot] = tags;
    const c = hint !== NO_CELL && this.cells.containsSafely(hint, lat, lng) ? hint : this.locate(lat, lng, hint);
    this.cellOf[slot] = c;
    this.positionInCell[slot] = this.cells.addMember(c, slot, status, lat, lng, Math.cos(lat * RAD_PER_DEG));
    this.writes.inserts++;
    this.maybePrune();
    return slot;
  }

  private move(slot: number, lat: number, lng: number): void {
    const cells = this.cells;
    const from = this.cellOf[slot] as number;
    const cosLat = Math.cos(lat * RAD_PER_DEG);
    this.writes.moves++;
    let to = from;
    if (!cells.containsSafely(from, lat, lng)) to = this.locate(lat, lng, from);
    const position = this.positionInCell[slot] as number;
    if (to === from) {
      const records = cells.records[from] as Float64Array;
      const at = position * RECORD_STRIDE;
      records[at + RECORD_LAT] = lat;
      records[at + RECORD_LNG] = lng;
      records[at + RECORD_COS] = cosLat;
      return;
    }
    const status = this.statusAt(slot);
    const moved = cells.removeMember(from, position);
    if (moved >= 0) this.positionInCell[moved] = position;
    this.positionInCell[slot] = cells.addMember(to, slot, status, lat, lng, cosLat);
    this.cellOf[slot] = to;
    this.writes.cellChanges++;
    this.maybePrune();
  }

  /** Cell slot of a (valid) point; tries the safe disks of `near`'s neighbours before asking h3. */
  private locate(lat: number, lng: number, near: number): number {
    const cells = this.cells;
    if (near !== NO_CELL && cells.linked[near] === 1) {
      const base = near * NEIGHBORS_PER_CELL;
      for (let i = 0; i < NEIGHBORS_PER_CELL; i++) {
        const neighbor = cells.neighbors[base + i] as number;
        if (neighbor !== NO_CELL && cells.containsSafely(neighbor, lat, lng)) return neighbor;
      }
    }
    this.writes.h3Lookups++;
    return cells.slotFor(h3.latLngToCell(lat, lng, this.resolution));
  }

  private grow(): void {
    if (this.capacityValue >= MAX_SLOTS) {
      throw invalidArgument('size', `at most ${MAX_SLOTS} points (slot × 32 + status must fit 32 bits)`, this.size);
    }
    const capacity = Math.min(this.capacityValue * 2, MAX_SLOTS);
    const grow64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    this.updatedAt = grow64(this.updatedAt);
    const cellOf = new Int32Array(capacity).fill(NO_CELL);
    cellOf.set(this.cellOf);
    this.cellOf = cellOf;
    const positionInCell = new Int32Array(capacity);
    positionInCell.set(this.positionInCell);
    this.positionInCell = positionInCell;
    const tags = new Uint32Array(capacity);
    tags.set(this.tags);
    this.tags = tags;
    this.capacityValue = capacity;
  }

  /** Frees empty cells once they outnumber useful ones, so queries over empty ground cannot grow memory for ever. */
  private maybePrune(): void {
    const cells = this.cells;
    if (cells.size > 2 * cells.nonEmpty + SCAN_FIXED_COST) cells.pruneEmpty();
  }

  private countPossible(statusMask: number): number {
    if (statusMask === ALL_STATUSES) return this.size;
    let n = 0;
    for (let s = 0; s <= MAX_POINT_STATUS; s++) {
      if ((statusMask >>> s) & 1) n += this.statusCounts[s] as number;
    }
    return n;
  }

  private beginQuery(): void {
    const last = this.last;
    last.queries = 1;
    last.cellsVisited = 0;
    last.cellsCreated = 0;
    last.candidatesChecked = 0;
    last.distancesComputed = 0;
    last.linearScans = 0;
  }

  private endQuery<T>(result: T): T {
    const last = this.last;
    const total = this.total;
    total.queries++;
    total.cellsVisited += last.cellsVisited;
    total.cellsCreated += last.cellsCreated;
    total.candidatesChecked += last.candidatesChecked;
    total.distancesComputed += last.distancesComputed;
    total.linearScans += last.linearScans;
    if (last.cellsCreated > 0) this.maybePrune();
    return result;
  }

  /** Validates a filter and loads it into the query fields. */
  private setFilter(filter: PointFilter): void {
    this.filterStatusMask =
      filter.statusMask === undefined ? ALL_STATUSES : validateMask(filter.statusMask, 'statusMask');
    this.filterTagsAll = filter.tagsAll === undefined ? 0 : validateMask(filter.tagsAll, 'tagsAll') | 0;
    this.filterTagsAny = filter.tagsAny === undefined ? 0 : validateMask(filter.tagsAny, 'tagsAny') | 0;
    this.filterPredicate = filter.predicate;
  }

  /** The slot of a record entry if it passes the current filter, else -1. */
  private matchingSlot(entry: number): number {
    if (((this.filterStatusMask >>> (entry & STATUS_MASK)) & 1) === 0) return -1;
    const slot = entry >>> STATUS_BITS;
    const tags = this.tags[slot] as number;
    if ((tags & this.filterTagsAll) !== this.filterTagsAll) return -1;
    if (this.filterTagsAny !== 0 && (tags & this.filterTagsAny) === 0) return -1;
    if (this.filterPredicate !== undefined && !this.filterPredicate(this.ids[slot] as string, slot)) return -1;
    return slot;
  }

  /**
   * Best-first search over cells (see the file comment for why stopping at lb > k-th is exact). Returns false,
   * leaving partial results, when the search grows costlier than a scan of every point.
   */
  private searchCells(): boolean {
    const cells = this.cells;
    const queue = this.queue;
    const lat = this.queryLat;
    const lng = this.queryLng;
    const cosQ = this.queryCos;
    const maxKm = this.queryMaxKm;
    const visitLimit = (this.size + SCAN_FIXED_COST) / CELL_COST_IN_POINTS;
    const sizeBefore = cells.size;
    const start = cells.slotFor(h3.latLngToCell(lat, lng, this.resolution));
    const epoch = cells.nextEpoch();
    queue.clear();
    cells.stamp[start] = epoch;
    queue.push(0, start);
    let worst = Number.POSITIVE_INFINITY;
    let visited = 0;
    let ok = true;
    while (queue.size > 0) {
      const bound = queue.peekKey();
      if (bound > maxKm || bound > worst) break;
      const c = queue.pop();
      if (++visited > visitLimit) {
        ok = false;
        break;
      }
      if ((cells.count[c] as number) > 0) worst = this.scanCellNearby(c, worst);
      if (cells.linked[c] === 0) {
        cells.link(c);
        if (cells.size - sizeBefore > MAX_CELLS_CREATED_PER_QUERY) {
          ok = false;
          break;
        }
      }
      const neighbors = cells.neighbors;
      const stamp = cells.stamp;
      const cellLat = cells.lat;
      const cellLng = cells.lng;
      const cellCos = cells.cosLat;
      const outer = cells.outerKm;
      const base = c * NEIGHBORS_PER_CELL;
      for (let i = 0; i < NEIGHBORS_PER_CELL; i++) {
        const n = neighbors[base + i] as number;
        if (n === NO_CELL || stamp[n] === epoch) continue;
        stamp[n] = epoch;
        const lb =
          haversineKmCos(lat, lng, cosQ, cellLat[n] as number, cellLng[n] as number, cellCos[n] as number) -
          (outer[n] as number);
        // Pruning with the current k-th is safe: it only shrinks, and a cell's bound never changes.
        if (lb > maxKm || lb > worst) continue;
        queue.push(lb, n);
      }
    }
    this.last.cellsCreated += cells.size - sizeBefore;
    return ok;
  }

  /** Offers the matching members of cell `c` to the top-k; returns the k-th distance afterwards (∞ until full). */
  private scanCellNearby(c: number, worstBefore: number): number {
    const records = this.cells.records[c] as Float64Array;
    const end = (this.cells.count[c] as number) * RECORD_STRIDE;
    const lat = this.queryLat;
    const lng = this.queryLng;
    const cosQ = this.queryCos;
    const maxKm = this.queryMaxKm;
    const statusMask = this.filterStatusMask;
    const tagsAll = this.filterTagsAll;
    const tagsAny = this.filterTagsAny;
    const predicate = this.filterPredicate;
    const checkTags = tagsAll !== 0 || tagsAny !== 0;
    const tags = this.tags;
    const top = this.top;
    let worst = worstBefore;
    let computed = 0;
    for (let at = 0; at < end; at += RECORD_STRIDE) {
      const entry = records[at + RECORD_ENTRY] as number;
      if (((statusMask >>> (entry & STATUS_MASK)) & 1) === 0) continue;
      const slot = entry >>> STATUS_BITS;
      if (checkTags) {
        const t = tags[slot] as number;
        if ((t & tagsAll) !== tagsAll || (tagsAny !== 0 && (t & tagsAny) === 0)) continue;
      }
      if (predicate !== undefined && !predicate(this.ids[slot] as string, slot)) continue;
      computed++;
      const d = haversineKmCos(
        lat,
        lng,
        cosQ,
        records[at + RECORD_LAT] as number,
        records[at + RECORD_LNG] as number,
        records[at + RECORD_COS] as number,
      );
      if (d > maxKm || d > worst) continue;
      top.offer(d, slot);
      if (top.full) worst = top.worstDistance;
    }
    const last = this.last;
    last.cellsVisited++;
    last.candidatesChecked += end / RECORD_STRIDE;
    last.distancesComputed += computed;
    return worst;
  }

  /** Adds the matching members of cell `c` inside the area to `hits` (all of them if `testArea` is false). */
  private scanCellArea(c: number, prepared: PreparedArea, hits: WithinHit[], testArea = true): void {
    const records = this.cells.records[c] as Float64Array;
    const end = (this.cells.count[c] as number) * RECORD_STRIDE;
    const last = this.last;
    last.cellsVisited++;
    last.candidatesChecked += end / RECORD_STRIDE;
    for (let at = 0; at < end; at += RECORD_STRIDE) {
      const slot = this.matchingSlot(records[at + RECORD_ENTRY] as number);
      if (slot < 0) continue;
      if (testArea) {
        last.distancesComputed++;
        if (!areaContains(prepared, records[at + RECORD_LAT] as number, records[at + RECORD_LNG] as number)) continue;
      }
      hits.push({ id: this.ids[slot] as string, slot });
    }
  }

  private collect(): NearbyHit[] {
    const n = this.top.size;
    if (this.sortedSlots.length < n) {
      this.sortedSlots = new Int32Array(n);
      this.sortedDistances = new Float64Array(n);
    }
    this.top.drainAscending(this.sortedSlots, this.sortedDistances);
    const hits: NearbyHit[] = new Array<NearbyHit>(n);
    for (let i = 0; i < n; i++) {
      const slot = this.sortedSlots[i] as number;
      hits[i] = { id: this.ids[slot] as string, slot, distanceKm: this.sortedDistances[i] as number };
    }
    return hits;
  }

  /** Scans the cells that may hold points of the area (see {@link within}). */
  private coverArea(prepared: PreparedArea, hits: WithinHit[]): void {
    const cells = this.cells;
    const full = new Set<H3Cell>();
    const overlapping: H3Cell[] = [];
    for (const polygon of prepared.polygons) {
      for (const cell of polygonToCells(polygon, this.resolution, 'full')) full.add(cell);
      for (const cell of polygonToCells(polygon, this.resolution, 'center')) overlapping.push(cell);
    }
    const epoch = cells.nextEpoch();
    const visit = (c: number): void => {
      if (c === NO_CELL || cells.stamp[c] === epoch) return;
      cells.stamp[c] = epoch;
      if ((cells.count[c] as number) === 0) return;
      let whole = full.has(cells.cellIds[c] as H3Cell);
      if (whole) {
        // Taken whole only when its neighbours are inside too: the polygon's edge is then at least a cell away,
        // far beyond the millimetre by which a point may stick out of its cell's straight-edged outline.
        if (cells.linked[c] === 0) this.last.cellsCreated += cells.link(c);
        const base = c * NEIGHBORS_PER_CELL;
        if (cells.neighbors[base + NEIGHBORS_PER_CELL - 1] === NO_CELL) whole = false;
        for (let i = 0; i < NEIGHBORS_PER_CELL && whole; i++) {
          const n = cells.neighbors[base + i] as number;
          if (n !== NO_CELL && !full.has(cells.cellIds[n] as H3Cell)) whole = false;
        }
      }
      this.scanCellArea(c, prepared, hits, !whole);
    };
    for (const cell of overlapping) {
      visit(cells.find(cell));
      if (!full.has(cell)) {
        for (const neighbor of h3.gridDisk(cell, 1)) visit(cells.find(neighbor));
      }
    }
  }
}
