/**
 * The SSE plumbing on its own, on a real Koa server: framing (multi-line JSON never breaks an
 * event), the heartbeat comment, the overflow guard (a client that does not read gets a bounded
 * buffer, then one resync event) and close() from the server side.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import t, { type Test } from 'tap';
import { formatEvent, openEventStream, type EventStream, type EventStreamOptions } from '../../../server/api/event-stream.js';

async function serve(t: Test, opts: EventStreamOptions): Promise<{ port: number; streams: EventStream[] }> {
  const streams: EventStream[] = [];
  const app = new Koa();
  app.use(async (ctx) => {
    streams.push(openEventStream(ctx, opts));
  });
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(async () => {
    for (const s of streams) s.close();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as AddressInfo).port, streams };
}

function get(port: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => http.get({ host: '127.0.0.1', port, path: '/' }, resolve).on('error', reject));
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('formatEvent: one data line per line, no way to inject a field', async (t) => {
  t.equal(formatEvent('message', { a: 1 }), 'event: message\ndata: {"a":1}\n\n');
  t.equal(formatEvent('x\ninjected: 1', 'two\nlines'), 'event: xinjected: 1\ndata: "two\\nlines"\n\n', 'JSON escapes newlines; the event name loses them');
  t.equal(formatEvent('e', undefined), 'event: e\ndata: null\n\n');
});

t.test('heartbeat comments, events, and close from the server', async (t) => {
  const { port, streams } = await serve(t, { heartbeatMs: 20, retryMs: 1234 });
  const res = await get(port);
  t.match(res.headers['content-type'], /^text\/event-stream/);
  t.equal(res.headers['x-accel-buffering'], 'no');
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  const ended = new Promise<void>((r) => res.on('end', () => r()));
  await until(() => (text.match(/: ping\n\n/g) ?? []).length >= 2);
  t.ok(text.startsWith('retry: 1234\n'), 'retry first');
  streams[0]!.send('message', { id: 1 });
  await until(() => text.includes('event: message\ndata: {"id":1}\n\n'));
  let closedHook = 0;
  streams[0]!.onClose(() => closedHook++);
  streams[0]!.close();
  await ended;
  t.equal(closedHook, 1, 'onClose ran once');
  t.ok(streams[0]!.closed);
  streams[0]!.send('message', { id: 2 });
  t.notMatch(text, /"id":2/, 'nothing after close');
});

t.test('a client that stops reading: bounded buffer, then resync', async (t) => {
  const { port, streams } = await serve(t, { heartbeatMs: 60_000, maxBufferBytes: 64 * 1024 });
  const res = await get(port);
  res.pause();
  await until(() => streams.length === 1);
  const big = 'x'.repeat(1000);
  for (let i = 0; i < 5000; i++) streams[0]!.send('message', { i, big }); // ~5 MB offered
  await new Promise((r) => setTimeout(r, 50));
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (c: string) => (text += c));
  res.resume();
  await until(() => text.includes('event: resync'));
  const delivered = (text.match(/event: message/g) ?? []).length;
  t.ok(delivered < 5000, `events dropped while the client did not read (${delivered} of 5000 delivered)`);
  t.ok(delivered > 0, 'what fit was delivered');
  t.equal((text.match(/event: resync/g) ?? []).length, 1, 'one resync once caught up');
  let closed = false;
  streams[0]!.onClose(() => (closed = true));
  res.destroy();
  await until(() => closed);
  t.pass('a client that goes away closes the stream');
});
