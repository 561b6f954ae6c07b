/** Colour of each doctor status on the maps and in the lists (the legend shows the same). */
export const STATUS_COLOURS: Readonly<Record<string, string>> = {
  available: '#2e9d4b',
  offered: '#e0a100',
  assigned: '#2f6fdb',
  en_route: '#1f4fa8',
  on_site: '#8a3fc7',
  offline: '#8a8f98',
};

/** Colour of each congestion level 0 (free flow) … 3 (jammed) of the traffic layer. */
export const TRAFFIC_COLOURS: readonly string[] = ['#3bb273', '#f2c14e', '#f08a24', '#d7263d'];

/** Colour of a booking by triage category 1 (life-threatening) … 4 (routine). */
export const PRIORITY_COLOURS: Readonly<Record<number, string>> = {
  1: '#c1121f',
  2: '#f3722c',
  3: '#f9c74f',
  4: '#577590',
};

/** A MapLibre `match` expression picking a colour by a feature property from a table. */
export function matchColour(
  property: string,
  table: Readonly<Record<string | number, string>>,
  fallback: string,
): unknown[] {
  const pairs = Object.entries(table).flatMap(([key, colour]) => [
    Number.isNaN(Number(key)) ? key : Number(key),
    colour,
  ]);
  return ['match', ['get', property], ...pairs, fallback];
}
