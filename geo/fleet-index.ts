/**
 * The fleet's spatial index: moving points (doctors) bucketed by H3 cell, answering k-nearest, polygon and per-cell
 * count queries exactly.
 *
 * Layout. A point is a dense slot number (an id → slot map and a free list recycle slots) with per-slot typed arrays
 * for its cell, its position in the cell, its 32-bit `tags` and its update time. Its coordinates and small `status`
 * live in its cell's record array (geo/fleet-index-cells.ts), so a query scans each cell as one contiguous run of
 * memory, walks the grid through cached neighbour slots with no h3-js call beyond locating the query point, and
 * allocates nothing but its result.
 *
 * Writes. A move first asks whether the point provably stays in its cell (a safe disk test, a few multiplications),
 * then whether it is inside its cell or a neighbour by the exact edge-plane test, and calls h3's latLngToCell only
 * when neither settles it — under 0.01 % of moves for doctors moving 10–30 m between fixes.
 *
 * Queries: geo/fleet-index-nearest.ts (the k-nearest search and why it is exact), geo/fleet-index-area.ts.
 */
import * as h3 from 'h3-js';
import { RAD_PER_DEG } from './distance.ts';
import { TotError, assertLatLng } from './errors.ts';
import { countPointsByCell, pointsWithin } from './fleet-index-area.ts';
import {
  type CellMembers,
  CellTable,
  MAX_SLOTS,
  NEIGHBORS_PER_CELL,
  NO_CELL,
  RECORD_COS,
  RECORD_ENTRY,
  RECORD_LAT,
  RECORD_LNG,
  RECORD_STRIDE,
  STATUS_RADIX,
} from './fleet-index-cells.ts';
import { NearestSearch } from './fleet-index-nearest.ts';
import { type AreaInput, prepareArea } from './fleet-index-polygon.ts';
import {
  ALL_STATUSES,
  DEFAULT_FLEET_RESOLUTION,
  type FleetIndexOptions,
  type IndexedPoint,
  MAX_POINT_STATUS,
  type NearbyHit,
  type NearbyOptions,
  type PointAttributes,
  type PointColumns,
  type PointFilter,
  type QueryCost,
  type UpsertStats,
  type WithinHit,
  compileFilter,
  emptyCost,
  invalidArgument,
  validateMask,
  validateStatus,
} from './fleet-index-types.ts';
import { type H3Cell, assertResolution } from './h3.ts';

export type { AreaInput } from './fleet-index-polygon.ts';
export {
  ALL_STATUSES,
  DEFAULT_FLEET_RESOLUTION,
  MAX_POINT_STATUS,
  statusBit,
  type FleetIndexOptions,
  type IndexedPoint,
  type NearbyHit,
  type NearbyOptions,
  type PointAttributes,
  type PointFilter,
  type QueryCost,
  type UpsertStats,
  type WithinHit,
} from './fleet-index-types.ts';

const INITIAL_CAPACITY = 1024;
/** A cell with at least this many points gets its neighbours linked when a point first leaves it (see locate). */
const LINK_ON_MOVE_MIN_MEMBERS = 4;
/** Empty cells are freed once there are more than 2 × non-empty + this many. */
const EMPTY_CELL_SLACK = 4096;

/**
 * The H3 fleet index. Not thread-safe; one owner mutates it. Times are arguments (`now`, ms), never read from a clock.
 */
export class FleetIndex {
  /** H3 resolution of the index's cells. */
  readonly resolution: number;
  private readonly cells: CellTable;
  private readonly nearest: NearestSearch;
  private readonly slotById = new Map<string, number>();
  private readonly ids: string[] = [];
  private updatedAt: Float64Array;
  private cellOf: Int32Array;
  private positionInCell: Int32Array;
  private tags: Uint32Array;
  private capacityValue: number;
  private highWater = 0;
  private readonly freeSlots: number[] = [];
  private readonly statusCounts = new Int32Array(MAX_POINT_STATUS + 1);
  private readonly last: QueryCost = emptyCost();
  private readonly total: QueryCost = emptyCost();
  private readonly writes: UpsertStats = { inserts: 0, moves: 0, h3Lookups: 0, cellChanges: 0, removes: 0 };

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
    this.nearest = new NearestSearch(this.cells, resolution);
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

  /**
   * Prepares cell `cell` for `points` more points (a bulk load that knows where its points go, e.g. a snapshot
   * restore); ignores anything that is not a valid cell of the index's resolution. Changes no query result.
   */
  reserveCell(cell: H3Cell, points: number): void {
    const c = this.hintSlot(cell);
    if (c !== NO_CELL && Number.isInteger(points) && points > 0) this.cells.reserve(c, points);
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
   * Writes every point, grouped by cell, into the arrays of `out` (each at least {@link size} long): slot, lat, lng,
   * status, and the position of its cell in the returned list of cells. A bulk export for snapshots: it reads the
   * cells' record arrays in order, so it runs at memory speed; loading the points back in this order is fast too.
   */
  exportPoints(out: {
    slots: Int32Array;
    lat: Float64Array;
    lng: Float64Array;
    status: Uint8Array;
    cell: Int32Array;
  }): H3Cell[] {
    const cells = this.cells;
    const list: H3Cell[] = [];
    let i = 0;
    for (let c = 0; c < cells.highWater; c++) {
      const count = cells.count[c] as number;
      if (count === 0) continue;
      const code = list.length;
      list.push(cells.cellIds[c] as H3Cell);
      const records = cells.records[c] as Float64Array;
      for (let at = 0; at < count * RECORD_STRIDE; at += RECORD_STRIDE, i++) {
        const entry = records[at + RECORD_ENTRY] as number;
        out.slots[i] = Math.floor(entry / STATUS_RADIX);
        out.status[i] = entry % STATUS_RADIX;
        out.lat[i] = records[at + RECORD_LAT] as number;
        out.lng[i] = records[at + RECORD_LNG] as number;
        out.cell[i] = code;
      }
    }
    return list;
  }

  /**
   * The id of each slot below {@link slotLimit} ('' for a freed slot), for a bulk copy (engine/fleet-capture.ts). The
   * index's own array, not a copy: read only for the caller, valid until the next write to the index.
   */
  slotIds(): readonly string[] {
    return this.ids;
  }

  /**
   * The tags of each slot (entries from {@link slotLimit} on are unused), for a bulk copy. The index's own array, not
   * a copy: read only for the caller, valid until the next write to the index (a write that grows it replaces it).
   */
  slotTags(): Uint32Array {
    return this.tags;
  }

  /**
   * The member storage of the index's cells (positions, slots and statuses by cell; see {@link CellMembers}), for a
   * bulk copy. The cell table's own arrays, not copies: read only for the caller, valid until the next write.
   */
  cellMembers(): CellMembers {
    return this.cells.memberStorage();
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
    const n = this.search(lat, lng, options);
    const { slots, distances } = this.nearest;
    const hits = new Array<NearbyHit>(n);
    for (let i = 0; i < n; i++) {
      const slot = slots[i] as number;
      hits[i] = { id: this.ids[slot] as string, slot, distanceKm: distances[i] as number };
    }
    return hits;
  }

  /**
   * {@link nearby} without allocating: writes the slots and distances of the hits, in order, into `slots` and
   * `distances` (each at least min(k, size) long) and returns how many there are. For owners of per-slot data
   * (engine/fleet.ts) that build their own results.
   * @throws TotError as {@link nearby}; `GEO_INVALID_ARGUMENT` when an output array is too short.
   */
  nearbyInto(
    lat: number,
    lng: number,
    options: NearbyOptions,
    slots: Int32Array,
    distances: Float64Array,
  ): number {
    const n = this.search(lat, lng, options);
    if (slots.length < n || distances.length < n) {
      throw invalidArgument(
        'slots/distances',
        `arrays of at least ${n} entries`,
        Math.min(slots.length, distances.length),
      );
    }
    slots.set(this.nearest.slots.subarray(0, n));
    distances.set(this.nearest.distances.subarray(0, n));
    return n;
  }

  /**
   * Points inside a GeoJSON Polygon/MultiPolygon (boundary included, edges straight in lng/lat as in turf) that pass
   * the filter, in no particular order. Exact: equal to testing every point with turf's booleanPointInPolygon
   * (see geo/fleet-index-area.ts for the H3 covering that narrows the candidates).
   * @throws TotError `GEO_INVALID_POLYGON` (with the offending ring/position); `GEO_INVALID_ARGUMENT` for bad masks.
   */
  within(area: AreaInput, filter: PointFilter = {}): WithinHit[] {
    const prepared = prepareArea(area);
    const compiled = compileFilter(filter);
    this.beginQuery();
    const hits = pointsWithin(this.cells, prepared, compiled, this.columns(), this.last);
    this.endQuery();
    return hits;
  }

  /**
   * Number of points per H3 cell at a resolution no finer than the index's (for the map at low zoom); only
   * non-zero counts appear. With a filter, only matching points count.
   * @throws TotError `GEO_INVALID_RESOLUTION` when res is not in [0, index resolution]; `GEO_INVALID_ARGUMENT` for
   * bad masks.
   */
  countsByCell(res: number, filter: PointFilter = {}): Map<H3Cell, number> {
    assertResolution(res);
    if (res > this.resolution) {
      throw new TotError(
        'GEO_INVALID_RESOLUTION',
        `res must be ≤ the index resolution ${this.resolution}, got ${res}`,
        {
          field: 'res',
          value: res,
        },
      );
    }
    return countPointsByCell(this.cells, res, compileFilter(filter), this.columns());
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

  /** Runs a k-nearest query; the hits are left in this.nearest. */
  private search(lat: number, lng: number, options: NearbyOptions): number {
    assertLatLng(lat, lng);
    const k = options.k;
    if (!Number.isInteger(k) || k < 0) throw invalidArgument('k', 'a non-negative integer', k);
    const maxKm = options.maxKm ?? Number.POSITIVE_INFINITY;
    if (!(maxKm >= 0)) throw invalidArgument('maxKm', 'a number ≥ 0', maxKm);
    const filter = compileFilter(options);
    this.beginQuery();
    const possible = this.countPossible(filter.statusMask);
    const n = this.nearest.run(
      { lat, lng, k, maxKm, filter, possible },
      this.size,
      this.columns(),
      this.last,
    );
    this.endQuery();
    return n;
  }

  private columns(): PointColumns {
    return { tags: this.tags, ids: this.ids };
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
    records[(this.positionInCell[slot] as number) * RECORD_STRIDE + RECORD_ENTRY] =
      slot * STATUS_RADIX + status;
  }

  /** The cell slot of a hint if it is a cell of this index's resolution, else NO_CELL. */
  private hintSlot(cellHint: H3Cell | undefined): number {
    if (cellHint === undefined) return NO_CELL;
    const known = this.cells.find(cellHint);
    if (known !== NO_CELL) return known;
    if (
      typeof cellHint !== 'string' ||
      !h3.isValidCell(cellHint) ||
      h3.getResolution(cellHint) !== this.resolution
    ) {
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
    const c =
      hint !== NO_CELL && this.cells.containsSafely(hint, lat, lng) ? hint : this.locate(lat, lng, hint);
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
    const to = cells.containsSafely(from, lat, lng) ? from : this.locate(lat, lng, from);
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

  /**
   * Cell slot of a (valid) point near cell `near` (or NO_CELL): the exact edge-plane test on `near`, then on its
   * neighbours, and h3 only when the point is in none of them (or within millimetres of an edge). A busy cell gets
   * its neighbours linked on the first crossing so that later crossings skip h3 too.
   */
  private locate(lat: number, lng: number, near: number): number {
    const cells = this.cells;
    if (near !== NO_CELL) {
      const cosLat = Math.cos(lat * RAD_PER_DEG);
      const lambda = lng * RAD_PER_DEG;
      const x = cosLat * Math.cos(lambda);
      const y = cosLat * Math.sin(lambda);
      const z = Math.sin(lat * RAD_PER_DEG);
      if (cells.containsExactly(near, x, y, z)) return near;
      if (cells.linked[near] === 0 && (cells.count[near] as number) >= LINK_ON_MOVE_MIN_MEMBERS)
        cells.link(near);
      if (cells.linked[near] === 1) {
        const base = near * NEIGHBORS_PER_CELL;
        for (let i = 0; i < NEIGHBORS_PER_CELL; i++) {
          const neighbor = cells.neighbors[base + i] as number;
          if (neighbor !== NO_CELL && cells.containsExactly(neighbor, x, y, z)) return neighbor;
        }
      }
    }
    this.writes.h3Lookups++;
    return cells.slotFor(h3.latLngToCell(lat, lng, this.resolution));
  }

  private grow(): void {
    if (this.capacityValue >= MAX_SLOTS) {
      throw invalidArgument(
        'size',
        `at most ${MAX_SLOTS} points (slot × 32 + status must fit 32 bits)`,
        this.size,
      );
    }
    const capacity = Math.min(this.capacityValue * 2, MAX_SLOTS);
    const updatedAt = new Float64Array(capacity);
    updatedAt.set(this.updatedAt);
    this.updatedAt = updatedAt;
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
    if (cells.size > 2 * cells.nonEmpty + EMPTY_CELL_SLACK) cells.pruneEmpty();
  }

  private countPossible(statusMask: number): number {
    if (statusMask === ALL_STATUSES) return this.size;
    let n = 0;
    for (let s = 0; s <= MAX_POINT_STATUS; s++)
      if ((statusMask >>> s) & 1) n += this.statusCounts[s] as number;
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

  private endQuery(): void {
    const last = this.last;
    const total = this.total;
    total.queries++;
    total.cellsVisited += last.cellsVisited;
    total.cellsCreated += last.cellsCreated;
    total.candidatesChecked += last.candidatesChecked;
    total.distancesComputed += last.distancesComputed;
    total.linearScans += last.linearScans;
    if (last.cellsCreated > 0) this.maybePrune();
  }
}
