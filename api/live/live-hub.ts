/**
 * The live channel's hub: views, the groups of connections following them, and the tick that turns the fleet's
 * changes into one delta per view, published once per group.
 *
 * Fan-out. Each tick drains the fleet's change journal and routes every change to the coarse H3 cells (resolution
 * `topicResolution`) it touched; each cell is an internal topic that views showing single doctors subscribe to by
 * their covering cells, so a view only looks at the changes of its cells. A view's delta body is built once; each of
 * its groups is a uWebSockets.js pub/sub topic, and the frame (`seq` prefix + body) is published once per group.
 * The uWS topic is per group rather than per cell because a frame carries its connection's `seq`: only connections
 * with the same viewport and the same sequence can share its bytes.
 *
 * Slow clients. Before publishing, each member whose unread bytes exceed `maxBufferedBytes` leaves its group and is
 * sent nothing more. Once its queue is below half the bound (checked on uWS's drain and on every tick), it gets a
 * fresh snapshot with the next `seq` of its own sequence and joins a group again: coalesced, never buffered without
 * bound.
 */
import type { Booking } from '../../dispatch/booking-types.ts';
import type { H3Cell } from '../../geo/h3.ts';
import type { Logger } from '../../engine/logger.ts';
import type { TopicPublisher } from '../sockets.ts';
import { frameOf } from './live-frames.ts';
import type { LiveMetrics } from './live-metrics.ts';
import type { AlertSource, BookingFeed, LiveFleet, LiveWorld } from './live-sources.ts';
import {
  ChangeRouter,
  countsOf,
  itemsOf,
  trafficOf,
  type TickInput,
  type TrafficTable,
} from './live-tick.ts';
import { LiveView, type LiveGroup, type LiveSubscriber, type ViewContext } from './live-view.ts';
import { LIVE_LIMITS, type LiveAlert, type LiveCount, type LiveLimits } from './protocol.ts';
import { viewportKey, type Viewport } from './viewport.ts';

/** Alerts kept between two ticks at most; more means ticks stopped, and the oldest are dropped. */
const MAX_PENDING_ALERTS = 1_000;

/** Options of {@link LiveHub}. */
export interface LiveHubOptions {
  world: LiveWorld;
  limits?: Partial<LiveLimits>;
  /** The dispatcher's bookings, when there is a dispatcher. */
  bookings?: BookingFeed;
  alerts?: readonly AlertSource[];
  metrics?: LiveMetrics;
  logger?: Logger;
}

/** Counts of the hub's structures, for tests and logs. */
export interface LiveHubStats {
  views: number;
  groups: number;
  subscribers: number;
  coalesced: number;
}

/** The hub. One per server; sessions call {@link subscribe}, {@link leave} and {@link drained}. */
export class LiveHub {
  readonly limits: LiveLimits;
  private publisher: TopicPublisher | undefined;
  private readonly views = new Map<string, LiveView>();
  private readonly viewsByCell = new Map<H3Cell, Set<LiveView>>();
  private readonly coalesced = new Set<LiveSubscriber>();
  private readonly router: ChangeRouter;
  private readonly doctorViews = new Set<LiveView>();
  private fleet: LiveFleet;
  private tickCount = 0;
  private nextGroup = 1;
  private timer: NodeJS.Timeout | undefined;
  private bookings: BookingFeed | undefined;
  private readonly pendingBookings = new Map<string, Booking>();
  private pendingAlerts: LiveAlert[] = [];
  private readonly unsubscribers: (() => void)[] = [];
  private counts = new Map<number, Map<H3Cell, LiveCount>>();
  private traffic: TrafficTable | undefined;
  private nextRefreshAt = 0;

  constructor(private readonly options: LiveHubOptions) {
    this.limits = { ...LIVE_LIMITS, ...options.limits };
    this.router = new ChangeRouter(this.limits.topicResolution);
    this.fleet = options.world.fleet();
    if (options.bookings) this.useBookings(options.bookings);
    for (const source of options.alerts ?? []) this.addAlertSource(source);
  }

  /** Takes the server's topics (api/sockets.ts calls it through the route's `bind`). */
  bind(publisher: TopicPublisher): void {
    this.publisher = publisher;
  }

  /** Follows a dispatcher's bookings from now on (snapshots list its active bookings; deltas its changes). */
  useBookings(feed: BookingFeed): void {
    this.bookings = feed;
    this.unsubscribers.push(
      feed.onChange((change) => this.pendingBookings.set(change.booking.id, change.booking)),
    );
  }

  /** Forwards a source's alerts to every view from the next tick on. */
  addAlertSource(source: AlertSource): void {
    this.unsubscribers.push(
      source.onAlert((alert) => {
        if (this.pendingAlerts.length >= MAX_PENDING_ALERTS) this.pendingAlerts.shift();
        this.pendingAlerts.push(alert);
      }),
    );
  }

  /** Ticks every `tickMs` until {@link stop}. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.tick();
      } catch (error) {
        this.options.logger?.error({ err: error }, 'live tick failed');
      }
    }, this.limits.tickMs);
    this.timer.unref();
  }

  /** Stops ticking and stops listening to bookings and alerts. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
  }

  /**
   * Sets or replaces a connection's viewport: it leaves its group, gets a snapshot of the new view (seq: the next of
   * its own sequence, or the group's when it joins one), and follows the view's deltas.
   */
  subscribe(subscriber: LiveSubscriber, viewport: Viewport): void {
    this.leaveGroup(subscriber);
    this.coalesced.delete(subscriber);
    subscriber.viewport = viewport;
    this.join(subscriber);
  }

  /** Forgets a connection (it closed). */
  leave(subscriber: LiveSubscriber): void {
    this.leaveGroup(subscriber);
    this.coalesced.delete(subscriber);
  }

  /** A connection's queue shrank: a coalesced one that drained enough gets its fresh snapshot now. */
  drained(subscriber: LiveSubscriber): void {
    if (this.coalesced.has(subscriber)) this.refresh(subscriber);
  }

  /** Counts of views, groups and subscribers. */
  stats(): LiveHubStats {
    let groups = 0;
    let subscribers = 0;
    for (const view of this.views.values()) {
      groups += view.groups.length;
      for (const group of view.groups) subscribers += group.members.size;
    }
    return { views: this.views.size, groups, subscribers, coalesced: this.coalesced.size };
  }

  /**
   * One tick: drain the fleet's changes, refresh counts and traffic when due, build each view's delta and publish it
   * to the view's groups, then refresh coalesced connections that drained. A fleet replaced since the last tick (a
   * restore) gets every group a fresh snapshot instead.
   */
  tick(): void {
    const stopTimer = this.options.metrics?.tickSeconds.startTimer();
    this.tickCount++;
    const world = this.options.world;
    const at = world.now();
    const fleet = world.fleet();
    if (fleet !== this.fleet) {
      this.fleet = fleet;
      fleet.drainChanged();
      this.resynchronise();
      stopTimer?.();
      return;
    }
    const changes = fleet.drainChanged();
    const routed = this.router.route(changes);
    const input: TickInput = {
      at,
      tick: this.tickCount,
      changes: changes.changed,
      ...routed,
      itemOf: itemsOf(changes.changed),
      bookings: [...this.pendingBookings.values()],
      alerts: JSON.stringify(this.pendingAlerts),
    };
    this.pendingBookings.clear();
    this.pendingAlerts = [];
    if (at >= this.nextRefreshAt && this.views.size > 0) {
      this.nextRefreshAt = at + this.limits.refreshMs;
      input.counts = this.refreshCounts();
      input.traffic = this.traffic = trafficOf(world.traffic(), at);
    }
    const touched = new Set<H3Cell>([...routed.changesByCell.keys(), ...routed.removedByCell.keys()]);
    for (const cell of touched) for (const view of this.viewsByCell.get(cell) ?? []) view.touched.push(cell);
    for (const view of this.views.values()) {
      const body = view.delta(input);
      if (body === undefined) continue;
      for (const group of [...view.groups]) this.publish(group, 'delta', body);
    }
    // A copy: refreshing takes subscribers out of the set and may put one back.
    for (const subscriber of [...this.coalesced]) this.refresh(subscriber);
    stopTimer?.();
  }

  /** Publishes a frame to a group, after taking out the members over their buffer bound. */
  private publish(group: LiveGroup, type: 'snapshot' | 'delta', body: string): void {
    const bound = this.limits.maxBufferedBytes;
    for (const member of group.members) {
      if (!member.connection.open) this.leaveGroup(member);
      else if (member.connection.bufferedAmount() > bound) this.coalesce(member);
    }
    if (group.members.size === 0) return;
    this.publisher?.publish(group.topic, frameOf(type, group.nextSeq, body));
    group.nextSeq++;
    this.options.metrics?.frames.inc({ kind: type });
  }

  /** Sends a subscriber its view's snapshot and puts it into a group whose sequence continues its own. */
  private join(subscriber: LiveSubscriber): void {
    const connection = subscriber.connection;
    const viewport = subscriber.viewport;
    if (!viewport || !connection.open) return;
    if (connection.bufferedAmount() > this.limits.maxBufferedBytes) {
      this.coalesced.add(subscriber);
      return;
    }
    const context = this.context();
    const view = this.viewFor(viewport, context);
    const last = subscriber.lastSeq;
    let group =
      last === undefined ? view.groups[0] : view.groups.find((candidate) => candidate.nextSeq === last + 2);
    const seq = group ? group.nextSeq - 1 : (last ?? 0) + 1;
    const sent = connection.send(frameOf('snapshot', seq, view.snapshot(context)));
    if (!sent) {
      if (connection.open) this.coalesced.add(subscriber);
      this.dropIfUnused(view);
      return;
    }
    this.options.metrics?.frames.inc({ kind: 'snapshot' });
    if (!group) {
      group = { topic: `live/${this.nextGroup++}`, nextSeq: seq + 1, view, members: new Set() };
      view.groups.push(group);
    }
    group.members.add(subscriber);
    subscriber.group = group;
    subscriber.lastSeq = undefined;
    connection.subscribe(group.topic);
  }

  /** A coalesced subscriber whose queue is below half the bound joins again; a closed one is forgotten. */
  private refresh(subscriber: LiveSubscriber): void {
    const connection = subscriber.connection;
    if (!connection.open) {
      this.coalesced.delete(subscriber);
      return;
    }
    if (connection.bufferedAmount() > this.limits.maxBufferedBytes / 2) return;
    this.coalesced.delete(subscriber);
    this.join(subscriber);
  }

  private coalesce(subscriber: LiveSubscriber): void {
    this.leaveGroup(subscriber);
    this.coalesced.add(subscriber);
    this.options.metrics?.coalesced.inc();
  }

  private leaveGroup(subscriber: LiveSubscriber): void {
    const group = subscriber.group;
    if (!group) return;
    group.members.delete(subscriber);
    subscriber.group = undefined;
    subscriber.lastSeq = group.nextSeq - 1;
    subscriber.connection.unsubscribe(group.topic);
    if (group.members.size > 0) return;
    const groups = group.view.groups;
    groups.splice(groups.indexOf(group), 1);
    this.dropIfUnused(group.view);
  }

  private viewFor(viewport: Viewport, context: ViewContext): LiveView {
    const key = viewportKey(viewport);
    let view = this.views.get(key);
    if (view) return view;
    view = new LiveView(viewport);
    this.register(view, context);
    this.views.set(key, view);
    return view;
  }

  /** Builds a view's state and, in doctors mode, subscribes it to its topic cells. */
  private register(view: LiveView, context: ViewContext): void {
    const members = view.initialise(context);
    if (view.mode !== 'doctors') return;
    this.doctorViews.add(view);
    this.router.watch([...this.doctorViews].map((watched) => watched.viewport));
    for (const cell of view.topicCells) {
      let views = this.viewsByCell.get(cell);
      if (!views) this.viewsByCell.set(cell, (views = new Set()));
      views.add(view);
    }
    for (const member of members) this.router.seed(member.id, member.lat, member.lng);
  }

  private unregister(view: LiveView): void {
    if (view.mode !== 'doctors') return;
    for (const cell of view.topicCells) {
      const views = this.viewsByCell.get(cell);
      views?.delete(view);
      if (views?.size === 0) this.viewsByCell.delete(cell);
    }
    this.doctorViews.delete(view);
    this.router.watch([...this.doctorViews].map((watched) => watched.viewport));
  }

  private dropIfUnused(view: LiveView): void {
    if (view.groups.length > 0 || this.views.get(view.key) !== view) return;
    this.views.delete(view.key);
    this.unregister(view);
  }

  /** After the fleet was replaced: every view is rebuilt and every group gets a snapshot in its sequence. */
  private resynchronise(): void {
    this.router.clear();
    this.counts.clear();
    this.traffic = undefined;
    const context = this.context();
    for (const view of this.views.values()) {
      this.unregister(view);
      this.register(view, context);
      const body = view.snapshot(context);
      for (const group of [...view.groups]) this.publish(group, 'snapshot', body);
    }
  }

  private context(): ViewContext {
    const world = this.options.world;
    const fleet = world.fleet();
    const at = world.now();
    return {
      fleet,
      limits: this.limits,
      bookings: this.bookings,
      at,
      tick: this.tickCount,
      countsAt: (resolution) => {
        let table = this.counts.get(resolution);
        if (!table) this.counts.set(resolution, (table = countsOf(fleet, resolution)));
        return table;
      },
      traffic: () => (this.traffic ??= trafficOf(world.traffic(), at)),
    };
  }

  /** Recomputes the counts at every resolution a counts view uses; drops the others. */
  private refreshCounts(): Map<number, Map<H3Cell, LiveCount>> {
    const resolutions = new Set<number>();
    for (const view of this.views.values()) if (view.mode === 'counts') resolutions.add(view.resolution);
    const counts = new Map<number, Map<H3Cell, LiveCount>>();
    for (const resolution of resolutions) counts.set(resolution, countsOf(this.fleet, resolution));
    this.counts = counts;
    return counts;
  }
}
