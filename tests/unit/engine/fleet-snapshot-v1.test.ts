import { describe, expect, it } from 'vitest';
import { fleetDifferences } from '../../../engine/fleet-compare.ts';
import { Fleet } from '../../../engine/fleet.ts';
import { GOLDEN_V1_BASE64, goldenFleet } from './snapshot-v1-golden.ts';

const golden = () => new Uint8Array(Buffer.from(GOLDEN_V1_BASE64, 'base64'));

describe('Fleet snapshot version 1 (bytes of the first release)', () => {
  it('decodes to the fleet it was written from', () => {
    const restored = Fleet.fromSnapshot(golden());
    const expected = goldenFleet();
    expect(restored.size).toBe(59);
    expect(fleetDifferences(expected, restored)).toEqual([]);
    expect(restored.stats().fixesApplied).toBe(expected.stats().fixesApplied);
  });

  it('is still written byte for byte', () => {
    expect(goldenFleet().toSnapshot()).toEqual(golden());
  });
});
