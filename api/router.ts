import type { z } from 'zod';
import { TotError } from '../geo/errors.ts';
import type { Principal } from './auth/tokens.ts';

/** HTTP methods the router serves. */
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A request as handlers see it: already copied out of uWebSockets.js, safe to use after an await. */
export interface ApiRequest {
  method: Method;
  /** Path without the query string, e.g. `/v1/doctors/doc-1/position`. */
  path: string;
  /** Path parameters by name, URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** Parsed JSON body, or undefined when there was none. */
  body?: unknown;
  /** Parsed `application/x-www-form-urlencoded` body, or undefined when the body was not a form. */
  form?: URLSearchParams;
  /** Remote address as text, for logs and audit. */
  remoteAddress: string;
  /**
   * The verified principal of the request's bearer token, set only by the server (which verifies the token once, for
   * the per-user rate limit); absent when there was no valid token or the request did not come through the server.
   * The guards use it instead of verifying again.
   */
  principal?: Principal;
}

/** A response: JSON bodies are serialised by the server; a string is sent as is with its content type. */
export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A route handler. Throwing a {@link TotError} produces its problem+json response. */
export type Handler = (request: ApiRequest) => ApiResponse | Promise<ApiResponse>;

/**
 * What the OpenAPI document (api/openapi.ts) says about a route. Schemas are the zod schemas the handler validates
 * with, so the document cannot drift from the code; they are described on their input side (query strings as strings).
 */
export interface RouteMeta {
  summary: string;
  description?: string;
  tags: string[];
  /** Path parameters, an object schema whose keys are the pattern's `:names`. */
  params?: z.ZodType;
  /** Query parameters, an object schema. */
  query?: z.ZodType;
  /** JSON request body. */
  body?: z.ZodType;
  /** Other request content types accepted besides JSON, e.g. `application/x-www-form-urlencoded`. */
  bodyTypes?: string[];
  /** The success status and what it carries, e.g. `{ status: 200, description: 'the doctor' }`. */
  response: { status: number; description: string; contentType?: string; schema?: z.ZodType };
  /** Whether the route needs credentials (a bearer token). */
  auth: boolean;
}

interface Route {
  method: Method;
  pattern: string;
  segments: readonly string[];
  handler: Handler;
  meta: RouteMeta | undefined;
}

/** A route as {@link Router.describe} reports it. */
export interface RouteDescription {
  method: Method;
  pattern: string;
  meta: RouteMeta | undefined;
}

/** The result of matching a path. */
export type Match =
  | { kind: 'found'; handler: Handler; params: Record<string, string>; pattern: string }
  | { kind: 'method-not-allowed'; allowed: Method[] }
  | { kind: 'not-found' };

/**
 * A small router: `/v1/doctors/:id/position` style patterns, exact segments win over parameters, matched segment by
 * segment. Kept apart from uWebSockets.js so that handlers are testable without sockets (see {@link Router.handle}).
 */
export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route, with `meta` for the OpenAPI document. Throws if the same method and pattern is added twice. */
  add(method: Method, pattern: string, handler: Handler, meta?: RouteMeta): this {
    if (this.routes.some((route) => route.method === method && route.pattern === pattern)) {
      throw new Error(`route ${method} ${pattern} is defined twice`);
    }
    this.routes.push({ method, pattern, segments: splitPath(pattern), handler, meta });
    // Exact segments before parameters, so /v1/doctors/nearby beats /v1/doctors/:id.
    this.routes.sort((a, b) => specificity(b.segments) - specificity(a.segments));
    return this;
  }

  get(pattern: string, handler: Handler, meta?: RouteMeta): this {
    return this.add('GET', pattern, handler, meta);
  }

  post(pattern: string, handler: Handler, meta?: RouteMeta): this {
    return this.add('POST', pattern, handler, meta);
  }

  /** Finds the handler of `method path`. */
  match(method: string, path: string): Match {
    const segments = splitPath(path);
    const allowed: Method[] = [];
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segments);
      if (!params) continue;
      if (route.method === method)
        return { kind: 'found', handler: route.handler, params, pattern: route.pattern };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
  }

  /** Runs the request through the matching handler; routing failures throw coded errors. */
  async handle(request: Omit<ApiRequest, 'params'>): Promise<ApiResponse> {
    const match = this.match(request.method, request.path);
    if (match.kind === 'not-found') {
      throw new TotError('API_NOT_FOUND', `no route for ${request.method} ${request.path}`, {
        path: request.path,
      });
    }
    if (match.kind === 'method-not-allowed') {
      throw new TotError('API_METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${request.path}`, {
        allowed: match.allowed,
      });
    }
    // params first: a literal that starts with a spread and then gains a key costs V8 more (api/server.ts).
    return match.handler({ params: match.params, ...request });
  }

  /** Every route with its metadata, in matching order (for the OpenAPI document). */
  describe(): RouteDescription[] {
    return this.routes.map(({ method, pattern, meta }) => ({ method, pattern, meta }));
  }

  /** Every route as `METHOD pattern`, for docs and tests. */
  list(): string[] {
    return this.routes.map((route) => `${route.method} ${route.pattern}`);
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

function specificity(segments: readonly string[]): number {
  return segments.reduce(
    (score, segment, index) => score + (segment.startsWith(':') ? 0 : 2 ** (16 - index)),
    0,
  );
}

function matchSegments(
  pattern: readonly string[],
  path: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== path.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = path[i]!;
    if (expected.startsWith(':')) {
      try {
        params[expected.slice(1)] = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}
