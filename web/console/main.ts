import '../shared/styles.css';
import { ApiClient, socketUrl } from '../shared/api-client.ts';
import { byTestId } from '../shared/dom.ts';
import { signIn } from '../shared/login-form.ts';
import { bboxOf, createMap } from '../shared/map.ts';
import { readPageConfig } from '../shared/page-config.ts';
import { ReconnectingSocket } from '../shared/reconnecting-socket.ts';
import { AssignPanel, liveBookingOf } from './assign-panel.ts';
import { LiveState, type LiveBooking } from './live-state.ts';
import { ConsoleMapLayers } from './map-layers.ts';
import { renderAlerts, renderDoctorList, renderQueue } from './panels.ts';

/** How often the queue is reloaded from GET /v1/bookings besides the live frames (bookings out of view). */
const BOOKINGS_RELOAD_MS = 5_000;

async function main(): Promise<void> {
  const config = readPageConfig();
  const client = new ApiClient('tot.console');
  const session = await signIn(client, byTestId('login'), {
    roles: ['dispatcher', 'admin'],
    title: 'Dispatcher console',
  });
  byTestId('login').hidden = true;
  byTestId('user').textContent = `${session.user.displayName} (${session.user.role})`;
  byTestId('logout').addEventListener(
    'click',
    () => void client.logout().then(() => window.location.reload()),
  );
  byTestId('app').hidden = false;

  const mapElement = byTestId('map');
  const map = await createMap(mapElement, config, { hash: true, zoom: 13 });
  const state = new LiveState();
  const layers = new ConsoleMapLayers(map);
  const connection = byTestId('connection');

  let dirty = true;
  const redraw = () => {
    dirty = true;
  };
  const assign = new AssignPanel(byTestId('assign-panel'), {
    client,
    state,
    changed: (booking) => {
      if (booking) state.mergeBookings([booking]);
      void reloadBookings();
      redraw();
    },
  });
  const selectBooking = (bookingId: string) => {
    assign.selectBooking(bookingId);
    const booking = state.bookings.get(bookingId);
    if (booking) map.easeTo({ center: [booking.lng, booking.lat], zoom: Math.max(map.getZoom(), 13) });
    redraw();
  };
  const selectDoctor = (doctorId: string) => {
    assign.selectDoctor(doctorId);
    redraw();
  };
  layers.onPick((kind, id) => (kind === 'doctor' ? selectDoctor(id) : selectBooking(id)));

  const subscribe = () => {
    const bbox = bboxOf(map);
    live.send({ type: 'subscribe', bbox, zoom: Math.round(map.getZoom() * 100) / 100 });
  };
  const live = new ReconnectingSocket(
    async () => socketUrl('/v1/live', { access_token: await client.accessToken() }),
    {
      open: () => {
        connection.dataset['state'] = 'open';
        connection.textContent = 'live';
        subscribe();
      },
      message: (frame) => {
        const outcome = state.apply(frame);
        if (outcome === 'gap') subscribe();
        else if (outcome === 'applied') redraw();
        else if (isErrorFrame(frame)) connection.textContent = `live: ${frame.code} ${frame.detail ?? ''}`;
      },
      closed: (code, retryInMs) => {
        connection.dataset['state'] = 'closed';
        connection.textContent = `disconnected (${code}); retrying in ${Math.round(retryInMs / 100) / 10} s`;
      },
    },
  );
  let moveTimer: ReturnType<typeof setTimeout> | undefined;
  map.on('moveend', () => {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(subscribe, 150);
  });

  const reloadBookings = async () => {
    try {
      const answer = await client.get<unknown>('/v1/bookings?limit=200');
      const list = Array.isArray(answer)
        ? answer
        : ((answer as { bookings?: unknown[]; items?: unknown[] }).bookings ??
          (answer as { items?: unknown[] }).items ??
          []);
      state.mergeBookings(
        list.map(liveBookingOf).filter((booking): booking is LiveBooking => booking !== undefined),
      );
      byTestId('bookings-source').dataset['state'] = 'ok';
      redraw();
    } catch (error) {
      byTestId('bookings-source').dataset['state'] = 'error';
      byTestId('bookings-source').textContent = `bookings: ${(error as Error).message}`;
    }
  };
  void reloadBookings();
  setInterval(() => void reloadBookings(), BOOKINGS_RELOAD_MS);

  const queue = byTestId('queue');
  const alerts = byTestId('alerts');
  const banner = byTestId('alert-banner');
  const doctors = byTestId('doctor-list');
  const frame = () => {
    if (dirty) {
      dirty = false;
      layers.draw(state, assign.selection);
      renderQueue(queue, state, assign.selection.bookingId, selectBooking);
      renderAlerts(banner, alerts, state, selectBooking);
      renderDoctorList(doctors, state, assign.selection.doctorId, selectDoctor);
      if (assign.selection.bookingId) assign.render();
      mapElement.dataset['doctorCount'] = String(state.doctorCount());
      mapElement.dataset['mode'] = state.mode;
      mapElement.dataset['seq'] = String(state.seq ?? '');
      mapElement.dataset['frames'] = String(state.frames);
      mapElement.dataset['trafficCells'] = String(state.traffic.size);
      byTestId('doctor-count').textContent = `${state.doctorCount()} doctors in view (${state.mode})`;
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  window.addEventListener('beforeunload', () => live.stop());
}

function isErrorFrame(frame: unknown): frame is { type: 'error'; code: string; detail?: string } {
  return typeof frame === 'object' && frame !== null && (frame as { type?: unknown }).type === 'error';
}

main().catch((error: unknown) => {
  const target = document.querySelector('[data-testid="fatal"]');
  if (target) {
    target.textContent = `The console could not start: ${(error as Error).message}`;
    (target as HTMLElement).hidden = false;
  }
  console.error(error);
});
