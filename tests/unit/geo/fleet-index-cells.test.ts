import * as h3 from 'h3-js';
import { describe, expect, it } from 'vitest';
import { haversineKm } from '../../../geo/distance.ts';
import { CellTable, NEIGHBORS_PER_CELL, NO_CELL } from '../../../geo/fleet-index-cells.ts';
import { FleetIndex } from '../../../geo/fleet-index.ts';

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly random point on the sphere. */
function spherePoint(r: () => number): [number, number] {
  return [(Math.asin(2 * r() - 1) * 180) / Math.PI, r() * 360 - 180];
}

describe('CellTable geometry', () => {
  it('never claims a point is in a cell h3 puts elsewhere (the upsert shortcut is sound)', () => {
    const r = random(1);
    for (const resolution of [2, 5, 9, 12]) {
      const table = new CellTable(resolution);
      let accepted = 0;
      for (let i = 0; i < 3000; i++) {
        const [lat, lng] = spherePoint(r);
        const c = table.slotFor(h3.latLngToCell(lat, lng, resolution));
        const [clat, clng] = h3.cellToLatLng(table.cellIds[c] as string);
        // Probe around the centre out to 1.2 circumradii in degrees of latitude and longitude.
        const spanDeg = ((table.outerKm[c] as number) / 111) * 1.2;
        for (let j = 0; j < 20; j++) {
          const plat = Math.max(-90, Math.min(90, clat + (r() * 2 - 1) * spanDeg));
          const scale = Math.max(Math.cos((plat * Math.PI) / 180), 1e-3);
          let plng = clng + ((r() * 2 - 1) * spanDeg) / scale;
          if (plng > 180) plng -= 360;
          if (plng < -180) plng += 360;
          if (table.containsSafely(c, plat, plng)) {
            accepted++;
            expect(h3.latLngToCell(plat, plng, resolution)).toBe(table.cellIds[c]);
          }
        }
      }
      // The shortcut must also be useful: it accepts a good share of the probes.
      expect(accepted).toBeGreaterThan(3000 * 20 * 0.15);
    }
  });

  it('never claims a point near an edge is in a cell h3 puts elsewhere (the exact edge test is sound)', () => {
    const r = random(8);
    const unit = (lat: number, lng: number): number[] => {
      const phi = (lat * Math.PI) / 180;
      const lambda = (lng * Math.PI) / 180;
      return [Math.cos(phi) * Math.cos(lambda), Math.cos(phi) * Math.sin(lambda), Math.sin(phi)];
    };
    const toLatLng = (v: number[]): [number, number] => {
      const norm = Math.hypot(...v);
      return [
        (Math.asin((v[2] as number) / norm) * 180) / Math.PI,
        (Math.atan2(v[1] as number, v[0] as number) * 180) / Math.PI,
      ];
    };
    let accepted = 0;
    let probes = 0;
    for (const resolution of [3, 9, 11]) {
      const table = new CellTable(resolution);
      for (let i = 0; i < 400; i++) {
        const [lat, lng] = spherePoint(r);
        const c = table.slotFor(h3.latLngToCell(lat, lng, resolution));
        const cell = table.cellIds[c] as string;
        const centre = unit(table.lat[c] as number, table.lng[c] as number);
        const boundary = h3.cellToBoundary(cell);
        boundary.forEach(([lat1, lng1], k) => {
          const [lat2, lng2] = boundary[(k + 1) % boundary.length] as [number, number];
          const a = unit(lat1 as number, lng1 as number);
          const b = unit(lat2, lng2);
          for (const along of [0, 0.001, 0.25, 0.5, 0.75, 0.999]) {
            const onEdge = a.map((x, j) => x * (1 - along) + (b[j] as number) * along);
            for (const inward of [-1e-6, -1e-9, 0, 1e-10, 1e-9, 3e-9, 1e-8, 1e-6, 1e-3]) {
              const [plat, plng] = toLatLng(
                onEdge.map((x, j) => x * (1 - inward) + (centre[j] as number) * inward),
              );
              const v = unit(plat, plng);
              probes++;
              if (table.containsExactly(c, v[0] as number, v[1] as number, v[2] as number)) {
                accepted++;
                expect(h3.latLngToCell(plat, plng, resolution)).toBe(cell);
              }
            }
          }
        });
      }
    }
    expect(accepted).toBeGreaterThan(probes * 0.1);
  });

  it('bounds every point of a cell by its outer radius', () => {
    const r = random(2);
    for (const resolution of [1, 4, 9]) {
      const table = new CellTable(resolution);
      for (let i = 0; i < 5000; i++) {
        const [lat, lng] = spherePoint(r);
        const c = table.slotFor(h3.latLngToCell(lat, lng, resolution));
        expect(haversineKm(lat, lng, table.lat[c] as number, table.lng[c] as number)).toBeLessThanOrEqual(
          table.outerKm[c] as number,
        );
      }
    }
  });

  it('links a cell to its h3 neighbours (5 for a pentagon)', () => {
    const table = new CellTable(9);
    for (const cell of ['8911aa7abd3ffff', '89080000003ffff']) {
      const c = table.slotFor(cell);
      table.link(c);
      const linked: string[] = [];
      for (let i = 0; i < NEIGHBORS_PER_CELL; i++) {
        const n = table.neighbors[c * NEIGHBORS_PER_CELL + i] as number;
        if (n !== NO_CELL) linked.push(table.cellIds[n] as string);
      }
      expect(linked.sort()).toEqual(
        h3
          .gridDisk(cell, 1)
          .filter((x) => x !== cell)
          .sort(),
      );
    }
  });

  it('frees empty cells and unlinks whoever pointed at them', () => {
    const table = new CellTable(9);
    const c = table.slotFor('8911aa7abd3ffff');
    table.addMember(c, 0, 0, 55.7558, 37.6173, Math.cos((55.7558 * Math.PI) / 180));
    table.link(c);
    expect(table.size).toBe(7);
    expect(table.pruneEmpty()).toBe(6);
    expect(table.size).toBe(1);
    expect(table.linked[c]).toBe(0);
    expect(table.nonEmpty).toBe(1);
  });
});

describe('FleetIndex writes', () => {
  it('skips h3 for most small moves and counts what it did', () => {
    const r = random(4);
    const index = new FleetIndex();
    const n = 2000;
    const lat = new Float64Array(n);
    const lng = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      lat[i] = 55.6 + r() * 0.2;
      lng[i] = 37.4 + r() * 0.3;
      index.upsert(`d${i}`, lat[i] as number, lng[i] as number, undefined, 0);
    }
    for (let step = 1; step <= 10; step++) {
      for (let i = 0; i < n; i++) {
        // ≈10–20 m per fix.
        lat[i] = (lat[i] as number) + (r() - 0.5) * 0.0003;
        lng[i] = (lng[i] as number) + (r() - 0.5) * 0.0005;
        index.upsert(`d${i}`, lat[i] as number, lng[i] as number, undefined, step);
        expect(index.cellAt(index.slotOf(`d${i}`))).toBe(
          h3.latLngToCell(lat[i] as number, lng[i] as number, 9),
        );
      }
    }
    const stats = index.writeStats();
    expect(stats.inserts).toBe(n);
    expect(stats.moves).toBe(10 * n);
    expect(stats.cellChanges).toBeGreaterThan(0);
    // Inserts always ask h3; moves only when leaving the safe disks of the cell and its neighbours.
    expect(stats.h3Lookups - n).toBeLessThan(0.2 * stats.moves);
  });

  it('uses a correct cell hint and ignores a wrong or invalid one', () => {
    const index = new FleetIndex();
    const right = h3.latLngToCell(55.75, 37.62, 9);
    index.upsert('a', 55.75, 37.62, undefined, 0, right);
    index.upsert('b', 55.75, 37.62, undefined, 0, h3.latLngToCell(55.8, 37.7, 9));
    index.upsert('c', 55.75, 37.62, undefined, 0, 'garbage');
    index.upsert('d', 55.75, 37.62, undefined, 0, h3.latLngToCell(55.75, 37.62, 7));
    for (const id of ['a', 'b', 'c', 'd']) expect(index.get(id)?.cell).toBe(right);
    expect(index.writeStats().h3Lookups).toBe(3);
  });

  it('keeps memory bounded when queries roam over empty ground', () => {
    const index = new FleetIndex();
    index.upsert('a', 55.75, 37.62, undefined, 0);
    const r = random(6);
    for (let q = 0; q < 400; q++) {
      const [lat, lng] = spherePoint(r);
      expect(index.nearby(lat, lng, { k: 1, maxKm: 30 }).length).toBeLessThanOrEqual(1);
      expect(index.nearby(lat, lng, { k: 1 })[0]?.id).toBe('a');
    }
    expect(index.cellCounts().cells).toBeLessThan(2 * 1 + 4096 + 300);
  });
});

describe('FleetIndex bulk paths', () => {
  it('exports every point grouped by cell, and reloads them with hints and reserved cells to the same index', () => {
    const r = random(12);
    const index = new FleetIndex();
    for (let i = 0; i < 3000; i++)
      index.upsert(`d${i}`, 55.7 + r() * 0.05, 37.5 + r() * 0.08, { status: i % 5 }, i);
    index.remove('d17');
    const n = index.size;
    const out = {
      slots: new Int32Array(n),
      lat: new Float64Array(n),
      lng: new Float64Array(n),
      status: new Uint8Array(n),
      cell: new Int32Array(n),
    };
    const cells = index.exportPoints(out);
    expect(new Set(out.slots).size).toBe(n);
    const copy = new FleetIndex();
    const perCell = new Map<number, number>();
    for (const c of out.cell) perCell.set(c, (perCell.get(c) ?? 0) + 1);
    for (const [c, count] of perCell) copy.reserveCell(cells[c] as string, count);
    for (let i = 0; i < n; i++) {
      const slot = out.slots[i] as number;
      const point = index.pointAt(slot);
      expect(point).toMatchObject({
        lat: out.lat[i],
        lng: out.lng[i],
        status: out.status[i],
        cell: cells[out.cell[i] as number],
      });
      copy.upsert(point.id, point.lat, point.lng, { status: point.status }, 0, cells[out.cell[i] as number]);
    }
    expect(copy.writeStats().h3Lookups).toBeLessThan(n * 0.01);
    expect(copy.countsByCell(9)).toEqual(index.countsByCell(9));
    const options = { k: 10, statusMask: 1 };
    expect(copy.nearby(55.72, 37.54, options).map((h) => [h.id, h.distanceKm])).toEqual(
      index.nearby(55.72, 37.54, options).map((h) => [h.id, h.distanceKm]),
    );
  });

  it('writes nearbyInto results into the caller’s arrays and refuses arrays that are too short', () => {
    const index = new FleetIndex();
    for (let i = 0; i < 20; i++) index.upsert(`d${i}`, 55.75 + i * 1e-4, 37.62, undefined, 0);
    const slots = new Int32Array(5);
    const distances = new Float64Array(5);
    expect(index.nearbyInto(55.75, 37.62, { k: 5 }, slots, distances)).toBe(5);
    expect(Array.from(slots, (slot) => index.idAt(slot))).toEqual(
      index.nearby(55.75, 37.62, { k: 5 }).map((h) => h.id),
    );
    expect(() => index.nearbyInto(55.75, 37.62, { k: 6 }, slots, distances)).toThrow(
      expect.objectContaining({ code: 'GEO_INVALID_ARGUMENT' }),
    );
  });
});
