/**
 * Cross-origin resource sharing: which browser origins may call the API. The policy comes from CORS_ORIGINS; without
 * it the server sends no CORS headers at all, so browsers refuse cross-origin calls (the secure default).
 */

/** `'*'` for any origin, or the exact origins allowed (`https://dispatch.example`). */
export type CorsOrigins = '*' | readonly string[];

/** Methods and request headers a preflight allows. */
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type';
const MAX_AGE_SECONDS = '600';

/** Whether `origin` may call the API under `origins`. */
export function isOriginAllowed(origins: CorsOrigins, origin: string | undefined): boolean {
  if (origin === undefined || origin === '') return false;
  return origins === '*' || origins.includes(origin);
}

/**
 * The headers to add to an actual response to a request from `origin`: none when the origin is not allowed. With
 * specific origins `Vary: Origin` tells caches that the answer depends on it.
 */
export function corsHeadersOf(origins: CorsOrigins, origin: string | undefined): Record<string, string> {
  if (!isOriginAllowed(origins, origin)) return {};
  return origins === '*'
    ? { 'access-control-allow-origin': '*' }
    : { 'access-control-allow-origin': origin!, vary: 'Origin' };
}

/**
 * The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`): 204 with the allowed methods and
 * headers when the origin is allowed, 204 without CORS headers otherwise (the browser then refuses the call).
 */
export function preflightHeadersOf(origins: CorsOrigins, origin: string | undefined): Record<string, string> {
  const headers = corsHeadersOf(origins, origin);
  if (Object.keys(headers).length === 0) return headers;
  return {
    ...headers,
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': MAX_AGE_SECONDS,
  };
}
