import { describe, expect, it } from 'vitest';
import {
  batchOfBody,
  batchOfFrame,
  checkFixes,
  MAX_FIXES_PER_BATCH,
} from '../../../api/gateway/fix-intake.ts';
import { TotError } from '../../../geo/errors.ts';
import { NOW } from '../../support/gateway-fixture.ts';

const device = { deviceId: 'phone-1', doctorId: 'doc-1' };
const fix = { lat: 55.75, lng: 37.61, ts: NOW - 1000 };

function thrown(run: () => unknown): TotError {
  try {
    run();
  } catch (error) {
    if (error instanceof TotError) return error;
    throw error;
  }
  throw new Error('expected a TotError');
}

describe('checkFixes', () => {
  it("fills in the device's doctor and keeps the fields of the stream schema only", () => {
    const intake = checkFixes(
      [
        { ...fix, speed: 3, extra: 'dropped' },
        { ...fix, doctorId: 'doc-1', seq: 2 },
      ],
      device,
      NOW,
    );
    expect(intake.rejected).toEqual([]);
    expect(intake.fixes).toEqual([
      { doctorId: 'doc-1', ...fix, speed: 3 },
      { doctorId: 'doc-1', ...fix, seq: 2 },
    ]);
  });

  it('rejects a fix for another doctor with API_DOCTOR_MISMATCH, keeping the good ones beside it', () => {
    const intake = checkFixes([fix, { ...fix, doctorId: 'doc-2' }, fix], device, NOW);
    expect(intake.fixes).toHaveLength(2);
    expect(intake.rejected).toEqual([
      {
        index: 1,
        code: 'API_DOCTOR_MISMATCH',
        field: 'doctorId',
        message: expect.stringContaining('"doc-2"') as string,
      },
    ]);
  });

  it.each([
    [{ ...fix, lat: 91 }, 'lat', 'Too big'],
    [{ ...fix, lng: '37.6' }, 'lng', 'must be a number'],
    [{ ...fix, ts: 1.5 }, 'ts', 'must be an integer'],
    [{ lat: 1, lng: 2 }, 'ts', 'must be a number'],
    [{ ...fix, speed: -1 }, 'speed', 'Too small'],
    [{ ...fix, doctorId: '' }, 'doctorId', 'must not be empty'],
    [{ ...fix, ts: NOW - 25 * 3_600_000 }, 'ts', 'more than 24 h in the past'],
    [{ ...fix, ts: NOW + 6 * 60_000 }, 'ts', "check the phone's clock"],
    [[1, 2], '(fix)', 'must be an object'],
    [null, '(fix)', 'must be an object'],
  ])('rejects %j naming %s', (candidate, field, message) => {
    const intake = checkFixes([candidate], device, NOW);
    expect(intake.fixes).toEqual([]);
    expect(intake.rejected[0]).toMatchObject({ index: 0, code: 'API_VALIDATION_FAILED', field });
    expect(intake.rejected[0]!.message).toContain(message);
  });

  it('lists every bad field of a fix', () => {
    const intake = checkFixes([{ ...fix, lat: 91, heading: 400 }], device, NOW);
    expect(intake.rejected.map((rejection) => rejection.field)).toEqual(['lat', 'heading']);
  });
});

describe('batchOfFrame', () => {
  it('reads one fix, an array, or the fixes envelope with its batch id', () => {
    expect(batchOfFrame(fix)).toEqual({ candidates: [fix] });
    expect(batchOfFrame([fix, fix])).toEqual({ candidates: [fix, fix] });
    expect(batchOfFrame({ type: 'fixes', batchId: 'b-7', fixes: [fix] })).toEqual({
      candidates: [fix],
      batchId: 'b-7',
    });
    expect(batchOfFrame({ type: 'fixes', batchId: 7, fixes: [fix] })).toEqual({
      candidates: [fix],
      batchId: 7,
    });
  });

  it.each([
    [[], 'API_VALIDATION_FAILED', 'fixes'],
    [{ type: 'fixes', fixes: [] }, 'API_VALIDATION_FAILED', 'fixes'],
    [{ type: 'fixes', fixes: 'x' }, 'API_VALIDATION_FAILED', 'fixes'],
    [{ type: 'ping' }, 'API_VALIDATION_FAILED', 'type'],
    [{ type: 'fixes', batchId: -1, fixes: [{}] }, 'API_VALIDATION_FAILED', 'batchId'],
    [42, 'API_VALIDATION_FAILED', '(frame)'],
    [Array.from({ length: MAX_FIXES_PER_BATCH + 1 }, () => fix), 'API_BATCH_TOO_LARGE', 'fixes'],
  ])('refuses %j with %s naming %s', (frame, code, field) => {
    const error = thrown(() => batchOfFrame(frame));
    expect(error.code).toBe(code);
    const named =
      (error.details['errors'] as { field: string }[] | undefined)?.[0]?.field ?? error.details['field'];
    expect(named).toBe(field);
  });
});

describe('batchOfBody', () => {
  it('reads {fixes, batchId?}', () => {
    expect(batchOfBody({ fixes: [fix], batchId: 'x' })).toEqual({ candidates: [fix], batchId: 'x' });
  });

  it.each([
    [undefined, 'API_VALIDATION_FAILED', 'body'],
    [[fix], 'API_VALIDATION_FAILED', 'body'],
    [{ fixes: [] }, 'API_VALIDATION_FAILED', 'body.fixes'],
    [{ fix }, 'API_VALIDATION_FAILED', 'body.fixes'],
    [{ fixes: [fix], batchId: '' }, 'API_VALIDATION_FAILED', 'body.batchId'],
    [
      { fixes: Array.from({ length: MAX_FIXES_PER_BATCH + 1 }, () => fix) },
      'API_BATCH_TOO_LARGE',
      'body.fixes',
    ],
  ])('refuses %j with %s naming %s', (body, code, field) => {
    const error = thrown(() => batchOfBody(body));
    expect(error.code).toBe(code);
    const named =
      (error.details['errors'] as { field: string }[] | undefined)?.[0]?.field ?? error.details['field'];
    expect(named).toBe(field);
  });
});
