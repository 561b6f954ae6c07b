import { describe, expect, it } from 'vitest';
import { Router } from '../../../api/router.ts';
import { TotError } from '../../../geo/errors.ts';

const request = (method: 'GET' | 'POST', path: string) => ({
  method,
  path,
  query: new URLSearchParams(),
  headers: {},
  remoteAddress: '127.0.0.1',
});

describe('Router', () => {
  const router = new Router()
    .get('/v1/doctors/:id/position', (r) => ({ status: 200, body: { id: r.params['id'] } }))
    .get('/v1/doctors/nearby', () => ({ status: 200, body: 'nearby' }))
    .post('/v1/fixes', () => ({ status: 202 }));

  it('matches parameters and decodes them', async () => {
    expect((await router.handle(request('GET', '/v1/doctors/doc%201/position'))).body).toEqual({
      id: 'doc 1',
    });
  });

  it('prefers exact segments over parameters whatever the order of registration', () => {
    const match = router.match('GET', '/v1/doctors/nearby');
    expect(match.kind === 'found' && match.pattern).toBe('/v1/doctors/nearby');
  });

  it('answers unknown paths with API_NOT_FOUND and wrong methods with API_METHOD_NOT_ALLOWED', async () => {
    await expect(router.handle(request('GET', '/v2/none'))).rejects.toMatchObject({ code: 'API_NOT_FOUND' });
    const error = await router.handle(request('GET', '/v1/fixes')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TotError);
    expect((error as TotError).code).toBe('API_METHOD_NOT_ALLOWED');
    expect((error as TotError).details['allowed']).toEqual(['POST']);
  });

  it('refuses a route defined twice', () => {
    expect(() => new Router().get('/a', () => ({ status: 200 })).get('/a', () => ({ status: 200 }))).toThrow(
      /twice/,
    );
  });
});
