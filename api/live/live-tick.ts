/**
 * What one tick of the live channel works from: the fleet's changes routed to the coarse H3 cells they touch (the
 * channel's internal topics), the latest counts and traffic per cell, the bookings changed and the alerts raised.
 *
 * Routing a change needs the cell the doctor was in at the previous tick as well as the one it is in now, so that a
 * view the doctor leaves hears of it. {@link ChangeRouter} remembers that cell for the doctors inside the viewports
 * of views showing single doctors; with no such view, it forgets everything and costs nothing.
 */
import { latLngToCell } from 'h3-js';
import type { Booking } from '../../dispatch/booking-types.ts';
import type { DoctorChange, FleetChanges } from '../../engine/fleet.ts';
import type { H3Cell } from '../../geo/h3.ts';
import { doctorItemOf } from './live-frames.ts';
import type { LiveFleet, LiveTrafficField } from './live-sources.ts';
import type { LiveCount, LiveTraffic } from './protocol.ts';
import { containsPoint, type Viewport } from './viewport.ts';

/** A tick's input, shared by every view. */
export interface TickInput {
  /** Engine time of the tick. */
  at: number;
  /** Ordinal of the tick, from 1. */
  tick: number;
  changes: readonly DoctorChange[];
  /** Indices into `changes` by the topic cells they touch (the doctor's cell now and at the previous tick). */
  changesByCell: ReadonlyMap<H3Cell, readonly number[]>;
  /** Ids forgotten by the fleet, by the topic cell they were last in. */
  removedByCell: ReadonlyMap<H3Cell, readonly string[]>;
  /** The serialised item of change `i`, built once per tick. */
  itemOf(i: number): string;
  /** Bookings changed since the previous tick, the latest state of each. */
  bookings: readonly Booking[];
  /** The alerts raised since the previous tick, serialised (`[]` when none). */
  alerts: string;
  /** Set on the ticks that refreshed counts: counts per cell at each resolution views use. */
  counts?: ReadonlyMap<number, ReadonlyMap<H3Cell, LiveCount>>;
  /** Set on the ticks that refreshed traffic. */
  traffic?: TrafficTable;
}

/**
 * Routes fleet changes to topic cells. Only changes that concern a view showing single doctors are routed: a doctor
 * now inside one of those views' viewports, or one that was inside one at the previous tick (it may be leaving).
 * Every other change costs a few comparisons, so the router's cost follows the doctors on screen, not the fleet.
 */
export class ChangeRouter {
  /** Doctors inside a watched viewport at the previous tick, with their topic cell then. */
  private readonly watched = new Map<string, H3Cell>();
  private viewports: readonly Viewport[] = [];

  constructor(readonly resolution: number) {}

  /** Sets the viewports of the views showing single doctors; with none, everything is forgotten. */
  watch(viewports: readonly Viewport[]): void {
    this.viewports = viewports;
    if (viewports.length === 0) this.watched.clear();
  }

  /**
   * Records where a doctor of a new view is, unless already known: a known cell is the doctor's cell at the previous
   * tick, which views created earlier rely on to hear that the doctor left them.
   */
  seed(id: string, lat: number, lng: number): void {
    if (this.viewports.length > 0 && !this.watched.has(id)) {
      this.watched.set(id, latLngToCell(lat, lng, this.resolution));
    }
  }

  /** Routes one tick's changes; empty maps while no viewport is watched. */
  route(changes: FleetChanges): {
    changesByCell: Map<H3Cell, number[]>;
    removedByCell: Map<H3Cell, string[]>;
  } {
    const changesByCell = new Map<H3Cell, number[]>();
    const removedByCell = new Map<H3Cell, string[]>();
    const viewports = this.viewports;
    if (viewports.length === 0) return { changesByCell, removedByCell };
    for (const id of changes.removed) {
      const previous = this.watched.get(id);
      if (previous === undefined) continue;
      this.watched.delete(id);
      push(removedByCell, previous, id);
    }
    const list = changes.changed;
    for (let i = 0; i < list.length; i++) {
      const change = list[i] as DoctorChange;
      const inside = insideAny(viewports, change.lat, change.lng);
      const previous = this.watched.get(change.id);
      if (!inside && previous === undefined) continue;
      const cell = latLngToCell(change.lat, change.lng, this.resolution);
      if (!inside) this.watched.delete(change.id);
      else if (previous !== cell) this.watched.set(change.id, cell);
      push(changesByCell, cell, i);
      if (previous !== undefined && previous !== cell) push(changesByCell, previous, i);
    }
    return { changesByCell, removedByCell };
  }

  /** Forgets every doctor (the fleet was replaced). */
  clear(): void {
    this.watched.clear();
  }
}

function insideAny(viewports: readonly Viewport[], lat: number, lng: number): boolean {
  for (const viewport of viewports) if (containsPoint(viewport, lat, lng)) return true;
  return false;
}

function push<Value>(map: Map<H3Cell, Value[]>, cell: H3Cell, value: Value): void {
  const list = map.get(cell);
  if (list === undefined) map.set(cell, [value]);
  else list.push(value);
}

/** Serialised items of a tick's changes, built on first use. */
export function itemsOf(changes: readonly DoctorChange[]): (i: number) => string {
  const items: (string | undefined)[] = [];
  return (i) => (items[i] ??= JSON.stringify(doctorItemOf(changes[i] as DoctorChange)));
}

/** Counts of doctors per cell at one resolution: every doctor, and the available ones. */
export function countsOf(fleet: LiveFleet, resolution: number): Map<H3Cell, LiveCount> {
  const table = new Map<H3Cell, LiveCount>();
  for (const [cell, total] of fleet.countsByCell(resolution)) table.set(cell, { cell, total, available: 0 });
  for (const [cell, available] of fleet.countsByCell(resolution, { status: 'available' })) {
    const count = table.get(cell);
    if (count) count.available = available;
  }
  return table;
}

/** The traffic field's fresh cells as frames carry them, and the free-flow speed a cell falls back to. */
export interface TrafficTable {
  cells: ReadonlyMap<H3Cell, LiveTraffic>;
  /** Speed of a cell without a fresh estimate, km/h (rounded). */
  freeFlowKmh: number;
}

/** Reads the traffic field at `now`. Speeds are rounded to 1 km/h, so that slow fading does not resend a cell. */
export function trafficOf(traffic: LiveTrafficField, now: number): TrafficTable {
  const cells = new Map<H3Cell, LiveTraffic>();
  for (const cell of traffic.freshCells(now)) {
    cells.set(cell.cell, { cell: cell.cell, speedKmh: Math.round(cell.speedKmh), level: cell.level });
  }
  return { cells, freeFlowKmh: Math.round(traffic.freeFlowAt(now)) };
}
