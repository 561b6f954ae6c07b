/**
 * The fleet index's write path: inserts, moves and removals of points.
 *
 * A move first asks whether the point provably stays in its cell (a safe disk test, a few multiplications), then
 * whether it is inside its cell or a neighbour by the exact edge-plane test, and calls h3's latLngToCell only when
 * neither settles it — under 0.01 % of moves for doctors moving 10–30 m between fixes.
 */
import * as h3 from 'h3-js';
import { RAD_PER_DEG } from './distance.ts';
import { assertLatLng } from './errors.ts';
import {
  NEIGHBORS_PER_CELL,
  NO_CELL,
  RECORD_COS,
  RECORD_LAT,
  RECORD_LNG,
  RECORD_STRIDE,
} from './fleet-index-cells.ts';
import { FleetSlots } from './fleet-index-slots.ts';
import {
  type PointAttributes,
  type UpsertStats,
  invalidArgument,
  validateMask,
  validateStatus,
} from './fleet-index-types.ts';
import type { H3Cell } from './h3.ts';

/** A cell with at least this many points gets its neighbours linked when a point first leaves it (see locate). */
const LINK_ON_MOVE_MIN_MEMBERS = 4;
/** Empty cells are freed once there are more than 2 × non-empty + this many. */
const EMPTY_CELL_SLACK = 4096;

/**
 * Point writes of the fleet index, over {@link FleetSlots}. Abstract: only FleetIndex (geo/fleet-index.ts) is made;
 * its public methods here are FleetIndex's.
 */
export abstract class FleetWrites extends FleetSlots {
  protected readonly writes: UpsertStats = { inserts: 0, moves: 0, h3Lookups: 0, cellChanges: 0, removes: 0 };

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

  /** Counters of writes since construction. A copy. */
  writeStats(): UpsertStats {
    return { ...this.writes };
  }

  /** Frees empty cells once they outnumber useful ones, so queries over empty ground cannot grow memory for ever. */
  protected maybePrune(): void {
    const cells = this.cells;
    if (cells.size > 2 * cells.nonEmpty + EMPTY_CELL_SLACK) cells.pruneEmpty();
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
}
