/**
 * The fleet index's point storage: slots, the id → slot map and the per-slot reads and attribute writes.
 *
 * A point is a dense slot number (an id → slot map and a free list recycle slots) with per-slot typed arrays for its
 * cell, its position in the cell, its 32-bit `tags` and its update time. Its coordinates and small `status` live in
 * its cell's record array (geo/fleet-index-cells.ts), so a query scans each cell as one contiguous run of memory.
 *
 * {@link FleetSlots} is the base of FleetIndex (geo/fleet-index.ts): the write path (geo/fleet-index-writes.ts) and the
 * queries are its subclasses, so that every part reads the same fields of one object, with no hop through a helper
 * object on the hot paths.
 */
import {
  type CellMembers,
  CellTable,
  MAX_SLOTS,
  NO_CELL,
  RECORD_ENTRY,
  RECORD_LAT,
  RECORD_LNG,
  RECORD_STRIDE,
  STATUS_RADIX,
} from './fleet-index-cells.ts';
import {
  DEFAULT_FLEET_RESOLUTION,
  type FleetIndexOptions,
  type IndexedPoint,
  MAX_POINT_STATUS,
  invalidArgument,
  validateMask,
  validateStatus,
} from './fleet-index-types.ts';
import { type H3Cell, assertResolution } from './h3.ts';

const INITIAL_CAPACITY = 1024;

/**
 * Slot storage and per-slot reads of the fleet index. Abstract: only FleetIndex (geo/fleet-index.ts) is made; its
 * public methods here are FleetIndex's.
 */
export abstract class FleetSlots {
  /** H3 resolution of the index's cells. */
  readonly resolution: number;
  protected readonly cells: CellTable;
  protected readonly slotById = new Map<string, number>();
  protected readonly ids: string[] = [];
  protected updatedAt: Float64Array;
  protected cellOf: Int32Array;
  protected positionInCell: Int32Array;
  protected tags: Uint32Array;
  protected capacityValue: number;
  protected highWater = 0;
  protected readonly freeSlots: number[] = [];
  protected readonly statusCounts = new Int32Array(MAX_POINT_STATUS + 1);

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

  /** Cells in the cell table (including empty ones kept as search scaffolding) and cells holding points. */
  cellCounts(): { cells: number; nonEmpty: number } {
    return { cells: this.cells.size, nonEmpty: this.cells.nonEmpty };
  }

  protected assertLive(slot: number): void {
    if (!Number.isInteger(slot) || !this.isLive(slot)) throw invalidArgument('slot', 'a live slot', slot);
  }

  protected countStatus(status: number, delta: number): void {
    this.statusCounts[status] = (this.statusCounts[status] as number) + delta;
  }

  protected writeStatus(slot: number, status: number): void {
    this.countStatus(this.statusAt(slot), -1);
    this.countStatus(status, 1);
    const records = this.cells.records[this.cellOf[slot] as number] as Float64Array;
    records[(this.positionInCell[slot] as number) * RECORD_STRIDE + RECORD_ENTRY] =
      slot * STATUS_RADIX + status;
  }

  /** Doubles the per-slot arrays. @throws TotError `GEO_INVALID_ARGUMENT` when the slots are at their limit. */
  protected grow(): void {
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

  private recordValue(slot: number, field: number): number {
    const records = this.cells.records[this.cellOf[slot] as number] as Float64Array;
    return records[(this.positionInCell[slot] as number) * RECORD_STRIDE + field] as number;
  }
}
