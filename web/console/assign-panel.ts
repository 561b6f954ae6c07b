import { ApiProblem, type ApiClient } from '../shared/api-client.ts';
import { element, present } from '../shared/dom.ts';
import { assignmentText } from './panels.ts';
import type { LiveBooking, LiveState } from './live-state.ts';

/** A candidate as GET /v1/doctors/nearby lists it. */
interface NearbyDoctor {
  id: string;
  status: string;
  distanceKm: number;
}

/** What the panel is working on. */
export interface Selection {
  bookingId?: string;
  doctorId?: string;
}

/** Options of {@link AssignPanel}. */
export interface AssignPanelOptions {
  client: ApiClient;
  state: LiveState;
  /** Called after an assignment or reassignment went through (the caller reloads the bookings). */
  changed(booking: LiveBooking | undefined): void;
}

/**
 * Manual assignment: for the selected booking, the nearest available doctors (or the doctor picked on the map) with
 * an Assign button each (POST /v1/bookings/:id/assign), and Reassign for a booking that has a doctor (POST
 * /v1/bookings/:id/reassign). The outcome, or the API's refusal, is shown in the panel.
 */
export class AssignPanel {
  readonly selection: Selection = {};
  private candidates: NearbyDoctor[] = [];
  private candidatesFor: string | undefined;
  private result = '';
  private resultKind: 'ok' | 'error' | '' = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly options: AssignPanelOptions,
  ) {}

  /** Selects a booking and loads its nearest available doctors. */
  selectBooking(bookingId: string): void {
    this.selection.bookingId = bookingId;
    this.result = '';
    this.resultKind = '';
    void this.loadCandidates();
    this.render();
  }

  /** Picks a doctor (from the map or the list) for the selected booking. */
  selectDoctor(doctorId: string): void {
    this.selection.doctorId = doctorId;
    this.render();
  }

  /** Redraws the panel from the current state. */
  render(): void {
    const booking = this.selection.bookingId
      ? this.options.state.bookings.get(this.selection.bookingId)
      : undefined;
    this.root.dataset['bookingId'] = booking?.id ?? '';
    if (!booking) {
      this.root.replaceChildren(
        element('p', { class: 'hint' }, ['Pick a booking in the queue or on the map.']),
      );
      return;
    }
    const picked = this.selection.doctorId;
    const rows = this.candidates.map((doctor) =>
      element('li', {}, [
        `${doctor.id} · ${doctor.distanceKm.toFixed(2)} km `,
        element(
          'button',
          {
            type: 'button',
            'data-testid': 'assign-doctor',
            'data-doctor-id': doctor.id,
            onclick: () => void this.assign(booking.id, doctor.id),
          },
          ['Assign'],
        ),
      ]),
    );
    this.root.replaceChildren(
      ...present(
        element('h3', {}, [`Booking ${booking.id}`]),
        element(
          'p',
          {
            'data-testid': 'assign-booking-status',
            'data-status': booking.status,
            'data-doctor-id': booking.doctorId,
          },
          [`P${booking.priority}${booking.emergency ? ' emergency' : ''} · ${assignmentText(booking)}`],
        ),
        picked
          ? element('p', {}, [
              `Picked on the map: ${picked} `,
              element(
                'button',
                {
                  type: 'button',
                  'data-testid': 'assign-picked',
                  'data-doctor-id': picked,
                  onclick: () => void this.assign(booking.id, picked),
                },
                ['Assign picked doctor'],
              ),
            ])
          : element('p', { class: 'hint' }, ['Click a doctor on the map to pick them, or choose below.']),
        element('ul', { class: 'candidates', 'data-testid': 'assign-candidates' }, rows),
        booking.doctorId
          ? element(
              'button',
              { type: 'button', 'data-testid': 'reassign', onclick: () => void this.reassign(booking.id) },
              ['Reassign (take the doctor off and search again)'],
            )
          : undefined,
        element(
          'p',
          {
            class: `result ${this.resultKind}`,
            'data-testid': 'assign-result',
            'data-outcome': this.resultKind,
          },
          [this.result],
        ),
      ),
    );
  }

  private async loadCandidates(): Promise<void> {
    const booking = this.selection.bookingId
      ? this.options.state.bookings.get(this.selection.bookingId)
      : undefined;
    if (!booking || this.candidatesFor === booking.id) return;
    this.candidatesFor = booking.id;
    try {
      const answer = await this.options.client.get<{ doctors: NearbyDoctor[] }>(
        `/v1/doctors/nearby?lat=${booking.lat}&lng=${booking.lng}&k=5&maxKm=30&status=available`,
      );
      this.candidates = answer.doctors;
    } catch (error) {
      this.candidates = [];
      this.show('error', describe(error));
    }
    this.render();
  }

  private async assign(bookingId: string, doctorId: string): Promise<void> {
    try {
      const booking = await this.options.client.post<unknown>(
        `/v1/bookings/${encodeURIComponent(bookingId)}/assign`,
        { doctorId },
      );
      this.show('ok', `${doctorId} assigned`);
      this.candidatesFor = undefined;
      this.options.changed(liveBookingOf(booking));
    } catch (error) {
      this.show('error', describe(error));
    }
  }

  private async reassign(bookingId: string): Promise<void> {
    try {
      const booking = await this.options.client.post<unknown>(
        `/v1/bookings/${encodeURIComponent(bookingId)}/reassign`,
        {
          reason: 'dispatcher override from the console',
        },
      );
      this.show('ok', 'taken off; searching again');
      this.candidatesFor = undefined;
      void this.loadCandidates();
      this.options.changed(liveBookingOf(booking));
    } catch (error) {
      this.show('error', describe(error));
    }
  }

  private show(kind: 'ok' | 'error', text: string): void {
    this.resultKind = kind;
    this.result = text;
    this.render();
  }
}

/**
 * A booking of the REST API (`{id, status, priority, emergency, lat, lng, doctorId?, createdAt, assignedEtaSeconds?}`,
 * possibly wrapped as `{booking}`) as the live state keeps it; undefined when it is not one.
 */
export function liveBookingOf(value: unknown): LiveBooking | undefined {
  const record = (
    value && typeof value === 'object' && 'booking' in value ? (value as { booking: unknown }).booking : value
  ) as Record<string, unknown> | undefined;
  if (!record || typeof record['id'] !== 'string' || typeof record['status'] !== 'string') return undefined;
  const eta = record['etaSeconds'] ?? record['assignedEtaSeconds'];
  return {
    id: record['id'],
    status: record['status'],
    priority: Number(record['priority'] ?? 4),
    emergency: Boolean(record['emergency']),
    lat: Number(record['lat']),
    lng: Number(record['lng']),
    createdAt: Number(record['createdAt'] ?? 0),
    ...(typeof record['doctorId'] === 'string' ? { doctorId: record['doctorId'] } : {}),
    ...(typeof eta === 'number' ? { etaSeconds: eta } : {}),
  };
}

function describe(error: unknown): string {
  if (error instanceof ApiProblem) return `${error.code}: ${error.detail}`;
  return error instanceof Error ? error.message : String(error);
}
