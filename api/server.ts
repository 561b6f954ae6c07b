import uWS from 'uWebSockets.js';
import { TotError } from '../geo/errors.ts';
import type { Logger } from '../engine/logger.ts';
import type { Metrics } from '../engine/metrics.ts';
import { corsHeadersOf, preflightHeadersOf, type CorsOrigins } from './cors.ts';
import { problemOf } from './errors.ts';
import { consumeRequest, type RateLimitPolicy } from './rate-limit.ts';
import type { ApiRequest, ApiResponse, Method, Router } from './router.ts';
import type { FinishedRequest } from './auth/audit.ts';
import type { Principal } from './auth/tokens.ts';
import { attachSocketRoute, type SocketConnection, type SocketRoute } from './sockets.ts';

/** Options of {@link HttpServer}. */
export interface HttpServerOptions {
  host: string;
  port: number;
  router: Router;
  logger: Logger;
  metrics?: Metrics;
  /** Largest accepted request body in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** WebSocket endpoints served on the same app and port (api/sockets.ts). */
  sockets?: readonly SocketRoute<unknown>[];
  /**
   * Called after each HTTP response has been computed (the security audit hooks here). It must not throw; whatever it
   * returns is not awaited, so it never delays a response.
   */
  onFinished?: (finished: FinishedRequest) => unknown;
  /** Origins allowed to call from a browser (CORS_ORIGINS); unset: no CORS headers, OPTIONS is 405. */
  cors?: CorsOrigins;
  /** Per-client request budget (api/rate-limit.ts); unset: no limit. */
  rateLimit?: RateLimitPolicy;
  /**
   * Verifies a request's bearer token once, before the rate limit (api/auth/guards.ts `bearerPrincipal`): a verified
   * principal spends its user's budget and is handed to the guards on `request.principal`. Undefined for no token or
   * a bad one. Unset: no request carries a principal and the guards verify tokens themselves.
   */
  authenticate?: (headers: Record<string, string>) => Promise<Principal | undefined>;
}

const METHODS = new Set<string>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Content',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

/**
 * The HTTP server on uWebSockets.js. It copies what handlers need out of uWS's request before the first await (uWS
 * reuses it), reads bodies with a size limit, marks responses aborted when the client goes away, corks every write
 * that happens after an await, and counts requests in flight so that shutdown can drain them.
 */
export class HttpServer {
  private readonly app: uWS.TemplatedApp;
  private listenSocket: uWS.us_listen_socket | undefined;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private readonly maxBodyBytes: number;
  private readonly sockets = new Set<SocketConnection>();

  constructor(private readonly options: HttpServerOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.app = uWS.App();
    // WebSocket routes only catch upgrade requests; a plain GET on their path falls through to the router.
    for (const route of options.sockets ?? []) {
      attachSocketRoute(this.app, route, {
        logger: options.logger,
        metrics: options.metrics,
        sockets: this.sockets,
      });
    }
    this.app.any('/*', (res, req) => this.onRequest(res, req));
  }

  /** Starts listening; resolves with the bound port (useful with port 0). Throws if the port cannot be bound. */
  listen(): Promise<number> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${host}:${port} (port in use or not permitted)`));
          return;
        }
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket as unknown as uWS.us_socket));
      });
    });
  }

  /**
   * Stops accepting connections, closes open WebSockets (code 1001, going away: clients reconnect elsewhere and resend
   * what was not acknowledged), then waits up to `timeoutMs` for HTTP requests in flight; resolves true if all finished.
   */
  async close(timeoutMs: number): Promise<boolean> {
    if (this.listenSocket) {
      uWS.us_listen_socket_close(this.listenSocket);
      this.listenSocket = undefined;
    }
    for (const socket of [...this.sockets]) socket.end(1001, 'server shutting down');
    if (this.inFlight === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  private onRequest(res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    const started = process.hrtime.bigint();
    const state = { aborted: false };
    res.onAborted(() => {
      state.aborted = true;
    });
    // uWS's req is valid only until the first await: copy everything now.
    const method = req.getCaseSensitiveMethod().toUpperCase();
    const path = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    const headers: Record<string, string> = {};
    req.forEach((key, value) => {
      headers[key] = value;
    });
    const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();
    this.inFlight++;
    void this.respond(res, state, { method, path, query, headers, remoteAddress }, started).finally(() => {
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    });
  }

  private async respond(
    res: uWS.HttpResponse,
    state: { aborted: boolean },
    incoming: {
      method: string;
      path: string;
      query: URLSearchParams;
      headers: Record<string, string>;
      remoteAddress: string;
    },
    started: bigint,
  ): Promise<void> {
    let response: ApiResponse;
    let route = 'unmatched';
    let params: Record<string, string> = {};
    try {
      if (incoming.method === 'OPTIONS' && this.options.cors !== undefined) {
        // A CORS preflight: answered here, before routing, so every route allows the same methods and headers.
        response = {
          status: 204,
          headers: preflightHeadersOf(this.options.cors, incoming.headers['origin']),
        };
        return this.finish(res, state, incoming, response, route, params, started);
      }
      if (!METHODS.has(incoming.method)) {
        throw new TotError('API_METHOD_NOT_ALLOWED', `${incoming.method} is not supported`, {
          method: incoming.method,
        });
      }
      const method = incoming.method as Method;
      const match = this.options.router.match(method, incoming.path);
      if (match.kind === 'found') {
        route = match.pattern;
        params = match.params;
      }
      // uWS hands the body only to a reader attached before the first await, so it is read while the token and the
      // budget are checked; a refusal below leaves it unread (the catch keeps that rejection handled).
      const body =
        method === 'GET' || method === 'DELETE' ? undefined : this.readBody(res, state, incoming.headers);
      body?.catch(() => {});
      const principal = await this.options.authenticate?.(incoming.headers);
      if (this.options.rateLimit) {
        const { path, remoteAddress } = incoming;
        await consumeRequest(this.options.rateLimit, { path, remoteAddress, principal });
      }
      const content = body ? await body : {};
      // Fields first, spreads after: an object literal that starts with a spread and then gains a new key cost V8
      // ~0.3-0.7 KB more per request (measured), and requests come a thousand a second.
      const request: Omit<ApiRequest, 'params'> = {
        method,
        path: incoming.path,
        query: incoming.query,
        headers: incoming.headers,
        remoteAddress: incoming.remoteAddress,
        ...content,
      };
      if (principal) request.principal = principal;
      response = await this.options.router.handle(request);
    } catch (error) {
      const problem = problemOf(error, incoming.path);
      if (problem.status >= 500)
        this.options.logger.error({ err: error, path: incoming.path }, 'request failed');
      const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
      const retryAfter = error instanceof TotError ? error.details['retryAfterSeconds'] : undefined;
      if (typeof retryAfter === 'number') headers['retry-after'] = String(retryAfter);
      response = { status: problem.status, headers, body: problem };
    }
    if (this.options.cors !== undefined) {
      const cors = corsHeadersOf(this.options.cors, incoming.headers['origin']);
      if (Object.keys(cors).length > 0) response = { ...response, headers: { ...response.headers, ...cors } };
    }
    this.finish(res, state, incoming, response, route, params, started);
  }

  /** Counts, writes and logs a response: info from status 400 on, debug below (one line per request). */
  private finish(
    res: uWS.HttpResponse,
    state: { aborted: boolean },
    incoming: { method: string; path: string; remoteAddress: string; headers: Record<string, string> },
    response: ApiResponse,
    route: string,
    params: Record<string, string>,
    started: bigint,
  ): void {
    this.options.metrics?.httpRequests.inc({ method: incoming.method, route, status: response.status });
    if (this.options.onFinished) {
      const body = response.body as { code?: unknown } | undefined;
      const failed = response.status >= 400 && typeof body?.code === 'string';
      try {
        void Promise.resolve(
          this.options.onFinished({
            method: incoming.method,
            path: incoming.path,
            headers: incoming.headers,
            remoteAddress: incoming.remoteAddress,
            params,
            status: response.status,
            body: response.body,
            ...(failed ? { code: body.code as string } : {}),
          }),
        ).catch((error: unknown) => this.options.logger.warn({ err: error }, 'onFinished hook failed'));
      } catch (error) {
        this.options.logger.warn({ err: error }, 'onFinished hook failed');
      }
    }
    if (state.aborted) return;
    res.cork(() => writeResponse(res, response));
    const micros = Math.round(Number(process.hrtime.bigint() - started) / 1000);
    const line = {
      method: incoming.method,
      path: incoming.path,
      status: response.status,
      micros,
      ip: incoming.remoteAddress,
    };
    if (response.status >= 400) this.options.logger.info(line, 'request');
    else this.options.logger.debug(line, 'request');
  }

  /**
   * Reads a body within the size limit and parses it: JSON into `body`, `application/x-www-form-urlencoded` (what
   * OsmAnd-protocol trackers may post) into `form`. Any other type is refused.
   */
  private readBody(
    res: uWS.HttpResponse,
    state: { aborted: boolean },
    headers: Record<string, string>,
  ): Promise<Pick<ApiRequest, 'body' | 'form'>> {
    const declared = Number(headers['content-length'] ?? 0);
    if (declared > this.maxBodyBytes) {
      return Promise.reject(
        new TotError(
          'API_BODY_TOO_LARGE',
          `body of ${declared} bytes exceeds the limit of ${this.maxBodyBytes}`,
          {
            limit: this.maxBodyBytes,
          },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      res.onData((chunk, isLast) => {
        if (failed || state.aborted) return;
        size += chunk.byteLength;
        if (size > this.maxBodyBytes) {
          failed = true;
          reject(
            new TotError('API_BODY_TOO_LARGE', `body exceeds the limit of ${this.maxBodyBytes} bytes`, {
              limit: this.maxBodyBytes,
            }),
          );
          return;
        }
        // uWS frees the chunk after the callback: copy it.
        chunks.push(Buffer.from(new Uint8Array(chunk).slice()));
        if (!isLast) return;
        if (size === 0) {
          resolve({});
          return;
        }
        const type = headers['content-type'] ?? '';
        if (/^application\/x-www-form-urlencoded\b/i.test(type)) {
          resolve({ form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
          return;
        }
        if (!/^application\/(.+\+)?json\b/i.test(type)) {
          reject(
            new TotError(
              'API_UNSUPPORTED_MEDIA_TYPE',
              `content-type must be application/json or application/x-www-form-urlencoded, got ${JSON.stringify(type)}`,
              { field: 'content-type' },
            ),
          );
          return;
        }
        try {
          resolve({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (error) {
          reject(
            new TotError('API_MALFORMED_JSON', `body is not valid JSON: ${(error as Error).message}`, {
              field: 'body',
            }),
          );
        }
      });
    });
  }
}

function writeResponse(res: uWS.HttpResponse, response: ApiResponse): void {
  res.writeStatus(STATUS_TEXT[response.status] ?? `${response.status} Status`);
  const headers = response.headers ?? {};
  const isText = typeof response.body === 'string';
  if (!('content-type' in headers) && response.body !== undefined) {
    res.writeHeader('content-type', isText ? 'text/plain; charset=utf-8' : 'application/json');
  }
  for (const [key, value] of Object.entries(headers)) res.writeHeader(key, value);
  if (response.body === undefined) res.end();
  else res.end(isText ? (response.body as string) : JSON.stringify(response.body));
}
