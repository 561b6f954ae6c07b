/**
 * The k-nearest search of the fleet index: best-first over H3 cells, keyed by a lower bound of the distance from
 * the query point q to any point of the cell:
 *
 *     lb(c) = haversine(q, centre(c)) − outer(c)
 *
 * where outer(c) is the cell's circumradius (largest centre-to-vertex distance; the edges are great-circle arcs, so
 * no point of the cell is farther) plus a millimetre of margin. By the triangle inequality every point p of c has
 * d(q, p) ≥ d(q, centre) − d(centre, p) ≥ lb(c).
 *
 * The search starts at the cell containing q, pops cells in increasing lb, scans their members and queues their
 * not-yet-seen neighbours; it stops when the smallest queued lb exceeds the current k-th distance (or maxKm).
 * That is exact: a point p in a cell never popped is reached from q by a geodesic that starts in the first cell
 * and, crossing from cell to cell (cells that meet at an edge or a vertex are H3 neighbours: three cells meet at
 * each vertex, pairwise adjacent), must enter some cell c′ that is not popped but is a neighbour of a popped one —
 * hence queued, or pruned because lb(c′) already exceeded the k-th distance (which only shrinks). So
 * d(q, p) ≥ d(q, c′) ≥ lb(c′) > k-th, and p cannot beat the answer. (Ties at exactly the k-th distance are popped:
 * the stop is strict, so the id tie-break sees them.)
 *
 * The bound uses each cell's own size, so it holds where H3 cells shrink (about 2× between the largest and the
 * smallest cells of a resolution), at pentagons (5 neighbours, distortion vertices) and across the antimeridian
 * and the poles, where a bound derived from ring numbers and an average edge length would not. At city density
 * a query pops the 5–10 cells whose lb is below the k-th distance.
 *
 * When the search would visit more cells than a linear scan costs (a query far from every point, or no more
 * matching points than k), it scans every point instead — exact too.
 */
import { latLngToCellCached } from './h3-cache.ts';
import { KM_PER_DEGREE, RAD_PER_DEG, haversineKmCos } from './distance.ts';
import {
  type CellTable,
  NEIGHBORS_PER_CELL,
  NO_CELL,
  RECORD_COS,
  RECORD_ENTRY,
  RECORD_LAT,
  RECORD_LNG,
  RECORD_STRIDE,
  STATUS_BITS,
  STATUS_MASK,
} from './fleet-index-cells.ts';
import { CellQueue, TopK } from './fleet-index-heaps.ts';
import type { CompiledFilter, PointColumns, QueryCost } from './fleet-index-types.ts';

/** A search gives up for a linear scan once cellsVisited × this > points + {@link SCAN_FIXED_COST}. */
const CELL_COST_IN_POINTS = 16;
const SCAN_FIXED_COST = 4096;
/** A search that would create more cells than this (empty ground far from every point) scans instead. */
const MAX_CELLS_CREATED_PER_QUERY = 256;

/** Relative slack of the meridian pre-check: far above rounding error (1e-15), far below any useful pruning. */
const PRUNE_MARGIN = 1 + 1e-9;

/** One k-nearest query, validated. */
export interface NearestQuery {
  lat: number;
  lng: number;
  k: number;
  maxKm: number;
  filter: CompiledFilter;
  /** Upper bound of the points the filter can accept (by status counts). */
  possible: number;
}

/** Runs k-nearest queries over a cell table; reuses its heaps and output arrays from query to query. */
export class NearestSearch {
  /** Slots of the last query's hits, nearest first. */
  slots = new Int32Array(16);
  /** Distances of the last query's hits, km. */
  distances = new Float64Array(16);
  private readonly queue = new CellQueue();
  private readonly top = new TopK();
  // The running query, kept in fields so that the per-cell scan takes no arguments beyond the cell.
  private lat = 0;
  private lng = 0;
  private cosLat = 1;
  private maxKm = Number.POSITIVE_INFINITY;
  private filter: CompiledFilter = { statusMask: 0, tagsAll: 0, tagsAny: 0, predicate: undefined };
  private points: PointColumns = { tags: new Uint32Array(0), ids: [] };
  private cost: QueryCost | undefined;

  constructor(
    private readonly cells: CellTable,
    private readonly resolution: number,
  ) {}

  /**
   * Runs a query over `size` points; leaves the hits in {@link slots}/{@link distances} and returns their number.
   * Adds its work to `cost`.
   */
  run(query: NearestQuery, size: number, points: PointColumns, cost: QueryCost): number {
    if (query.k === 0 || query.possible === 0) return 0;
    this.lat = query.lat;
    this.lng = query.lng;
    this.cosLat = Math.cos(query.lat * RAD_PER_DEG);
    this.maxKm = query.maxKm;
    this.filter = query.filter;
    this.points = points;
    this.cost = cost;
    const kept = Math.min(query.k, query.possible);
    this.top.reset(kept, points.ids);
    // With no more candidates than k and no radius every candidate is an answer: a scan is the cheapest search.
    const scan =
      (query.possible <= query.k && query.maxKm === Number.POSITIVE_INFINITY) || !this.searchCells(size);
    if (scan) {
      this.top.reset(kept, points.ids);
      cost.linearScans = 1;
      const cells = this.cells;
      let worst = Number.POSITIVE_INFINITY;
      for (let c = 0; c < cells.highWater; c++) {
        if ((cells.count[c] as number) > 0) worst = this.scanCell(c, worst);
      }
    }
    const n = this.top.size;
    if (this.slots.length < n) {
      this.slots = new Int32Array(n);
      this.distances = new Float64Array(n);
    }
    this.top.drainAscending(this.slots, this.distances);
    this.cost = undefined;
    return n;
  }

  /** Best-first search over cells; false (with partial results) when it grows costlier than a linear scan. */
  private searchCells(size: number): boolean {
    const cells = this.cells;
    const queue = this.queue;
    const lat = this.lat;
    const lng = this.lng;
    const cosQ = this.cosLat;
    const maxKm = this.maxKm;
    const visitLimit = (size + SCAN_FIXED_COST) / CELL_COST_IN_POINTS;
    const sizeBefore = cells.size;
    const start = cells.slotFor(latLngToCellCached(lat, lng, this.resolution));
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
      if ((cells.count[c] as number) > 0) worst = this.scanCell(c, worst);
      if (cells.linked[c] === 0) {
        cells.link(c);
        if (cells.size - sizeBefore > MAX_CELLS_CREATED_PER_QUERY) {
          ok = false;
          break;
        }
      }
      // Read after link(): creating cells may have grown the table's arrays.
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
    (this.cost as QueryCost).cellsCreated += cells.size - sizeBefore;
    return ok;
  }

  /** Offers the matching members of cell `c` to the top-k; returns the k-th distance afterwards (∞ until full). */
  private scanCell(c: number, worstBefore: number): number {
    const records = this.cells.records[c] as Float64Array;
    const end = (this.cells.count[c] as number) * RECORD_STRIDE;
    const lat = this.lat;
    const lng = this.lng;
    const cosQ = this.cosLat;
    const maxKm = this.maxKm;
    const { statusMask, tagsAll, tagsAny, predicate } = this.filter;
    const checkTags = tagsAll !== 0 || tagsAny !== 0;
    const tags = this.points.tags;
    const top = this.top;
    let worst = worstBefore;
    // Meridian bound: a point Δφ of latitude away is at least R·|Δφ| away. Points beyond the k-th (or maxKm) by it
    // skip the haversine; the relative margin keeps rounding from ever skipping a point the exact sort would keep.
    let latLimitKm = Math.min(worst, maxKm) * PRUNE_MARGIN;
    let computed = 0;
    for (let at = 0; at < end; at += RECORD_STRIDE) {
      const entry = records[at + RECORD_ENTRY] as number;
      if (((statusMask >>> (entry & STATUS_MASK)) & 1) === 0) continue;
      const slot = entry >>> STATUS_BITS;
      if (checkTags) {
        const t = tags[slot] as number;
        if ((t & tagsAll) !== tagsAll || (tagsAny !== 0 && (t & tagsAny) === 0)) continue;
      }
      if (predicate !== undefined && !predicate(this.points.ids[slot] as string, slot)) continue;
      const pointLat = records[at + RECORD_LAT] as number;
      const dLat = pointLat > lat ? pointLat - lat : lat - pointLat;
      if (dLat * KM_PER_DEGREE > latLimitKm) continue;
      computed++;
      const d = haversineKmCos(
        lat,
        lng,
        cosQ,
        pointLat,
        records[at + RECORD_LNG] as number,
        records[at + RECORD_COS] as number,
      );
      if (d > maxKm || d > worst) continue;
      top.offer(d, slot);
      if (top.full) {
        worst = top.worstDistance;
        latLimitKm = Math.min(worst, maxKm) * PRUNE_MARGIN;
      }
    }
    const cost = this.cost as QueryCost;
    cost.cellsVisited++;
    cost.candidatesChecked += end / RECORD_STRIDE;
    cost.distancesComputed += computed;
    return worst;
  }
}
