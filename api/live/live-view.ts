/**
 * One view of the live map: a viewport (bbox and zoom) and what the connections showing it have been told. Every
 * connection subscribed with the same viewport shares the view, so a tick builds each view's delta once, however many
 * connections show it.
 *
 * What a client holds is the view's last snapshot plus the deltas since, and every item in a frame is absolute (a
 * doctor's position, a cell's count), so applying one twice changes nothing. That is what lets a connection joining
 * between two ticks take a snapshot of the fleet as it is now and then follow the view's next delta, which was built
 * from the state at the previous tick.
 */
import type { DoctorChange } from '../../engine/fleet.ts';
import type { H3Cell } from '../../geo/h3.ts';
import type { TopicConnection } from '../sockets.ts';
import { bookingItemOf, doctorItemOf, snapshotBodyOf, deltaBodyOf } from './live-frames.ts';
import type { BookingFeed, LiveFleet } from './live-sources.ts';
import type { TickInput, TrafficTable } from './live-tick.ts';
import type { LiveBooking, LiveCount, LiveLimits, LiveMode, LiveTraffic } from './protocol.ts';
import {
  cellMayShow,
  cellsCoveringViewport,
  containsPoint,
  resolutionOfZoom,
  viewportKey,
  type Viewport,
} from './viewport.ts';

/** What a view reads when it builds a snapshot. */
export interface ViewContext {
  fleet: LiveFleet;
  limits: LiveLimits;
  bookings: BookingFeed | undefined;
  /** Engine time now. */
  at: number;
  /** The current tick's ordinal: a snapshot built during a tick interval is reused until the next tick. */
  tick: number;
  /** Counts per cell at a resolution, as of the last refresh (computed on first use). */
  countsAt(resolution: number): ReadonlyMap<H3Cell, LiveCount>;
  /** The traffic table as of the last refresh (computed on first use). */
  traffic(): TrafficTable;
}

/** A connection of the live channel as the hub and the views see it (api/live/live-session.ts). */
export interface LiveSubscriber {
  readonly connection: TopicConnection;
  /** The viewport last subscribed to, once there is one. */
  viewport: Viewport | undefined;
  /** The group it receives frames through; undefined before the first subscribe and while coalesced. */
  group: LiveGroup | undefined;
  /** The `seq` of the last frame sent to it while outside a group; undefined before the first. */
  lastSeq: number | undefined;
}

/**
 * Connections of one view that share one sequence of frames: one pub/sub topic, one `seq`. Connections of a view
 * whose sequences differ (one joined after being coalesced, say) are in different groups of the view, which get the
 * same delta body under their own `seq`.
 */
export interface LiveGroup {
  readonly topic: string;
  /** The `seq` of the next frame published to the group. */
  nextSeq: number;
  readonly view: LiveView;
  readonly members: Set<LiveSubscriber>;
}

/** A view: its mode, resolution and the state its connections hold. */
export class LiveView {
  readonly key: string;
  mode: LiveMode = 'counts';
  resolution = 0;
  /** The topic cells covering the viewport (doctors mode; empty in counts mode). */
  topicCells: readonly H3Cell[] = [];
  /** The groups of connections showing this view; the hub manages them. */
  readonly groups: LiveGroup[] = [];
  /** Topic cells touched in the current tick (the hub fills it, the delta empties it). */
  readonly touched: H3Cell[] = [];
  private readonly members = new Set<string>();
  private readonly sentCounts = new Map<H3Cell, LiveCount>();
  private readonly sentTraffic = new Map<H3Cell, LiveTraffic>();
  private readonly mayShow = new Map<H3Cell, boolean>();
  private snapshotCache: { tick: number; body: string } | undefined;

  constructor(readonly viewport: Viewport) {
    this.key = viewportKey(viewport);
  }

  /**
   * (Re)builds the view from the world: decides the mode (counts below `countsBelowZoom`, over `maxTopicCells` or
   * over `maxDoctorsInView` doctors), takes the doctors in view, the counts and the traffic as the view's state, and
   * caches the snapshot. Returns the members' positions (doctors mode) so the router can learn their cells.
   */
  initialise(context: ViewContext): readonly DoctorChange[] {
    const { fleet, limits } = context;
    const viewport = this.viewport;
    this.members.clear();
    this.sentCounts.clear();
    this.sentTraffic.clear();
    this.resolution = resolutionOfZoom(viewport.zoom, fleet.resolution);
    let doctors: readonly DoctorChange[] = [];
    let cover: H3Cell[] | undefined;
    if (viewport.zoom >= limits.countsBelowZoom) {
      cover = cellsCoveringViewport(viewport, limits.topicResolution, limits.maxTopicCells);
      if (cover) doctors = this.doctorsInView(fleet);
    }
    if (cover && doctors.length <= limits.maxDoctorsInView) {
      this.mode = 'doctors';
      this.topicCells = cover;
      for (const doctor of doctors) this.members.add(doctor.id);
    } else {
      this.mode = 'counts';
      this.topicCells = [];
      doctors = [];
      for (const [cell, count] of context.countsAt(this.resolution)) {
        if (this.shows(cell)) this.sentCounts.set(cell, count);
      }
    }
    for (const [cell, traffic] of context.traffic().cells) {
      if (this.shows(cell)) this.sentTraffic.set(cell, traffic);
    }
    this.snapshotCache = {
      tick: context.tick,
      body: this.snapshotBody(
        context,
        doctors.map((doctor) => JSON.stringify(doctorItemOf(doctor))),
      ),
    };
    return doctors;
  }

  /** The body of a snapshot of the view now (reused within one tick interval). */
  snapshot(context: ViewContext): string {
    if (this.snapshotCache?.tick === context.tick) return this.snapshotCache.body;
    const doctors =
      this.mode === 'doctors'
        ? this.doctorsInView(context.fleet).map((doctor) => JSON.stringify(doctorItemOf(doctor)))
        : [];
    const body = this.snapshotBody(context, doctors);
    this.snapshotCache = { tick: context.tick, body };
    return body;
  }

  /**
   * The body of this tick's delta, or undefined when nothing in the view changed. Updates what the view's connections
   * hold. Doctors mode looks only at the changes routed to the topic cells the hub put in `touched`.
   */
  delta(input: TickInput): string | undefined {
    const doctors: string[] = [];
    const removed = new Set<string>();
    if (this.mode === 'doctors') this.doctorDelta(input, doctors, removed);
    this.touched.length = 0;
    const counts: LiveCount[] = [];
    const counted = input.counts?.get(this.resolution);
    if (this.mode === 'counts' && counted) {
      diffCells(counted, this.sentCounts, counts, this.shows, (cell) => ({ cell, total: 0, available: 0 }));
    }
    const traffic: LiveTraffic[] = [];
    const table = input.traffic;
    if (table) {
      diffCells(table.cells, this.sentTraffic, traffic, this.shows, (cell) => ({
        cell,
        speedKmh: table.freeFlowKmh,
        level: 0,
      }));
    }
    const bookings: LiveBooking[] = [];
    for (const booking of input.bookings) {
      if (containsPoint(this.viewport, booking.lat, booking.lng)) bookings.push(bookingItemOf(booking));
    }
    if (
      doctors.length === 0 &&
      removed.size === 0 &&
      counts.length === 0 &&
      traffic.length === 0 &&
      bookings.length === 0 &&
      input.alerts === '[]'
    ) {
      return undefined;
    }
    return deltaBodyOf({
      at: input.at,
      doctors,
      removed: [...removed],
      counts,
      bookings,
      alerts: input.alerts,
      traffic,
    });
  }

  private doctorDelta(input: TickInput, doctors: string[], removed: Set<string>): void {
    const viewport = this.viewport;
    const members = this.members;
    for (const cell of this.touched) {
      for (const id of input.removedByCell.get(cell) ?? []) if (members.delete(id)) removed.add(id);
    }
    // A change is routed to two cells when the doctor crossed between them; both may be in this view.
    const seen = new Set<number>();
    for (const cell of this.touched) {
      for (const i of input.changesByCell.get(cell) ?? []) {
        if (seen.has(i)) continue;
        seen.add(i);
        const change = input.changes[i] as DoctorChange;
        if (containsPoint(viewport, change.lat, change.lng)) {
          members.add(change.id);
          removed.delete(change.id);
          doctors.push(input.itemOf(i));
        } else if (members.delete(change.id)) {
          removed.add(change.id);
        }
      }
    }
  }

  private doctorsInView(fleet: LiveFleet): DoctorChange[] {
    const { west, south, east, north } = this.viewport;
    const polygon = {
      type: 'Polygon' as const,
      coordinates: [
        [
          [west, south],
          [east, south],
          [east, north],
          [west, north],
          [west, south],
        ],
      ],
    };
    return fleet.within(polygon) as DoctorChange[];
  }

  private snapshotBody(context: ViewContext, doctors: readonly string[]): string {
    const bookings: LiveBooking[] = [];
    for (const booking of context.bookings?.active() ?? []) {
      if (containsPoint(this.viewport, booking.lat, booking.lng)) bookings.push(bookingItemOf(booking));
    }
    return snapshotBodyOf({
      at: context.at,
      mode: this.mode,
      resolution: this.resolution,
      doctors,
      counts: [...this.sentCounts.values()],
      bookings,
      traffic: [...this.sentTraffic.values()],
    });
  }

  /** Whether a cell may show in the viewport, remembered per cell. */
  private readonly shows = (cell: H3Cell): boolean => {
    let shows = this.mayShow.get(cell);
    if (shows === undefined) {
      shows = cellMayShow(this.viewport, cell);
      this.mayShow.set(cell, shows);
    }
    return shows;
  };
}

/**
 * Appends to `out` the cells of `current` that show and differ from `sent`, and a `gone` entry for each cell sent
 * before that is no longer in `current`; updates `sent` to match.
 */
function diffCells<Item extends { cell: H3Cell }>(
  current: ReadonlyMap<H3Cell, Item>,
  sent: Map<H3Cell, Item>,
  out: Item[],
  shows: (cell: H3Cell) => boolean,
  gone: (cell: H3Cell) => Item,
): void {
  for (const [cell, item] of current) {
    if (!shows(cell)) continue;
    const previous = sent.get(cell);
    if (previous !== undefined && sameItem(previous, item)) continue;
    sent.set(cell, item);
    out.push(item);
  }
  for (const cell of sent.keys()) {
    if (current.has(cell)) continue;
    sent.delete(cell);
    out.push(gone(cell));
  }
}

function sameItem(a: object, b: object): boolean {
  for (const key of Object.keys(b)) {
    if ((a as Record<string, unknown>)[key] !== (b as Record<string, unknown>)[key]) return false;
  }
  return true;
}
