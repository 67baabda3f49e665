/**
 * Server-sent events over Koa (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 * The response body is a PassThrough that Koa pipes to the socket as it is written: nothing is
 * buffered on the way (the API has no compression middleware; X-Accel-Buffering asks a proxy in
 * front not to buffer either). A comment line every `heartbeatMs` keeps proxies and NATs from
 * dropping an idle connection and lets the server notice a client that went away.
 * A client too slow to read is not allowed to grow the buffer without bound: past `maxBufferBytes`
 * events are dropped, and once it has caught up it gets one `resync` event (reload what you show).
 */
import { PassThrough } from 'node:stream';
import type { ParameterizedContext } from 'koa';

export const HEARTBEAT_MS = 25_000;
export const RETRY_MS = 5_000;
const MAX_BUFFER_BYTES = 1024 * 1024;

export interface EventStreamOptions {
  heartbeatMs?: number;
  retryMs?: number;
  maxBufferBytes?: number;
}

export interface EventStream {
  send(event: string, data: unknown): void;
  /** ends the response (the client will reconnect after `retry`) */
  close(): void;
  /** runs once, when the client disconnects or close() is called */
  onClose(fn: () => void): void;
  readonly closed: boolean;
}

/** One `data:` line per line of the JSON: a payload never breaks the framing. */
export function formatEvent(event: string, data: unknown): string {
  const json = JSON.stringify(data) ?? 'null';
  return `event: ${event.replace(/[\r\n]/g, '')}\n${json.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join('')}\n`;
}

export function openEventStream(ctx: ParameterizedContext, opts: EventStreamOptions = {}): EventStream {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const maxBuffer = opts.maxBufferBytes ?? MAX_BUFFER_BYTES;
  const body = new PassThrough();
  ctx.status = 200;
  ctx.type = 'text/event-stream';
  ctx.set('Cache-Control', 'no-cache, no-transform');
  ctx.set('X-Accel-Buffering', 'no');
  ctx.req.socket.setNoDelay(true);
  ctx.req.socket.setKeepAlive(true);
  ctx.body = body;

  const closers: Array<() => void> = [];
  let closed = false;
  let overflowed = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of closers.splice(0)) fn();
    body.end();
  };
  const write = (chunk: string) => {
    if (closed) return;
    if (body.writableLength > maxBuffer) {
      overflowed = true;
      return;
    }
    body.write(chunk);
  };
  body.on('drain', () => {
    if (!overflowed) return;
    overflowed = false;
    write(formatEvent('resync', {}));
  });
  // The first bytes go out at once: the client sees the stream open before any event.
  write(`retry: ${opts.retryMs ?? RETRY_MS}\n: connected\n\n`);
  const heartbeat = setInterval(() => write(': ping\n\n'), heartbeatMs);
  heartbeat.unref();
  ctx.res.once('close', finish);
  body.once('error', finish);

  return {
    send: (event, data) => write(formatEvent(event, data)),
    close: finish,
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
    get closed() {
      return closed;
    },
  };
}
