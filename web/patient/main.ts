import { Marker, type Map as MapLibreMap } from 'maplibre-gl';
import '../shared/styles.css';
import { ApiClient, ApiProblem, socketUrl } from '../shared/api-client.ts';
import { byTestId, element, formatDuration } from '../shared/dom.ts';
import { signIn } from '../shared/login-form.ts';
import { createMap, DEFAULT_CENTRE } from '../shared/map.ts';
import { readPageConfig } from '../shared/page-config.ts';
import { ReconnectingSocket } from '../shared/reconnecting-socket.ts';
import { Tracking } from './tracking.ts';

const STATUS_TEXT: Record<string, string> = {
  created: 'Booking received',
  searching: 'Looking for a doctor',
  offered: 'A doctor is being asked',
  assigned: 'A doctor is assigned',
  en_route: 'The doctor is on the way',
  arrived: 'The doctor has arrived',
  in_progress: 'Visit in progress',
  completed: 'Visit completed',
  cancelled: 'Cancelled',
  no_doctor_found: 'No doctor found yet — a dispatcher is on it',
};

async function main(): Promise<void> {
  const config = readPageConfig();
  const client = new ApiClient('tot.patient');
  const session = await signIn(client, byTestId('login'), {
    roles: ['patient'],
    allowRegister: true,
    title: 'Call a doctor',
  });
  byTestId('login').hidden = true;
  byTestId('user').textContent = session.user.displayName;
  byTestId('logout').addEventListener(
    'click',
    () => void client.logout().then(() => window.location.assign('/patient')),
  );
  byTestId('app').hidden = false;

  const map = await createMap(byTestId('map'), config, { zoom: 13 });
  const home = element('div', { class: 'marker home', 'data-testid': 'home-marker' });
  const homeMarker = new Marker({ element: home, draggable: true }).setLngLat(DEFAULT_CENTRE).addTo(map);
  const placeHome = (lng: number, lat: number) => {
    homeMarker.setLngLat([lng, lat]);
    (byTestId('book-lat') as HTMLInputElement).value = lat.toFixed(6);
    (byTestId('book-lng') as HTMLInputElement).value = lng.toFixed(6);
  };
  placeHome(...DEFAULT_CENTRE);
  map.on('click', (event) => {
    if (!byTestId('book-form').hidden) placeHome(event.lngLat.lng, event.lngLat.lat);
  });
  homeMarker.on('dragend', () => placeHome(homeMarker.getLngLat().lng, homeMarker.getLngLat().lat));

  if (config.bookingId) {
    track(client, map, homeMarker, config.bookingId);
    return;
  }
  byTestId('book-form').hidden = false;
  void listMyBookings(client);
  byTestId<HTMLFormElement>('book-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const priority = Number(data.get('priority'));
    const body = {
      callType: String(data.get('callType')),
      symptoms: String(data.get('symptoms') ?? ''),
      address: String(data.get('address') ?? ''),
      lat: Number(data.get('lat')),
      lng: Number(data.get('lng')),
      priority,
    };
    const error = byTestId('book-error');
    error.textContent = '';
    client
      .post<unknown>('/v1/bookings', body)
      .then((created) => {
        const id = bookingIdOf(created);
        if (!id) throw new Error('the engine answered without a booking id');
        window.history.replaceState(null, '', `/track/${encodeURIComponent(id)}`);
        form.hidden = true;
        byTestId('my-bookings').hidden = true;
        track(client, map, homeMarker, id);
      })
      .catch((failure: unknown) => {
        error.textContent =
          failure instanceof ApiProblem ? `${failure.code}: ${failure.detail}` : String(failure);
      });
  });
}

/** Follows one booking: status, the doctor's marker and the ETA from the track socket. */
function track(client: ApiClient, map: MapLibreMap, homeMarker: Marker, bookingId: string): void {
  const panel = byTestId('tracking');
  panel.hidden = false;
  panel.dataset['bookingId'] = bookingId;
  const status = byTestId('booking-status');
  const eta = byTestId('eta');
  const doctorLine = byTestId('doctor');
  const tracking = new Tracking();
  const doctorElement = element('div', { class: 'marker doctor', 'data-testid': 'doctor-marker' });
  const doctorMarker = new Marker({ element: doctorElement });
  let doctorShown = false;
  let framed = false;

  const render = () => {
    const booking = tracking.booking;
    if (booking) {
      homeMarker.setLngLat([booking.lng, booking.lat]);
      homeMarker.setDraggable(false);
      status.dataset['status'] = booking.status;
      status.textContent = STATUS_TEXT[booking.status] ?? booking.status;
      doctorLine.dataset['doctorId'] = booking.doctorId ?? '';
      doctorLine.textContent = booking.doctorId ? `Doctor ${booking.doctorId}` : '';
      byTestId('cancel').hidden = ![
        'created',
        'searching',
        'offered',
        'assigned',
        'en_route',
        'no_doctor_found',
      ].includes(booking.status);
    }
    if (tracking.etaSeconds !== undefined && !tracking.finished && booking?.status !== 'arrived') {
      eta.dataset['etaSeconds'] = String(Math.round(tracking.etaSeconds));
      eta.textContent = `Arrives in about ${formatDuration(tracking.etaSeconds)}`;
    } else {
      delete eta.dataset['etaSeconds'];
      eta.textContent = '';
    }
    const doctor = tracking.doctor;
    if (doctor) {
      doctorElement.dataset['lat'] = doctor.lat.toFixed(6);
      doctorElement.dataset['lng'] = doctor.lng.toFixed(6);
      doctorElement.dataset['positions'] = String(tracking.positions);
      doctorMarker.setLngLat([doctor.lng, doctor.lat]);
      if (!doctorShown) doctorMarker.addTo(map);
      doctorShown = true;
      if (!framed && booking) {
        framed = true;
        map.fitBounds(
          [
            [Math.min(doctor.lng, booking.lng), Math.min(doctor.lat, booking.lat)],
            [Math.max(doctor.lng, booking.lng), Math.max(doctor.lat, booking.lat)],
          ],
          { padding: 80, maxZoom: 15, duration: 0 },
        );
      }
    } else if (doctorShown) {
      doctorMarker.remove();
      doctorShown = false;
      framed = false;
    }
  };

  const connection = byTestId('connection');
  const socket = new ReconnectingSocket(
    async () =>
      socketUrl(`/v1/bookings/${encodeURIComponent(bookingId)}/track`, {
        access_token: await client.accessToken(),
      }),
    {
      open: () => {
        connection.dataset['state'] = 'open';
        connection.textContent = 'live';
      },
      message: (frame) => {
        if (tracking.apply(frame)) render();
        if (tracking.finished) socket.stop();
      },
      closed: (code) => {
        connection.dataset['state'] = 'closed';
        connection.textContent = `reconnecting (${code})`;
      },
    },
  );
  // The socket may not be there (or not yet): the booking itself still shows its status.
  client
    .get<unknown>(`/v1/bookings/${encodeURIComponent(bookingId)}`)
    .then((booking) => {
      if (!tracking.booking && tracking.apply({ type: 'status', booking: unwrap(booking) })) render();
    })
    .catch((error: unknown) => {
      status.textContent = error instanceof ApiProblem ? `${error.code}: ${error.detail}` : String(error);
    });
  byTestId('cancel').addEventListener('click', () => {
    client
      .post<unknown>(`/v1/bookings/${encodeURIComponent(bookingId)}/cancel`, {
        reason: 'cancelled by the patient',
      })
      .then((booking) => {
        if (tracking.apply({ type: 'status', booking: unwrap(booking) })) render();
      })
      .catch((error: unknown) => {
        status.textContent = error instanceof ApiProblem ? `${error.code}: ${error.detail}` : String(error);
      });
  });
  window.addEventListener('beforeunload', () => socket.stop());
}

async function listMyBookings(client: ApiClient): Promise<void> {
  const list = byTestId('my-bookings');
  try {
    const answer = await client.get<unknown>('/v1/bookings?limit=20');
    const bookings = (
      Array.isArray(answer) ? answer : ((answer as { bookings?: unknown[] }).bookings ?? [])
    ) as {
      id: string;
      status: string;
      createdAt: number;
    }[];
    list.replaceChildren(
      ...bookings.map((booking) =>
        element('li', {}, [
          element('a', { href: `/track/${encodeURIComponent(booking.id)}`, 'data-testid': 'my-booking' }, [
            `${new Date(booking.createdAt).toLocaleString()} · ${STATUS_TEXT[booking.status] ?? booking.status}`,
          ]),
        ]),
      ),
    );
    list.hidden = bookings.length === 0;
  } catch {
    list.hidden = true;
  }
}

function unwrap(value: unknown): unknown {
  return value && typeof value === 'object' && 'booking' in value
    ? (value as { booking: unknown }).booking
    : value;
}

function bookingIdOf(value: unknown): string | undefined {
  const booking = unwrap(value) as { id?: unknown } | undefined;
  return typeof booking?.id === 'string' ? booking.id : undefined;
}

main().catch((error: unknown) => {
  const target = document.querySelector<HTMLElement>('[data-testid="fatal"]');
  if (target) {
    target.textContent = `The page could not start: ${(error as Error).message}`;
    target.hidden = false;
  }
  console.error(error);
});
