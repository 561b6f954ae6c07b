import { STATUS_COLOURS } from '../shared/colours.ts';
import { element, formatDuration } from '../shared/dom.ts';
import type { LiveAlert, LiveBooking, LiveState } from './live-state.ts';

/** Most doctors the "in view" list shows (the map shows all of them). */
export const DOCTOR_LIST_LIMIT = 30;

const ALERT_TITLES: Record<LiveAlert['kind'], string> = {
  emergency: 'Emergency',
  sla_breach: 'SLA breached',
  escalation: 'Escalated',
};

/** The bookings queue, by priority, each entry selectable. */
export function renderQueue(
  list: HTMLElement,
  state: LiveState,
  selectedId: string | undefined,
  select: (bookingId: string) => void,
): void {
  const queue = state.queue();
  list.dataset['count'] = String(queue.length);
  list.replaceChildren(
    ...queue.map((booking) =>
      element(
        'li',
        {
          'data-testid': 'queue-item',
          'data-booking-id': booking.id,
          'data-priority': booking.priority,
          'data-status': booking.status,
          'data-emergency': booking.emergency,
          'data-doctor-id': booking.doctorId,
          class: `priority-${booking.priority}${booking.id === selectedId ? ' selected' : ''}`,
          onclick: () => select(booking.id),
        },
        [
          element('span', { class: 'badge' }, [`P${booking.priority}`]),
          ` ${shortId(booking.id)} · ${booking.status.replace('_', ' ')}`,
          booking.doctorId ? ` · ${booking.doctorId}` : '',
          booking.etaSeconds !== undefined ? ` · ETA ${formatDuration(booking.etaSeconds)}` : '',
        ],
      ),
    ),
  );
}

/** Alerts, newest first; the newest emergency is also shown in the banner. Each names its booking's assignment. */
export function renderAlerts(
  banner: HTMLElement,
  list: HTMLElement,
  state: LiveState,
  select: (bookingId: string) => void,
): void {
  list.dataset['count'] = String(state.alerts.length);
  list.replaceChildren(
    ...state.alerts.map((alert) => {
      const booking = state.bookings.get(alert.bookingId);
      return element(
        'li',
        {
          'data-testid': 'alert',
          'data-kind': alert.kind,
          'data-booking-id': alert.bookingId,
          'data-booking-status': booking?.status,
          'data-doctor-id': booking?.doctorId,
          class: `alert ${alert.kind}`,
          onclick: () => select(alert.bookingId),
        },
        [
          element('strong', {}, [`${ALERT_TITLES[alert.kind]} P${alert.priority}`]),
          ` ${shortId(alert.bookingId)} · ${new Date(alert.at).toLocaleTimeString()} · `,
          assignmentText(booking),
        ],
      );
    }),
  );
  const newest = state.alerts.find((alert) => alert.kind === 'emergency') ?? state.alerts[0];
  banner.hidden = newest === undefined;
  if (newest) {
    const booking = state.bookings.get(newest.bookingId);
    banner.dataset['bookingId'] = newest.bookingId;
    banner.dataset['kind'] = newest.kind;
    banner.textContent = `${ALERT_TITLES[newest.kind]}: booking ${shortId(newest.bookingId)} (P${newest.priority}) — ${assignmentText(booking)}`;
  }
}

/** Doctors in view (the first {@link DOCTOR_LIST_LIMIT} by id, so the list is stable while they move). */
export function renderDoctorList(
  list: HTMLElement,
  state: LiveState,
  selectedId: string | undefined,
  select: (doctorId: string) => void,
): void {
  const doctors = [...state.doctors.values()]
    .sort((a, b) => a.id.localeCompare(b.id))
    .slice(0, DOCTOR_LIST_LIMIT);
  list.replaceChildren(
    ...doctors.map((doctor) =>
      element(
        'li',
        {
          'data-testid': 'doctor',
          'data-doctor-id': doctor.id,
          'data-status': doctor.status,
          'data-lat': doctor.lat.toFixed(6),
          'data-lng': doctor.lng.toFixed(6),
          class: doctor.id === selectedId ? 'selected' : undefined,
          onclick: () => select(doctor.id),
        },
        [
          element('span', { class: 'dot', style: `background:${STATUS_COLOURS[doctor.status] ?? '#444'}` }),
          ` ${doctor.id} · ${doctor.status.replace('_', ' ')} · ${doctor.lat.toFixed(4)}, ${doctor.lng.toFixed(4)}`,
        ],
      ),
    ),
  );
}

/** "assigned to doc-7", "searching", or "unknown booking". */
export function assignmentText(booking: LiveBooking | undefined): string {
  if (!booking) return 'waiting for the booking';
  if (booking.doctorId) return `${booking.status.replace('_', ' ')}: ${booking.doctorId}`;
  return booking.status.replace('_', ' ');
}

function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}
