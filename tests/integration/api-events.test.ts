/**
 * Live updates over server-sent events, read by a real HTTP client (node:http) as a browser's
 * EventSource would: the stream opens at once, a message stored through ingest arrives as an event
 * within 2 s, another user's does not, delivery progress is relayed, and the domain events'
 * listeners are gone once the client disconnects. The app still stops with a stream open.
 */
import http from 'node:http';
import t from 'tap';
import { makeMessage } from '../helpers/deps.js';
import { ALICE, BOB, startApi, type ApiHarness } from '../helpers/api-app.js';
import type { ApiClient } from '../helpers/api-client.js';

interface SseEvent {
  event: string;
  data: any;
}

interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** everything received so far, comments and fields as sent */
  text(): string;
  events: SseEvent[];
  /** the next event of this type, or rejects after `ms` */
  next(event: string, ms?: number): Promise<SseEvent>;
  close(): void;
}

function connect(port: number, client: ApiClient): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      let raw = '';
      let buffer = '';
      const events: SseEvent[] = [];
      const waiters: Array<() => void> = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (event) events.push({ event, data: JSON.parse(data) });
        }
        for (const w of waiters.splice(0)) w();
      });
      res.on('error', () => {});
      resolve({
        status: res.statusCode!,
        headers: res.headers,
        text: () => raw,
        events,
        next(event, ms = 2000) {
          const seen = events.length;
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no ${event} event within ${ms} ms`)), ms);
            const check = (from: number) => {
              const found = events.slice(from).find((e) => e.event === event);
              if (found) {
                clearTimeout(timer);
                ok(found);
              } else waiters.push(() => check(from));
            };
            check(seen);
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function loggedIn(h: ApiHarness, who: { username: string; password: string }): Promise<ApiClient> {
  const c = h.client();
  await c.login(who.username, who.password);
  return c;
}

t.test('SSE: new mail arrives live, only the owner gets it, listeners go with the client', async (t) => {
  const h = await startApi(t);
  const events = h.app.services.deps.events;
  const listeners = () => events.listenerCount('message') + events.listenerCount('delivery');
  const baseline = listeners();
  const alice = await connect(h.http, await loggedIn(h, ALICE));
  t.equal(alice.status, 200);
  t.match(alice.headers['content-type'], /^text\/event-stream/);
  t.match(alice.headers['cache-control'], /no-cache/);
  t.notOk(alice.headers['content-length'], 'streamed, not sized');
  t.notOk(alice.headers['content-encoding'], 'not compressed');
  await until(() => alice.text().includes('retry: '));
  t.match(alice.text(), /^retry: \d+\n/, 'the retry hint comes first, at once');
  t.equal(listeners(), baseline + 2, 'one message and one delivery listener for the stream');
  const bob = await connect(h.http, await loggedIn(h, BOB));
  t.equal(listeners(), baseline + 4);

  const arriving = alice.next('message');
  const id = await h.ingest(makeMessage({ subject: 'Live!', messageId: 'live@remote.test' }), [h.users.alice]);
  const e = await arriving;
  t.match(e.data, { id, subject: 'Live!', tags: ['INBOX'], is_spam: false, from: { address: 'carol@remote.test' } });
  t.type(e.data.discussionId, 'number');
  t.type(e.data.pi?.score, 'number');

  const bobsOwn = bob.next('message');
  const bobsId = await h.ingest(makeMessage({ to: BOB.address, subject: 'For Bob', messageId: 'bob-live@remote.test' }), [h.users.bob]);
  t.equal((await bobsOwn).data.id, bobsId, 'bob gets his');
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(alice.events.some((x) => x.data.id === bobsId), "alice never sees bob's message");
  t.notOk(bob.events.some((x) => x.data.id === id), "bob never saw alice's");

  const delivery = alice.next('delivery');
  events.emit('delivery', { userId: h.users.bob, messageId: bobsId, queueId: 99, domain: 'elsewhere.test', status: 'delivered' });
  events.emit('delivery', { userId: h.users.alice, messageId: id, queueId: 7, domain: 'remote.test', status: 'delivered' });
  t.same((await delivery).data, { queueId: 7, messageId: id, domain: 'remote.test', status: 'delivered' });
  t.notOk(alice.events.some((x) => x.event === 'delivery' && x.data.queueId === 99), "not bob's delivery");

  const burst = Array.from({ length: 30 }, (_, i) => makeMessage({ subject: `Burst ${i}`, messageId: `burst-${i}@remote.test` }));
  await Promise.all(burst.map((raw) => h.ingest(raw, [h.users.alice])));
  await until(() => alice.events.filter((x) => x.event === 'message' && /^Burst/.test(x.data.subject)).length === 30);
  t.pass('a burst of 30 arrives whole');

  alice.close();
  await until(() => listeners() === baseline + 2);
  t.pass("alice's listeners removed on disconnect");
  bob.close();
  await until(() => listeners() === baseline);
  t.pass('none left');

  const anon = await new Promise<number>((resolve) => http.get({ host: '127.0.0.1', port: h.http, path: '/api/v1/events' }, (res) => { res.resume(); resolve(res.statusCode!); }));
  t.equal(anon, 401, 'logged out: 401, no stream');
});

/** A client that logged in and named its device, as a browser does. */
async function onDevice(h: ApiHarness, who: { username: string; password: string }, name: string): Promise<{ client: ApiClient; deviceId: number }> {
  const client = await loggedIn(h, who);
  const res = await client.post('/api/v1/devices/current', { name, type: 'phone' });
  return { client, deviceId: res.body.device.id };
}

t.test('SSE: a session ended elsewhere (device removed, password changed) is told at once and its stream ends', async (t) => {
  const h = await startApi(t);
  const laptop = await onDevice(h, ALICE, 'Laptop');
  const phone = await onDevice(h, ALICE, 'Phone');
  const tablet = await onDevice(h, ALICE, 'Tablet');
  const bob = await loggedIn(h, BOB);
  const [laptopStream, phoneStream, tabletStream, bobStream] = await Promise.all([laptop, phone, tablet].map((d) => connect(h.http, d.client)).concat(connect(h.http, bob)));
  await until(() => [laptopStream, phoneStream, tabletStream, bobStream].every((s) => s.text().includes('retry: ')));

  const ended = phoneStream.next('ended');
  t.equal((await laptop.client.request('DELETE', `/api/v1/devices/${phone.deviceId}`)).status, 200);
  t.same((await ended).data, {}, 'the removed device is told');
  await new Promise((r) => setTimeout(r, 200));
  for (const [name, s] of [['laptop', laptopStream], ['tablet', tabletStream], ['bob', bobStream]] as const) {
    t.notOk(s.events.some((e) => e.event === 'ended'), `${name} is not`);
  }

  const tabletEnded = tabletStream.next('ended');
  t.equal((await laptop.client.post('/api/v1/me/password', { current: ALICE.password, next: 'another long passphrase' })).status, 200);
  await tabletEnded;
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(laptopStream.events.some((e) => e.event === 'ended'), 'the session that changed the password stays');
  for (const s of [laptopStream, phoneStream, tabletStream, bobStream]) s.close();
});

t.test('SSE: the app stops even with a stream open', async (t) => {
  const h = await startApi(t);
  const client = await connect(h.http, await loggedIn(h, ALICE));
  let ended = false;
  const done = new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (h.app.services.deps.events.listenerCount('message') === 0) {
        clearInterval(check);
        ended = true;
        resolve();
      }
    }, 10);
  });
  const stopped = h.app.stop().then(() => 'stopped');
  const result = await Promise.race([stopped, new Promise((r) => setTimeout(() => r('hung'), 5000))]);
  t.equal(result, 'stopped', 'stop() does not wait for the stream');
  await done;
  t.ok(ended, 'the stream was ended and its listeners removed');
  client.close();
});
