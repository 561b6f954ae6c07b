import { Marker } from 'maplibre-gl';
import '../shared/styles.css';
import { ApiClient, ApiProblem, socketUrl } from '../shared/api-client.ts';
import { byTestId, element, formatDuration, present } from '../shared/dom.ts';
import { signIn } from '../shared/login-form.ts';
import { createMap } from '../shared/map.ts';
import { readPageConfig } from '../shared/page-config.ts';
import { ReconnectingSocket } from '../shared/reconnecting-socket.ts';
import { FixOutbox, fixOf } from './phone-link.ts';

/** An offer as the phone socket sends it (dispatch/booking-types.ts `Offer`). */
interface Offer {
  type: 'offer';
  bookingId: string;
  priority: number;
  emergency: boolean;
  callType: string;
  address: string;
  lat: number;
  lng: number;
  symptoms: string;
  etaSeconds: number;
  expiresAt: number;
}

/** The visit steps a doctor reports, in order, by the booking status they follow. */
const NEXT_STEP: Record<string, { action: string; label: string } | undefined> = {
  assigned: { action: 'arrived', label: 'I have arrived' },
  en_route: { action: 'arrived', label: 'I have arrived' },
  arrived: { action: 'start', label: 'Start the visit' },
  in_progress: { action: 'complete', label: 'Complete the visit' },
};

async function main(): Promise<void> {
  const config = readPageConfig();
  const client = new ApiClient('tot.doctor');
  const session = await signIn(client, byTestId('login'), { roles: ['doctor'], title: 'Doctor' });
  byTestId('login').hidden = true;
  byTestId('user').textContent = session.user.displayName;
  byTestId('logout').addEventListener(
    'click',
    () => void client.logout().then(() => window.location.reload()),
  );
  byTestId('app').hidden = false;

  const map = await createMap(byTestId('map'), config, { zoom: 14 });
  const me = element('div', { class: 'marker doctor', 'data-testid': 'me-marker' });
  const meMarker = new Marker({ element: me });
  let placed = false;
  const offers = new Map<string, Offer>();
  const offerMarkers = new Map<string, Marker>();
  const outbox = new FixOutbox();
  const fixStatus = byTestId('fix-status');
  const offerList = byTestId('offers');
  const connection = byTestId('connection');
  const visit = byTestId('visit');

  const renderFixes = () => {
    fixStatus.dataset['sent'] = String(outbox.sent);
    fixStatus.dataset['acknowledged'] = String(outbox.acknowledged);
    fixStatus.dataset['waiting'] = String(outbox.waiting);
    fixStatus.textContent = `fixes sent ${outbox.sent}, accepted ${outbox.acknowledged}, waiting ${outbox.waiting}${outbox.rejected ? `, rejected ${outbox.rejected}` : ''}`;
  };
  const renderOffers = () => {
    // A lapsed offer cannot be accepted any more (the dispatcher has moved on): it leaves the list by itself.
    for (const [bookingId, offer] of offers) {
      if (offer.expiresAt + 2_000 < Date.now()) {
        offers.delete(bookingId);
        offerMarkers.get(bookingId)?.remove();
        offerMarkers.delete(bookingId);
      }
    }
    offerList.dataset['count'] = String(offers.size);
    offerList.replaceChildren(
      ...[...offers.values()].map((offer) =>
        element(
          'li',
          {
            'data-testid': 'offer',
            'data-booking-id': offer.bookingId,
            'data-priority': offer.priority,
            'data-emergency': offer.emergency,
            class: `offer priority-${offer.priority}`,
          },
          [
            element('strong', {}, [
              `${offer.emergency ? 'EMERGENCY ' : ''}P${offer.priority} · ${offer.callType.replace('_', ' ')}`,
            ]),
            element('div', {}, [offer.address]),
            element('div', {}, [offer.symptoms]),
            element('div', {}, [
              `ETA ${formatDuration(offer.etaSeconds)} · answer within ${formatDuration((offer.expiresAt - Date.now()) / 1000)}`,
            ]),
            element(
              'button',
              {
                type: 'button',
                'data-testid': 'offer-accept',
                onclick: () => answer(offer.bookingId, 'accept'),
              },
              ['Accept'],
            ),
            element(
              'button',
              {
                type: 'button',
                'data-testid': 'offer-decline',
                class: 'secondary',
                onclick: () => answer(offer.bookingId, 'decline'),
              },
              ['Decline'],
            ),
          ],
        ),
      ),
    );
  };
  const dropOffer = (bookingId: string) => {
    offers.delete(bookingId);
    offerMarkers.get(bookingId)?.remove();
    offerMarkers.delete(bookingId);
    renderOffers();
  };
  const showVisit = (booking: { id: string; status: string; address?: string } | undefined) => {
    if (!booking || ['completed', 'cancelled'].includes(booking.status)) {
      visit.hidden = true;
      visit.dataset['bookingId'] = '';
      return;
    }
    visit.hidden = false;
    visit.dataset['bookingId'] = booking.id;
    visit.dataset['status'] = booking.status;
    const step = NEXT_STEP[booking.status];
    visit.replaceChildren(
      ...present(
        element('h3', {}, [`Visit ${booking.id}`]),
        element('p', {}, [
          `${booking.status.replace('_', ' ')}${booking.address ? ` · ${booking.address}` : ''}`,
        ]),
        step
          ? element(
              'button',
              {
                type: 'button',
                'data-testid': `visit-${step.action}`,
                onclick: () => void report(booking.id, step.action),
              },
              [step.label],
            )
          : undefined,
      ),
    );
  };
  const report = async (bookingId: string, action: string) => {
    try {
      showVisit(
        unwrapBooking(await client.post<unknown>(`/v1/bookings/${encodeURIComponent(bookingId)}/${action}`)),
      );
    } catch (error) {
      byTestId('notice').textContent =
        error instanceof ApiProblem ? `${error.code}: ${error.detail}` : String(error);
    }
  };
  const answer = (bookingId: string, decision: 'accept' | 'decline') => {
    const frame =
      decision === 'accept'
        ? { type: 'accept', bookingId }
        : { type: 'decline', bookingId, reason: 'declined on the page' };
    if (socket.send(frame)) return;
    // Without the socket the same answer goes over REST.
    client
      .post<unknown>(
        `/v1/bookings/${encodeURIComponent(bookingId)}/${decision}`,
        decision === 'decline' ? { reason: 'declined on the page' } : {},
      )
      .then((booking) => {
        dropOffer(bookingId);
        if (decision === 'accept') showVisit(unwrapBooking(booking));
      })
      .catch((error: unknown) => {
        byTestId('notice').textContent =
          error instanceof ApiProblem ? `${error.code}: ${error.detail}` : String(error);
      });
  };

  const socket = new ReconnectingSocket(
    async () => socketUrl('/v1/doctor', { access_token: await client.accessToken() }),
    {
      open: () => {
        connection.dataset['state'] = 'open';
        connection.textContent = 'connected';
        outbox.resend((frame) => socket.send(frame));
        renderFixes();
      },
      message: (frame) => {
        const value = frame as Record<string, unknown>;
        if (outbox.acknowledge(value)) {
          renderFixes();
          return;
        }
        if (value['type'] === 'offer') {
          const offer = value as unknown as Offer;
          offers.set(offer.bookingId, offer);
          const pin = element('div', {
            class: `marker booking priority-${offer.priority}`,
            'data-testid': 'offer-marker',
          });
          offerMarkers.get(offer.bookingId)?.remove();
          offerMarkers.set(
            offer.bookingId,
            new Marker({ element: pin }).setLngLat([offer.lng, offer.lat]).addTo(map),
          );
          renderOffers();
          return;
        }
        if (value['type'] === 'assigned' && typeof value['bookingId'] === 'string') {
          // Given by a dispatcher without an offer: it is the current visit at once.
          dropOffer(value['bookingId']);
          showVisit({
            id: value['bookingId'],
            status: 'assigned',
            ...(typeof value['address'] === 'string' ? { address: value['address'] } : {}),
          });
          return;
        }
        if (value['type'] === 'offer_withdrawn' && typeof value['bookingId'] === 'string') {
          dropOffer(value['bookingId']);
          if (visit.dataset['bookingId'] === value['bookingId']) showVisit(undefined);
          byTestId('notice').textContent =
            `Booking ${value['bookingId']} withdrawn: ${String(value['reason'] ?? '')}`;
          return;
        }
        // Replies to accept/decline name their booking; an accepted one becomes the current visit.
        const bookingId = typeof value['bookingId'] === 'string' ? value['bookingId'] : undefined;
        if (bookingId && offers.has(bookingId)) {
          if (value['type'] === 'error') {
            byTestId('notice').textContent = `${String(value['code'])}: ${String(value['detail'] ?? '')}`;
          }
          const decided = offers.get(bookingId);
          dropOffer(bookingId);
          if (value['type'] !== 'error' && value['decision'] !== 'decline' && value['action'] !== 'decline') {
            const booking = unwrapBooking(value['booking']);
            showVisit(
              booking ?? {
                id: bookingId,
                status: typeof value['status'] === 'string' ? value['status'] : 'assigned',
                ...(decided ? { address: decided.address } : {}),
              },
            );
          }
          return;
        }
        if (value['type'] === 'error')
          byTestId('notice').textContent = `${String(value['code'])}: ${String(value['detail'] ?? '')}`;
      },
      closed: (code) => {
        connection.dataset['state'] = 'closed';
        connection.textContent = `reconnecting (${code})`;
      },
    },
  );

  // A passing failure (no fix for a while) is shown until the next position clears it.
  let geolocationProblem = false;
  if (!('geolocation' in navigator)) {
    byTestId('notice').textContent = 'This browser has no geolocation: fixes cannot be sent.';
  } else {
    navigator.geolocation.watchPosition(
      (position) => {
        if (geolocationProblem) {
          geolocationProblem = false;
          byTestId('notice').textContent = '';
        }
        const fix = fixOf(position);
        outbox.add(fix, (frame) => socket.send(frame));
        fixStatus.dataset['lastLat'] = fix.lat.toFixed(6);
        fixStatus.dataset['lastLng'] = fix.lng.toFixed(6);
        meMarker.setLngLat([fix.lng, fix.lat]);
        if (!placed) {
          meMarker.addTo(map);
          map.jumpTo({ center: [fix.lng, fix.lat] });
          placed = true;
        }
        renderFixes();
      },
      (error) => {
        geolocationProblem = true;
        byTestId('notice').textContent =
          `Geolocation (code ${error.code}): ${error.message || 'no position'}`;
      },
      { enableHighAccuracy: true, maximumAge: 0 },
    );
  }

  // The visit in progress, if the doctor reloads the page during one.
  client
    .get<unknown>('/v1/bookings?limit=5')
    .then((answer) => {
      const list = (
        Array.isArray(answer) ? answer : ((answer as { bookings?: unknown[] }).bookings ?? [])
      ).map(unwrapBooking);
      showVisit(
        list.find(
          (booking) =>
            booking && !['completed', 'cancelled', 'searching', 'no_doctor_found'].includes(booking.status),
        ),
      );
    })
    .catch(() => {});
  setInterval(renderOffers, 1000);
  window.addEventListener('beforeunload', () => socket.stop());
}

function unwrapBooking(value: unknown): { id: string; status: string; address?: string } | undefined {
  const record = (
    value && typeof value === 'object' && 'booking' in value ? (value as { booking: unknown }).booking : value
  ) as { id?: unknown; status?: unknown; address?: unknown } | undefined;
  if (!record || typeof record.id !== 'string' || typeof record.status !== 'string') return undefined;
  return {
    id: record.id,
    status: record.status,
    ...(typeof record.address === 'string' ? { address: record.address } : {}),
  };
}

main().catch((error: unknown) => {
  const target = document.querySelector<HTMLElement>('[data-testid="fatal"]');
  if (target) {
    target.textContent = `The page could not start: ${(error as Error).message}`;
    target.hidden = false;
  }
  console.error(error);
});
