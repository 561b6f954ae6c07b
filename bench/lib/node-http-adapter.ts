/**
 * The API's {@link Router} behind node:http instead of uWebSockets.js, for the http benchmark's comparison only: the
 * same handlers and the same problem documents, without the uWS server's body limits, draining or WebSocket routes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { problemOf } from '../../api/errors.ts';
import type { ApiResponse, Method, Router } from '../../api/router.ts';

/** Starts a node:http server on 127.0.0.1 that answers every request through `router`; resolves with it and its port. */
export async function startNodeHttpServer(router: Router): Promise<{ server: Server; port: number }> {
  const server = createServer((incoming, outgoing) => {
    void answer(router, incoming, outgoing);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('node:http server has no port');
  return { server, port: address.port };
}

async function answer(router: Router, incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
  const url = new URL(incoming.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(incoming.headers)) {
    if (typeof value === 'string') headers[key] = value;
  }
  let response: ApiResponse;
  try {
    response = await router.handle({
      method: (incoming.method ?? 'GET') as Method,
      path: url.pathname,
      query: url.searchParams,
      headers,
      remoteAddress: incoming.socket.remoteAddress ?? '',
    });
  } catch (error) {
    const problem = problemOf(error, url.pathname);
    response = {
      status: problem.status,
      headers: { 'content-type': 'application/problem+json' },
      body: problem,
    };
  }
  const isText = typeof response.body === 'string';
  const responseHeaders: Record<string, string> = { ...response.headers };
  if (!('content-type' in responseHeaders) && response.body !== undefined) {
    responseHeaders['content-type'] = isText ? 'text/plain; charset=utf-8' : 'application/json';
  }
  outgoing.writeHead(response.status, responseHeaders);
  outgoing.end(
    response.body === undefined
      ? undefined
      : isText
        ? (response.body as string)
        : JSON.stringify(response.body),
  );
}
