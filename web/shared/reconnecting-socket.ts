/** Handlers of a {@link ReconnectingSocket}. */
export interface SocketHandlers {
  /** The socket opened (again); send the subscription here. */
  open(socket: WebSocket): void;
  /** A text frame, parsed as JSON (frames that are not JSON are dropped). */
  message(frame: unknown, socket: WebSocket): void;
  /** The socket closed; it will be reopened after `retryInMs` unless stopped. */
  closed?(code: number, retryInMs: number): void;
}

/**
 * A WebSocket that reopens itself after a close, backing off from 500 ms to 5 s. The URL is asked for on every
 * attempt, so a fresh access token is used each time.
 */
export class ReconnectingSocket {
  private socket: WebSocket | undefined;
  private stopped = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: () => Promise<string>,
    private readonly handlers: SocketHandlers,
  ) {
    void this.connect();
  }

  /** Whether the socket is open now. */
  get open(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** Sends a JSON frame; false when the socket is not open (the caller resends on the next open). */
  send(frame: unknown): boolean {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes the socket for good. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, 'page closed');
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let url: string;
    try {
      url = await this.url();
    } catch {
      this.retry(4000);
      return;
    }
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.attempt = 0;
      this.handlers.open(socket);
    });
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      let frame: unknown;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.handlers.message(frame, socket);
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (this.socket === socket) this.socket = undefined;
      this.retry(event.code);
    });
  }

  private retry(code: number): void {
    if (this.stopped) return;
    const delay = Math.min(5000, 500 * 2 ** this.attempt);
    this.attempt++;
    this.handlers.closed?.(code, delay);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}
