import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_CODES, problemOf, validate } from '../../../api/errors.ts';
import { TotError } from '../../../geo/errors.ts';
import { z } from 'zod';

describe('the error catalogue', () => {
  it('has unique codes, each mapped once', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(Object.keys(ERROR_CATALOGUE).sort()).toEqual([...ERROR_CODES].sort());
  });

  it('is documented in docs/API.md with the same status and title', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../../docs/API.md'), 'utf8');
    const documented = new Map(
      [...doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|\s*(.+?)\s*\|$/gm)].map((m) => [
        m[1],
        { status: Number(m[2]), title: m[3] },
      ]),
    );
    expect(Object.fromEntries(documented)).toEqual(ERROR_CATALOGUE);
  });

  it('turns a coded error into a problem naming the field, and hides unknown errors', () => {
    const problem = problemOf(
      new TotError('GEO_INVALID_COORDINATE', 'lat must be …', { field: 'lat', value: 91 }),
      '/x',
    );
    expect(problem).toMatchObject({
      status: 400,
      code: 'GEO_INVALID_COORDINATE',
      instance: '/x',
      errors: [{ field: 'lat' }],
    });
    const hidden = problemOf(new Error('secret stack detail'));
    expect(hidden).toMatchObject({ status: 500, code: 'API_INTERNAL' });
    expect(JSON.stringify(hidden)).not.toContain('secret');
  });

  it('validate() lists every field at fault', () => {
    const schema = z.object({ lat: z.number().max(90), k: z.number().int() });
    const error = (() => {
      try {
        validate(schema, { lat: 91, k: 1.5 }, 'query');
      } catch (e) {
        return e as TotError;
      }
      throw new Error('expected a validation error');
    })();
    expect(error.code).toBe('API_VALIDATION_FAILED');
    expect((error.details['errors'] as { field: string }[]).map((e) => e.field)).toEqual([
      'query.lat',
      'query.k',
    ]);
  });
});
