import { latLngToCell } from 'h3-js';
import { describe, expect, it } from 'vitest';
import { ChangeRouter } from '../../../api/live/live-tick.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { liveFixture } from '../../support/live-fixture.ts';

/** Around the Kremlin at street zoom, ≈1.6 × 1.3 km: single doctors. */
const KREMLIN: [number, number, number, number] = [37.605, 55.745, 37.63, 55.757];
/** A view east of it, sharing no doctor. */
const EAST: [number, number, number, number] = [37.7, 55.745, 37.725, 55.757];

const ids = (frame: Record<string, unknown> | undefined, field = 'doctors') =>
  ((frame?.[field] as { id?: string }[] | string[] | undefined) ?? []).map((item) =>
    typeof item === 'string' ? item : item.id,
  );

describe('the live hub in doctors mode', () => {
  it('sends a snapshot, then deltas: moves inside, leaving the view, entering it; never a doctor outside', () => {
    const live = liveFixture();
    live.fix('inside', 55.75, 37.615);
    live.fix('leaving', 55.752, 37.62);
    live.fix('outside', 55.7, 37.5);
    // Fixes not yet drained when a view opens reach it once more in the next delta (harmless: items are absolute).
    live.tick();
    const dispatcher = live.connect();
    dispatcher.subscribe(KREMLIN, 15);
    const [snapshot] = dispatcher.connection.take();
    expect(snapshot).toMatchObject({ type: 'snapshot', seq: 1, mode: 'doctors', resolution: 9, counts: [] });
    expect(ids(snapshot)).toEqual(['inside', 'leaving']);
    expect((snapshot?.['doctors'] as unknown[])[0]).toEqual({
      id: 'inside',
      lat: 55.75,
      lng: 37.615,
      status: 'available',
    });

    live.tick();
    expect(dispatcher.connection.take()).toEqual([]);

    live.fix('inside', 55.7512345678, 37.616, { heading: 90.04, speed: 3.456 });
    live.fix('leaving', 55.71, 37.51);
    live.fix('outside', 55.701, 37.501);
    live.tick();
    const [delta] = dispatcher.connection.take();
    expect(delta).toMatchObject({ type: 'delta', seq: 2, removed: ['leaving'], counts: [], alerts: [] });
    expect(delta?.['doctors']).toEqual([
      { id: 'inside', lat: 55.751235, lng: 37.616, status: 'available', heading: 90, speed: 3.46 },
    ]);

    live.fix('outside', 55.751, 37.62);
    live.tick();
    const [entered] = dispatcher.connection.take();
    expect(entered).toMatchObject({ seq: 3, removed: [] });
    expect(ids(entered)).toEqual(['outside']);

    live.world.fleet.setStatus('inside', 'offered', live.clock.now);
    live.world.fleet.remove('outside');
    live.tick();
    const [statusAndRemoval] = dispatcher.connection.take();
    expect(statusAndRemoval).toMatchObject({ seq: 4, removed: ['outside'] });
    expect(statusAndRemoval?.['doctors']).toMatchObject([{ id: 'inside', status: 'offered' }]);
  });

  it('builds one delta per view and publishes it once to connections sharing the view', () => {
    const live = liveFixture();
    live.fix('a', 55.75, 37.615);
    live.fix('b', 55.75, 37.71);
    live.tick();
    const first = live.connect();
    const second = live.connect();
    const east = live.connect();
    first.subscribe(KREMLIN, 15);
    second.subscribe(KREMLIN, 15);
    east.subscribe(EAST, 15);
    for (const connection of [first, second, east]) connection.connection.take();
    expect(live.hub.stats()).toEqual({ views: 2, groups: 2, subscribers: 3, coalesced: 0 });

    live.fix('a', 55.751, 37.616);
    const before = live.topics.published;
    live.tick();
    expect(live.topics.published - before).toBe(1);
    const [one] = first.connection.take();
    const [two] = second.connection.take();
    expect(one).toEqual(two);
    expect(ids(one)).toEqual(['a']);
    expect(east.connection.take()).toEqual([]);
  });

  it('keeps seq consecutive per connection across resubscribes, and gives a late joiner the group seq', () => {
    const live = liveFixture();
    live.fix('a', 55.75, 37.615);
    live.fix('b', 55.75, 37.71);
    const mover = live.connect();
    mover.subscribe(KREMLIN, 15);
    live.fix('a', 55.7505, 37.615);
    live.tick();
    expect(mover.connection.take().map((frame) => [frame['type'], frame['seq']])).toEqual([
      ['snapshot', 1],
      ['delta', 2],
    ]);
    mover.subscribe(EAST, 15);
    live.fix('b', 55.7505, 37.71);
    live.tick();
    const frames = mover.connection.take();
    expect(frames.map((frame) => [frame['type'], frame['seq']])).toEqual([
      ['snapshot', 3],
      ['delta', 4],
    ]);
    expect(ids(frames[0])).toEqual(['b']);

    const late = live.connect();
    late.subscribe(EAST, 15);
    expect(late.connection.take().map((frame) => [frame['type'], frame['seq']])).toEqual([['snapshot', 4]]);
    live.fix('b', 55.751, 37.71);
    live.tick();
    expect(late.connection.take()[0]?.['seq']).toBe(5);
    expect(mover.connection.take()[0]?.['seq']).toBe(5);
    expect(live.hub.stats()).toMatchObject({ views: 1, groups: 1, subscribers: 2 });
  });

  it('forgets a closed connection and its view', () => {
    const live = liveFixture();
    live.fix('a', 55.75, 37.615);
    const dispatcher = live.connect();
    dispatcher.subscribe(KREMLIN, 15);
    dispatcher.close();
    expect(live.hub.stats()).toEqual({ views: 0, groups: 0, subscribers: 0, coalesced: 0 });
    live.fix('a', 55.751, 37.615);
    live.tick();
    expect(live.topics.published).toBe(0);
  });

  it('starts over with a snapshot in each sequence when the fleet object is replaced (a restore)', () => {
    const live = liveFixture();
    live.fix('a', 55.75, 37.615);
    const dispatcher = live.connect();
    dispatcher.subscribe(KREMLIN, 15);
    dispatcher.connection.take();
    const restored = new Fleet();
    restored.applyFix({ doctorId: 'z', lat: 55.751, lng: 37.62, ts: 1 }, live.clock.now);
    live.world.fleet = restored;
    live.tick();
    const [snapshot] = dispatcher.connection.take();
    expect(snapshot).toMatchObject({ type: 'snapshot', seq: 2 });
    expect(ids(snapshot)).toEqual(['z']);
    live.fix('z', 55.752, 37.62);
    live.tick();
    expect(dispatcher.connection.take()[0]).toMatchObject({ type: 'delta', seq: 3 });
  });
});

describe('the live hub in counts mode', () => {
  const CITY: [number, number, number, number] = [37.35, 55.55, 37.85, 55.9];

  it('draws counts per cell below zoom 13, updated on the refresh interval', () => {
    const live = liveFixture();
    live.fix('a', 55.75, 37.615);
    live.fix('b', 55.7501, 37.6151);
    live.fix('c', 55.6, 37.4);
    live.world.fleet.setStatus('b', 'offered', live.clock.now);
    const dispatcher = live.connect();
    dispatcher.subscribe(CITY, 10);
    const [snapshot] = dispatcher.connection.take();
    expect(snapshot).toMatchObject({ type: 'snapshot', mode: 'counts', resolution: 6, doctors: [] });
    const counts = snapshot?.['counts'] as { cell: string; total: number; available: number }[];
    expect(counts).toEqual(
      expect.arrayContaining([
        { cell: '8611aa7afffffff', total: 2, available: 1 },
        { cell: expect.any(String), total: 1, available: 1 },
      ]),
    );
    expect(counts).toHaveLength(2);

    // The first tick refreshes the counts: unchanged, so nothing is sent.
    live.tick(100);
    expect(dispatcher.connection.take()).toEqual([]);
    live.fix('c', 55.75, 37.615);
    live.tick(100);
    expect(dispatcher.connection.take()).toEqual([]);
    live.tick(1_000);
    const [delta] = dispatcher.connection.take();
    expect(delta?.['doctors']).toEqual([]);
    expect(delta?.['counts']).toEqual(
      expect.arrayContaining([
        { cell: '8611aa7afffffff', total: 3, available: 2 },
        { cell: expect.any(String), total: 0, available: 0 },
      ]),
    );
  });

  it('draws counts for a street-zoom view holding more doctors than the limit', () => {
    const live = liveFixture({ limits: { maxDoctorsInView: 2 } });
    for (let i = 0; i < 3; i++) live.fix(`d${i}`, 55.75 + i * 0.001, 37.615);
    const dispatcher = live.connect();
    dispatcher.subscribe(KREMLIN, 15);
    const [snapshot] = dispatcher.connection.take();
    expect(snapshot).toMatchObject({ mode: 'counts', resolution: 9, doctors: [] });
    expect((snapshot?.['counts'] as { total: number }[]).reduce((sum, count) => sum + count.total, 0)).toBe(
      3,
    );
  });
});

describe('a slow client', () => {
  it('gets nothing while over its bound, then a fresh snapshot continuing its seq once drained', () => {
    const live = liveFixture({ limits: { maxBufferedBytes: 1_000 } });
    live.fix('a', 55.75, 37.615);
    const slow = live.connect();
    const fast = live.connect();
    slow.subscribe(KREMLIN, 15);
    fast.subscribe(KREMLIN, 15);
    slow.connection.take();
    fast.connection.take();

    slow.connection.buffered = 5_000;
    for (let step = 1; step <= 5; step++) {
      live.fix('a', 55.75 + step * 0.0001, 37.615);
      live.tick();
    }
    expect(slow.connection.take()).toEqual([]);
    expect(fast.connection.take().map((frame) => frame['seq'])).toEqual([2, 3, 4, 5, 6]);
    expect(live.hub.stats()).toMatchObject({ subscribers: 1, coalesced: 1 });

    // Below the bound but above half of it: still waiting.
    slow.connection.buffered = 800;
    live.tick();
    expect(slow.connection.take()).toEqual([]);

    slow.connection.buffered = 0;
    live.hub.drained(slow.session);
    const [fresh] = slow.connection.take();
    expect(fresh).toMatchObject({ type: 'snapshot', seq: 2 });
    expect(fresh?.['doctors']).toEqual([{ id: 'a', lat: 55.7505, lng: 37.615, status: 'available' }]);
    live.fix('a', 55.751, 37.615);
    live.tick();
    expect(slow.connection.take().map((frame) => frame['seq'])).toEqual([3]);
    expect(fast.connection.take().map((frame) => frame['seq'])).toEqual([7]);
    expect(live.hub.stats()).toMatchObject({ groups: 2, subscribers: 2, coalesced: 0 });
  });

  it('is refreshed by a tick too, and one whose snapshot uWS refused stays coalesced', () => {
    const live = liveFixture({ limits: { maxBufferedBytes: 1_000 } });
    live.fix('a', 55.75, 37.615);
    const slow = live.connect();
    slow.subscribe(KREMLIN, 15);
    slow.connection.take();
    slow.connection.buffered = 2_000;
    live.fix('a', 55.7501, 37.615);
    live.tick();
    slow.connection.buffered = 0;
    slow.connection.refuseSends = true;
    live.tick();
    expect(live.hub.stats()).toMatchObject({ coalesced: 1, subscribers: 0 });
    slow.connection.refuseSends = false;
    live.tick();
    expect(slow.connection.take()).toMatchObject([{ type: 'snapshot', seq: 2 }]);
  });
});

describe('the change router', () => {
  it('routes only changes inside a watched viewport or leaving one, to the cell now and the cell before', () => {
    const router = new ChangeRouter(6);
    const change = (id: string, lat: number, lng: number) => ({ id, lat, lng, status: 'available' as const });
    expect(router.route({ changed: [change('a', 55.75, 37.615)], removed: [] }).changesByCell.size).toBe(0);

    router.watch([{ west: 37.605, south: 55.745, east: 37.63, north: 55.757, zoom: 15 }]);
    const inside = router.route({
      changed: [change('a', 55.75, 37.615), change('far', 55.6, 37.4)],
      removed: [],
    });
    expect([...inside.changesByCell]).toEqual([['8611aa7afffffff', [0]]]);

    const leaving = router.route({ changed: [change('a', 55.6, 37.4)], removed: [] });
    expect(new Set(leaving.changesByCell.keys())).toEqual(
      new Set(['8611aa7afffffff', latLngToCell(55.6, 37.4, 6)]),
    );
    // Gone from the viewport: its next move concerns no view.
    expect(router.route({ changed: [change('a', 55.61, 37.41)], removed: [] }).changesByCell.size).toBe(0);

    router.seed('b', 55.75, 37.62);
    expect([...router.route({ changed: [], removed: ['b', 'unknown'] }).removedByCell]).toEqual([
      ['8611aa7afffffff', ['b']],
    ]);
    router.watch([]);
    router.seed('c', 55.75, 37.62);
    expect(router.route({ changed: [], removed: ['c'] }).removedByCell.size).toBe(0);
  });
});
