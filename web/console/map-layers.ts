import type { Map as MapLibreMap, LayerSpecification } from 'maplibre-gl';
import { matchColour, PRIORITY_COLOURS, STATUS_COLOURS } from '../shared/colours.ts';
import { cellsToFeatures, type FeatureCollection } from '../shared/hex-grid.ts';
import { addGeoJsonLayers, addTrafficLayer } from '../shared/map.ts';
import type { LiveState } from './live-state.ts';

type Layer = Omit<LayerSpecification, 'source'>;

/** Draws a {@link LiveState} on the console's map: traffic cells, doctor counts, bookings, doctors, the selection. */
export class ConsoleMapLayers {
  private readonly setTraffic: ReturnType<typeof addTrafficLayer>;
  private readonly setCounts: (data: FeatureCollection) => void;
  private readonly setBookings: (data: FeatureCollection) => void;
  private readonly setDoctors: (data: FeatureCollection) => void;
  private readonly setSelection: (data: FeatureCollection) => void;
  private trafficShown = new Map<string, number>();

  constructor(private readonly map: MapLibreMap) {
    this.setTraffic = addTrafficLayer(map);
    this.setCounts = addGeoJsonLayers(map, 'counts', [
      {
        id: 'counts-fill',
        type: 'fill',
        paint: {
          'fill-color': '#2f6fdb',
          'fill-opacity': ['interpolate', ['linear'], ['get', 'total'], 0, 0.05, 20, 0.35, 200, 0.6],
        },
      } as Layer,
      { id: 'counts-line', type: 'line', paint: { 'line-color': '#2f6fdb', 'line-width': 0.5 } } as Layer,
    ]);
    this.setBookings = addGeoJsonLayers(map, 'bookings', [
      {
        id: 'bookings-circle',
        type: 'circle',
        paint: {
          'circle-radius': ['case', ['get', 'emergency'], 10, 7],
          'circle-color': matchColour('priority', PRIORITY_COLOURS, '#577590'),
          'circle-stroke-color': '#111',
          'circle-stroke-width': ['case', ['get', 'emergency'], 2.5, 1],
        },
      } as Layer,
    ]);
    this.setDoctors = addGeoJsonLayers(map, 'doctors', [
      {
        id: 'doctors-circle',
        type: 'circle',
        paint: {
          'circle-radius': 5,
          'circle-color': matchColour('status', STATUS_COLOURS, '#444'),
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 1,
        },
      } as Layer,
    ]);
    this.setSelection = addGeoJsonLayers(map, 'selection', [
      {
        id: 'selection-ring',
        type: 'circle',
        paint: {
          'circle-radius': 14,
          'circle-color': 'rgba(0,0,0,0)',
          'circle-stroke-color': '#111',
          'circle-stroke-width': 2,
        },
      } as Layer,
    ]);
  }

  /** Redraws everything from `state`, with rings around the selected booking and doctor. */
  draw(state: LiveState, selected: { bookingId?: string; doctorId?: string }): void {
    // Traffic changes every 30–60 s; rebuilding its polygons ten times a second would waste the frame budget.
    if (!sameTraffic(this.trafficShown, state)) {
      this.trafficShown = new Map([...state.traffic.values()].map((cell) => [cell.cell, cell.level]));
      this.setTraffic([...state.traffic.values()]);
    }
    this.setCounts(
      state.mode === 'counts'
        ? cellsToFeatures(state.counts.keys(), (cell) => ({
            total: state.counts.get(cell)!.total,
            available: state.counts.get(cell)!.available,
          }))
        : { type: 'FeatureCollection', features: [] },
    );
    this.setBookings(
      points(
        state.queue().map((booking) => ({
          lng: booking.lng,
          lat: booking.lat,
          properties: {
            id: booking.id,
            priority: booking.priority,
            emergency: booking.emergency,
            status: booking.status,
          },
        })),
      ),
    );
    this.setDoctors(
      points(
        [...state.doctors.values()].map((doctor) => ({
          lng: doctor.lng,
          lat: doctor.lat,
          properties: { id: doctor.id, status: doctor.status },
        })),
      ),
    );
    const rings: { lng: number; lat: number; properties: Record<string, string> }[] = [];
    const booking = selected.bookingId ? state.bookings.get(selected.bookingId) : undefined;
    if (booking) rings.push({ lng: booking.lng, lat: booking.lat, properties: { kind: 'booking' } });
    const doctor = selected.doctorId ? state.doctors.get(selected.doctorId) : undefined;
    if (doctor) rings.push({ lng: doctor.lng, lat: doctor.lat, properties: { kind: 'doctor' } });
    this.setSelection(points(rings));
  }

  /** Calls `picked` with the id of a doctor or booking clicked on the map. */
  onPick(picked: (kind: 'doctor' | 'booking', id: string) => void): void {
    for (const [layer, kind] of [
      ['doctors-circle', 'doctor'],
      ['bookings-circle', 'booking'],
    ] as const) {
      this.map.on('click', layer, (event) => {
        const id = event.features?.[0]?.properties?.['id'];
        if (typeof id === 'string') picked(kind, id);
      });
      this.map.on('mouseenter', layer, () => (this.map.getCanvas().style.cursor = 'pointer'));
      this.map.on('mouseleave', layer, () => (this.map.getCanvas().style.cursor = ''));
    }
  }
}

function points(
  items: { lng: number; lat: number; properties: Record<string, string | number | boolean> }[],
): FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: items.map((item) => ({
      type: 'Feature',
      properties: item.properties,
      geometry: { type: 'Point', coordinates: [item.lng, item.lat] },
    })),
  };
}

function sameTraffic(shown: ReadonlyMap<string, number>, state: LiveState): boolean {
  if (shown.size !== state.traffic.size) return false;
  for (const cell of state.traffic.values()) if (shown.get(cell.cell) !== cell.level) return false;
  return true;
}
