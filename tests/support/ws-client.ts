/**
 * A small promise-based WebSocket client for the real-socket tests, on the `ws` package (Node 20 has no WebSocket
 * without a flag).
 */
import WebSocket from 'ws';

/** A frame received: text frames as strings, binary frames as bytes. */
export type Received = { binary: false; text: string } | { binary: true; bytes: Buffer };

/** An open test connection. */
export interface TestSocket {
  send(data: string | Uint8Array): void;
  /** The next frame not yet taken, waiting up to `timeoutMs`. */
  next(timeoutMs?: number): Promise<Received>;
  /** Resolves with the close code once the socket closed (by either side). */
  closed: Promise<number>;
  close(): void;
}

/** Why an upgrade was refused: the HTTP status and body the server answered. */
export class UpgradeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}: ${body}`);
  }
}

/**
 * Opens a WebSocket; resolves once open, rejects with {@link UpgradeRefused} when the server answers the upgrade with
 * an HTTP status instead.
 */
export async function openSocket(url: string, headers: Record<string, string> = {}): Promise<TestSocket> {
  const socket = new WebSocket(url, { headers, maxPayload: 16 * 1024 * 1024 });
  const queue: Received[] = [];
  const waiters: ((frame: Received) => void)[] = [];
  let resolveClosed!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
  socket.on('message', (data, isBinary) => {
    const frame: Received = isBinary
      ? {
          binary: true,
          bytes: Buffer.isBuffer(data)
            ? data
            : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]),
        }
      : { binary: false, text: data.toString() };
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else queue.push(frame);
  });
  socket.on('close', (code) => resolveClosed(code));
  await new Promise<void>((resolve, reject) => {
    socket.on('open', resolve);
    socket.on('error', reject);
    socket.on('unexpected-response', (_, response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk.toString('utf8')));
      response.on('end', () => reject(new UpgradeRefused(response.statusCode ?? 0, body)));
    });
  });
  return {
    send: (data) => socket.send(data, { binary: typeof data !== 'string' }),
    next: (timeoutMs = 10_000) => {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const waiter = (frame: Received) => {
          clearTimeout(timer);
          resolve(frame);
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no frame within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    closed,
    close: () => socket.terminate(),
  };
}
