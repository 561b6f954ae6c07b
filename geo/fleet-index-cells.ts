/**
 * The cell table of the fleet index: every H3 cell the index has touched, numbered by a dense cell slot, with its
 * geometry (centre, circumradius, a safe inner disk), its members and its neighbours (cell slots), all in typed
 * arrays so that a query walks cells without calling h3-js or allocating.
 *
 * Members are stored in the cell, not by reference: each cell owns one Float64Array of records
 * `[lat, lng, cos lat, slot × 32 + status]` ({@link RECORD_STRIDE} numbers, 32 bytes). A query scans a cell as one
 * contiguous run of memory; with a million points spread over the heap, chasing per-point arrays instead costs a
 * cache miss per candidate and triples query latency.
 *
 * Cells are created when a point enters them and, lazily, when a query has to look past an empty cell; an empty
 * cell is cheap (≈100 bytes) and {@link CellTable.pruneEmpty} frees them in bulk when they pile up. A cell's shape
 * (centre, radii, edge planes) is worked out once, at creation, in geo/fleet-index-cell-shape.ts.
 */
import * as h3 from 'h3-js';
import { EDGE_MARGIN, EDGE_NORMAL_STRIDE, writeCellShape } from './fleet-index-cell-shape.ts';
import { type H3Cell, cellGeometry } from './h3.ts';

/** Neighbour entries per cell: 6 for a hexagon; a pentagon leaves the last one at {@link NO_CELL}. */
export const NEIGHBORS_PER_CELL = 6;

/** "No cell" in cell-slot arrays. */
export const NO_CELL = -1;

/** Numbers per member record: lat, lng, cos lat, entry (slot × {@link STATUS_RADIX} + status). */
export const RECORD_STRIDE = 4;

/** Bits of a record entry holding the status; the slot is `entry >>> STATUS_BITS`, the status `entry & STATUS_MASK`. */
export const STATUS_BITS = 5;
export const STATUS_RADIX = 1 << STATUS_BITS;
export const STATUS_MASK = STATUS_RADIX - 1;

/** Slots stay below this so that an entry (slot × 32 + status) is a uint32. */
export const MAX_SLOTS = 2 ** (32 - STATUS_BITS);

/** Offsets inside a record. */
export const RECORD_LAT = 0;
export const RECORD_LNG = 1;
export const RECORD_COS = 2;
export const RECORD_ENTRY = 3;

const INITIAL_RECORDS = 2;
const EMPTY_RECORDS = new Float64Array(0);

const INITIAL_CELL_CAPACITY = 1024;

/**
 * The cells' member storage, as {@link CellTable.memberStorage} hands it out for a bulk copy of every point
 * (engine/fleet-capture.ts). The arrays are the table's own, not copies: read only for the caller, and valid until the
 * next write to the table (a write may replace them).
 */
export interface CellMembers {
  /** H3 index per cell slot ('' for a free slot). */
  readonly cellIds: readonly H3Cell[];
  /** Member records per cell slot, {@link RECORD_STRIDE} numbers each; only the first `count[c]` records are live. */
  readonly records: readonly Float64Array[];
  /** Number of members per cell slot; entries from `slotLimit` on are unused. */
  readonly count: Int32Array;
  /** One past the highest cell slot in use (free slots below it included), at the time of the call. */
  readonly slotLimit: number;
}

/** The fleet index's table of H3 cells. Internal to geo/: its arrays are exposed for the index's hot loops. */
export class CellTable {
  /** H3 resolution of every cell in the table. */
  readonly resolution: number;
  /** H3 index per cell slot ('' for a free slot). */
  cellIds: H3Cell[] = [];
  /** Centre latitude/longitude (degrees) and cos(latitude) per cell slot. */
  lat: Float64Array;
  lng: Float64Array;
  cosLat: Float64Array;
  /** Circumradius plus margin, km: no member of the cell is farther than this from its centre. */
  outerKm: Float64Array;
  /** Squared radius (degrees²) of the cell's safe disk in the equirectangular metric below; 0 when there is none. */
  safeDeg2: Float64Array;
  /** Squared longitude scale of that metric for the cell (an upper bound of cos φ over the disk, squared). */
  lngScale2: Float64Array;
  /**
   * Inward normals of the cell's six edge planes (unit sphere), {@link EDGE_NORMAL_STRIDE} numbers per cell; all
   * zero for a cell without the exact test (pentagons, cells with distortion vertices).
   */
  edgeNormals: Float64Array;
  /** {@link NEIGHBORS_PER_CELL} neighbour cell slots per cell, valid once `linked` is 1. */
  neighbors: Int32Array;
  /** 1 when every neighbour of the cell exists in the table and is recorded in `neighbors`. */
  linked: Uint8Array;
  /** Per-query visit marks (see {@link CellTable.nextEpoch}). */
  stamp: Uint32Array;
  /** Member records of each cell, unordered (swap-remove); only the first `count[c]` records are live. */
  records: Float64Array[] = [];
  /** Number of members per cell. */
  count: Int32Array;
  /** Number of cell slots in use, including free ones below it. */
  highWater = 0;
  private capacity: number;
  private readonly slotByCell = new Map<H3Cell, number>();
  private readonly freeSlots: number[] = [];
  private nonEmptyCount = 0;
  private epoch = 0;
  private readonly parentCache = new Map<number, (H3Cell | undefined)[]>();

  constructor(resolution: number) {
    this.resolution = resolution;
    this.capacity = INITIAL_CELL_CAPACITY;
    this.lat = new Float64Array(this.capacity);
    this.lng = new Float64Array(this.capacity);
    this.cosLat = new Float64Array(this.capacity);
    this.outerKm = new Float64Array(this.capacity);
    this.safeDeg2 = new Float64Array(this.capacity);
    this.lngScale2 = new Float64Array(this.capacity);
    this.edgeNormals = new Float64Array(this.capacity * EDGE_NORMAL_STRIDE);
    this.neighbors = new Int32Array(this.capacity * NEIGHBORS_PER_CELL).fill(NO_CELL);
    this.linked = new Uint8Array(this.capacity);
    this.stamp = new Uint32Array(this.capacity);
    this.count = new Int32Array(this.capacity);
  }

  /** Cells in the table (empty ones included). */
  get size(): number {
    return this.slotByCell.size;
  }

  /** Cells holding at least one point. */
  get nonEmpty(): number {
    return this.nonEmptyCount;
  }

  /** The member storage of every cell slot (see {@link CellMembers}): the table's own arrays, not copies. */
  memberStorage(): CellMembers {
    return { cellIds: this.cellIds, records: this.records, count: this.count, slotLimit: this.highWater };
  }

  /** Slot of a cell, or {@link NO_CELL}. */
  find(cell: H3Cell): number {
    return this.slotByCell.get(cell) ?? NO_CELL;
  }

  /** Slot of a cell, creating it (unlinked, empty) if needed. `cell` must be a valid cell of this resolution. */
  slotFor(cell: H3Cell): number {
    const existing = this.slotByCell.get(cell);
    return existing === undefined ? this.create(cell) : existing;
  }

  /**
   * Makes sure every neighbour of cell slot `c` exists and is recorded; returns how many cells it had to create.
   * Linking is mutual only for cells that already existed: a new neighbour starts unlinked and links itself when a
   * query first expands it.
   */
  link(c: number): number {
    const cellId = this.cellIds[c] as H3Cell;
    let created = 0;
    let n = 0;
    const base = c * NEIGHBORS_PER_CELL;
    for (const neighbor of h3.gridDisk(cellId, 1)) {
      if (neighbor === cellId) continue;
      let slot = this.slotByCell.get(neighbor);
      if (slot === undefined) {
        slot = this.create(neighbor);
        created++;
      }
      this.neighbors[base + n++] = slot;
    }
    for (; n < NEIGHBORS_PER_CELL; n++) this.neighbors[base + n] = NO_CELL;
    this.linked[c] = 1;
    return created;
  }

  /**
   * True only if the point certainly lies in cell slot `c` (false says nothing). The cell's inradius bound ρ comes
   * from great-circle edges (see `cellGeometry`); the test accepts points with
   *   Δφ² + k² Δλ² < θ²   (degrees), θ = 0.9 ρ / R in degrees, k = cos(max(0, |φc| − θ)),
   * where k bounds cos φ of both points because |Δφ| < θ. Since hav(x) = hav(Δφ) + cos φ1 cos φ2 hav(Δλ) and
   * x²/4 (1 − x²/12) ≤ hav(x) ≤ x²/4, an accepted point is at angle x < θ (1 + 10⁻³) < ρ / R from the centre: inside
   * the inscribed disk, hence inside the cell. A longitude jump across the antimeridian simply fails the test.
   */
  containsSafely(c: number, lat: number, lng: number): boolean {
    const dLat = lat - (this.lat[c] as number);
    const dLng = lng - (this.lng[c] as number);
    return dLat * dLat + (this.lngScale2[c] as number) * dLng * dLng < (this.safeDeg2[c] as number);
  }

  /**
   * True only if the point with unit vector (x, y, z) certainly lies in cell slot `c` (false says nothing): it is
   * inside every edge plane of the cell by more than {@link EDGE_MARGIN}. A hexagon's edges are great-circle arcs
   * (H3 draws straight lines in a gnomonic projection, whose straight lines are great circles), so the cell is the
   * intersection of the six hemispheres; the margin (≈6 mm on the ground) covers rounding in h3 and here.
   */
  containsExactly(c: number, x: number, y: number, z: number): boolean {
    const normals = this.edgeNormals;
    const base = c * EDGE_NORMAL_STRIDE;
    for (let i = base; i < base + EDGE_NORMAL_STRIDE; i += 3) {
      if (
        x * (normals[i] as number) + y * (normals[i + 1] as number) + z * (normals[i + 2] as number) <=
        EDGE_MARGIN
      ) {
        return false;
      }
    }
    return true;
  }

  /** Makes room for `extra` more members in cell `c` (bulk loads size each cell once instead of doubling). */
  reserve(c: number, extra: number): void {
    const records = this.records[c] as Float64Array;
    const needed = ((this.count[c] as number) + extra) * RECORD_STRIDE;
    if (needed <= records.length) return;
    const grown = new Float64Array(needed);
    grown.set(records);
    this.records[c] = grown;
  }

  /** Adds a member record to cell `c`; returns its position (record index) in the cell. */
  addMember(c: number, slot: number, status: number, lat: number, lng: number, cosLat: number): number {
    const position = this.count[c] as number;
    let records = this.records[c] as Float64Array;
    if ((position + 1) * RECORD_STRIDE > records.length) {
      const grown = new Float64Array(Math.max(INITIAL_RECORDS, position * 2) * RECORD_STRIDE);
      grown.set(records);
      records = grown;
      this.records[c] = grown;
    }
    const at = position * RECORD_STRIDE;
    records[at + RECORD_LAT] = lat;
    records[at + RECORD_LNG] = lng;
    records[at + RECORD_COS] = cosLat;
    records[at + RECORD_ENTRY] = slot * STATUS_RADIX + status;
    if (position === 0) this.nonEmptyCount++;
    this.count[c] = position + 1;
    return position;
  }

  /**
   * Removes the record at `position` of cell `c` by moving the last record into its place; returns the slot whose
   * record moved (the caller updates its position) or -1 when the removed record was last. A cell left empty gives
   * its storage back.
   */
  removeMember(c: number, position: number): number {
    const records = this.records[c] as Float64Array;
    const last = (this.count[c] as number) - 1;
    this.count[c] = last;
    if (last === 0) {
      this.nonEmptyCount--;
      this.records[c] = EMPTY_RECORDS;
      return -1;
    }
    if (position === last) return -1;
    const from = last * RECORD_STRIDE;
    const to = position * RECORD_STRIDE;
    records[to + RECORD_LAT] = records[from + RECORD_LAT] as number;
    records[to + RECORD_LNG] = records[from + RECORD_LNG] as number;
    records[to + RECORD_COS] = records[from + RECORD_COS] as number;
    const entry = records[from + RECORD_ENTRY] as number;
    records[to + RECORD_ENTRY] = entry;
    return Math.floor(entry / STATUS_RADIX);
  }

  /** Starts a new query: returns a stamp value no cell carries yet. */
  nextEpoch(): number {
    if (this.epoch === 0xffffffff) {
      this.stamp.fill(0);
      this.epoch = 0;
    }
    return ++this.epoch;
  }

  /** The ancestor of cell slot `c` at resolution `res` (≤ the table's), cached per cell. */
  parentOf(c: number, res: number): H3Cell {
    let cache = this.parentCache.get(res);
    if (cache === undefined) {
      cache = [];
      this.parentCache.set(res, cache);
    }
    let parent = cache[c];
    if (parent === undefined) {
      parent = h3.cellToParent(this.cellIds[c] as H3Cell, res);
      cache[c] = parent;
    }
    return parent;
  }

  /**
   * Frees every empty cell and unlinks its neighbours (they relink on their next expansion); returns how many were
   * freed. Cell slots of non-empty cells do not change, so point → cell references stay valid.
   */
  pruneEmpty(): number {
    let freed = 0;
    for (let c = 0; c < this.highWater; c++) {
      const cellId = this.cellIds[c] as H3Cell;
      if (cellId === '' || (this.count[c] as number) > 0) continue;
      const base = c * NEIGHBORS_PER_CELL;
      for (let i = 0; i < NEIGHBORS_PER_CELL; i++) {
        const neighbor = this.neighbors[base + i] as number;
        if (neighbor !== NO_CELL) this.linked[neighbor] = 0;
        this.neighbors[base + i] = NO_CELL;
      }
      this.slotByCell.delete(cellId);
      this.cellIds[c] = '';
      this.linked[c] = 0;
      this.safeDeg2[c] = 0;
      for (const cache of this.parentCache.values()) cache[c] = undefined;
      this.freeSlots.push(c);
      freed++;
    }
    // A cell whose neighbour was freed may still list the freed slot (links are not always mutual): unlink any cell
    // that points at a free slot.
    for (let c = 0; c < this.highWater; c++) {
      if (this.linked[c] === 0) continue;
      const base = c * NEIGHBORS_PER_CELL;
      for (let i = 0; i < NEIGHBORS_PER_CELL; i++) {
        const neighbor = this.neighbors[base + i] as number;
        if (neighbor !== NO_CELL && this.cellIds[neighbor] === '') {
          this.linked[c] = 0;
          break;
        }
      }
    }
    return freed;
  }

  private create(cell: H3Cell): number {
    const geometry = cellGeometry(cell);
    const c = this.freeSlots.length > 0 ? (this.freeSlots.pop() as number) : this.highWater++;
    if (c >= this.capacity) this.grow();
    this.cellIds[c] = cell;
    this.records[c] = EMPTY_RECORDS;
    this.count[c] = 0;
    writeCellShape(this, c, cell, geometry);
    this.linked[c] = 0;
    this.stamp[c] = 0;
    const base = c * NEIGHBORS_PER_CELL;
    this.neighbors.fill(NO_CELL, base, base + NEIGHBORS_PER_CELL);
    this.slotByCell.set(cell, c);
    return c;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    this.lat = growFloat64(this.lat, capacity);
    this.lng = growFloat64(this.lng, capacity);
    this.cosLat = growFloat64(this.cosLat, capacity);
    this.outerKm = growFloat64(this.outerKm, capacity);
    this.safeDeg2 = growFloat64(this.safeDeg2, capacity);
    this.lngScale2 = growFloat64(this.lngScale2, capacity);
    const edgeNormals = new Float64Array(capacity * EDGE_NORMAL_STRIDE);
    edgeNormals.set(this.edgeNormals);
    this.edgeNormals = edgeNormals;
    const neighbors = new Int32Array(capacity * NEIGHBORS_PER_CELL).fill(NO_CELL);
    neighbors.set(this.neighbors);
    this.neighbors = neighbors;
    const linked = new Uint8Array(capacity);
    linked.set(this.linked);
    this.linked = linked;
    const stamp = new Uint32Array(capacity);
    stamp.set(this.stamp);
    this.stamp = stamp;
    const count = new Int32Array(capacity);
    count.set(this.count);
    this.count = count;
    this.capacity = capacity;
  }
}

function growFloat64(array: Float64Array, capacity: number): Float64Array {
  const grown = new Float64Array(capacity);
  grown.set(array);
  return grown;
}
