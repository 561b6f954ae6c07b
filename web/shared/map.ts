import {
  Map as MapLibreMap,
  NavigationControl,
  setWorkerUrl,
  type GeoJSONSource,
  type LayerSpecification,
  type StyleSpecification,
} from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import { TRAFFIC_COLOURS } from './colours.ts';
import { cellsToFeatures, gridCellsOf, type Bbox, type FeatureCollection } from './hex-grid.ts';
import type { PageConfig } from './page-config.ts';

/** Moscow, where the simulated city is. */
export const DEFAULT_CENTRE: [number, number] = [37.6173, 55.7558];

/**
 * The base map when no MAP_STYLE_URL is configured: a plain background. The pages draw an H3 grid over it (below),
 * which gives scale and place without any tile server — these machines have no internet.
 */
export const OFFLINE_STYLE: StyleSpecification = {
  version: 8,
  name: 'offline',
  sources: {},
  layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1f4' } }],
};

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };

/** Options of {@link createMap}. */
export interface MapOptions {
  centre?: [number, number];
  zoom?: number;
  /** Keep the view in the URL's hash (`#zoom/lat/lng`), so a view can be linked and reloaded. */
  hash?: boolean;
}

/**
 * A MapLibre map in `container` with the configured base style (or {@link OFFLINE_STYLE}, also when the configured
 * one cannot be loaded), resolved once the style has loaded. With the offline style it also draws the H3 orientation
 * grid, redrawn as the view moves. MapLibre's worker comes from the engine (bundled, no CDN). The container's
 * `data-map-style` says which style shows: `configured`, `offline` or `offline-fallback`.
 */
export function createMap(
  container: HTMLElement,
  config: PageConfig,
  options: MapOptions = {},
): Promise<MapLibreMap> {
  setWorkerUrl(new URL(config.mapWorkerUrl, window.location.href).href);
  const map = new MapLibreMap({
    container,
    style: config.mapStyleUrl ?? OFFLINE_STYLE,
    center: options.centre ?? DEFAULT_CENTRE,
    zoom: options.zoom ?? 11,
    hash: options.hash ?? false,
    attributionControl: config.mapStyleUrl ? {} : false,
  });
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  container.dataset['mapStyle'] = config.mapStyleUrl ? 'configured' : 'offline';
  return new Promise((resolve, reject) => {
    let loaded = false;
    let fellBack = false;
    const onError = (event: { error?: { message?: string } }) => {
      if (config.mapStyleUrl && !fellBack && !map.isStyleLoaded()) {
        // The configured base map cannot be had (no tile server reachable from here): the offline style instead.
        fellBack = true;
        container.dataset['mapStyle'] = 'offline-fallback';
        map.setStyle(OFFLINE_STYLE);
        return;
      }
      if (!loaded) reject(new Error(event.error?.message ?? 'the map failed to load'));
    };
    map.on('error', onError);
    map.once('load', () => {
      loaded = true;
      map.off('error', onError);
      if (!config.mapStyleUrl || fellBack) addOrientationGrid(map);
      // Marked once the first frame with the grid has been drawn, so a screenshot taken then shows it.
      map.once('idle', () => (container.dataset['mapReady'] = 'true'));
      resolve(map);
    });
  });
}

/** The map's viewport as [west, south, east, north]. */
export function bboxOf(map: MapLibreMap): Bbox {
  const bounds = map.getBounds();
  return [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()];
}

/** Adds a GeoJSON source (empty) and its layers; returns a setter of its data. */
export function addGeoJsonLayers(
  map: MapLibreMap,
  source: string,
  layers: Omit<LayerSpecification, 'source'>[],
): (data: FeatureCollection) => void {
  map.addSource(source, { type: 'geojson', data: EMPTY });
  for (const layer of layers) map.addLayer({ ...layer, source } as LayerSpecification);
  return (data) =>
    (map.getSource(source) as GeoJSONSource | undefined)?.setData(
      data as Parameters<GeoJSONSource['setData']>[0],
    );
}

/** The traffic layer: H3 cells filled by congestion level (property `level`, 0–3). */
export function addTrafficLayer(
  map: MapLibreMap,
): (cells: { cell: string; level: number; speedKmh: number }[]) => void {
  const set = addGeoJsonLayers(map, 'traffic', [
    {
      id: 'traffic-fill',
      type: 'fill',
      paint: {
        'fill-color': [
          'match',
          ['get', 'level'],
          0,
          TRAFFIC_COLOURS[0]!,
          1,
          TRAFFIC_COLOURS[1]!,
          2,
          TRAFFIC_COLOURS[2]!,
          TRAFFIC_COLOURS[3]!,
        ],
        'fill-opacity': 0.35,
      },
    } as Omit<LayerSpecification, 'source'>,
  ]);
  return (cells) => {
    const byCell = new Map(cells.map((cell) => [cell.cell, cell]));
    set(
      cellsToFeatures(byCell.keys(), (cell) => ({
        level: byCell.get(cell)!.level,
        speedKmh: byCell.get(cell)!.speedKmh,
      })),
    );
  };
}

function addOrientationGrid(map: MapLibreMap): void {
  const set = addGeoJsonLayers(map, 'grid', [
    { id: 'grid-line', type: 'line', paint: { 'line-color': '#b8c0cc', 'line-width': 1 } } as Omit<
      LayerSpecification,
      'source'
    >,
  ]);
  const redraw = () => {
    const cells = gridCellsOf(bboxOf(map), map.getZoom());
    set(cellsToFeatures(cells));
    map.getContainer().dataset['gridCells'] = String(cells.length);
  };
  redraw();
  map.on('moveend', redraw);
}
