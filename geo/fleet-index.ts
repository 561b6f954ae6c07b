/**
 * The fleet's spatial index: moving points (doctors) bucketed by H3 cell, answering k-nearest, polygon and per-cell
 * count queries exactly.
 *
 * Parts, one concern each: slot storage, id lookup and per-slot reads (geo/fleet-index-slots.ts); inserts, moves and
 * removals (geo/fleet-index-writes.ts); the cell table with each cell's members and neighbours
 * (geo/fleet-index-cells.ts, shapes in geo/fleet-index-cell-shape.ts); the queries, here, over the k-nearest search
 * (geo/fleet-index-nearest.ts, with its heaps in geo/fleet-index-heaps.ts) and the area queries
 * (geo/fleet-index-area.ts, polygons in geo/fleet-index-polygon.ts). The public vocabulary is in
 * geo/fleet-index-types.ts and re-exported here.
 *
 * A point's coordinates and status live in its cell's record array, so a query scans each cell as one contiguous run
 * of memory, walks the grid through cached neighbour slots with no h3-js call beyond locating the query point, and
 * allocates nothing but its result.
 */
import { TotError, assertLatLng } from './errors.ts';
import { countPointsByCell, pointsWithin } from './fleet-index-area.ts';
import { NearestSearch } from './fleet-index-nearest.ts';
import { type AreaInput, prepareArea } from './fleet-index-polygon.ts';
import {
  ALL_STATUSES,
  type FleetIndexOptions,
  MAX_POINT_STATUS,
  type NearbyHit,
  type NearbyOptions,
  type PointColumns,
  type PointFilter,
  type QueryCost,
  type WithinHit,
  compileFilter,
  emptyCost,
  invalidArgument,
} from './fleet-index-types.ts';
import { FleetWrites } from './fleet-index-writes.ts';
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

/**
 * The H3 fleet index. Not thread-safe; one owner mutates it. Times are arguments (`now`, ms), never read from a clock.
 * Its storage and reads come from FleetSlots (geo/fleet-index-slots.ts), its writes from FleetWrites
 * (geo/fleet-index-writes.ts); the queries are its own.
 */
export class FleetIndex extends FleetWrites {
  private readonly nearest: NearestSearch;
  private readonly last: QueryCost = emptyCost();
  private readonly total: QueryCost = emptyCost();

  /** @throws TotError `GEO_INVALID_RESOLUTION`; `GEO_INVALID_ARGUMENT` for a bad initialCapacity. */
  constructor(options: FleetIndexOptions = {}) {
    super(options);
    this.nearest = new NearestSearch(this.cells, this.resolution);
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
    // A loop, not set(subarray()): two views per query are garbage in the matcher's hot path.
    const found = this.nearest;
    for (let i = 0; i < n; i++) {
      slots[i] = found.slots[i] as number;
      distances[i] = found.distances[i] as number;
    }
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
