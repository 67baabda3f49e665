/**
 * Devices over real HTTP: login answers needsDevice until the browser is named, the device cookie
 * binds the next login, list with PI and its reasons, rename, remove (its sessions end at once;
 * removing the current one logs out and clears both cookies), per-user isolation, and the
 * once-a-minute last seen / last IP.
 */
import t from 'tap';
import { sha256 } from '../../server/store/blobs.js';
import { ALICE, BOB, startApi } from '../helpers/api-app.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

function reasonSignals(device: { pi: { reasons: Array<{ signal: string; points: number }> } }): Record<string, number> {
  return Object.fromEntries(device.pi.reasons.map((r) => [r.signal, r.points]));
}

t.test('a new browser is named once, then recognised at the next login', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  const first = await c.login(ALICE.username, ALICE.password);
  t.equal(first.body.needsDevice, true, 'no device cookie: the login asks for a device');
  t.equal(first.body.device, null);
  t.same((await c.get('/api/v1/devices/current')).body, { device: null });
  t.equal((await c.get('/api/v1/me')).body.device, null, 'GET /me says the same');
  t.same((await c.get('/api/v1/devices')).body, { items: [], unbound_sessions: 1 }, 'the unnamed session is counted');

  const bad = await c.post('/api/v1/devices/current', { name: '   ', type: 'desktop' });
  t.equal(bad.status, 400);
  t.equal(bad.body.error.code, 'validation_failed');
  t.equal((await c.post('/api/v1/devices/current', { name: 'Desk', type: 'toaster' })).status, 400, 'unknown type');
  t.equal((await c.post('/api/v1/devices/current', { name: 'Desk', type: 'desktop' }, { csrf: false })).status, 403, 'needs CSRF');

  const named = await c.post('/api/v1/devices/current', { name: ' Kitchen desktop ', type: 'desktop' }, { headers: { 'user-agent': 'TestBrowser/1.0' } });
  t.equal(named.status, 201, JSON.stringify(named.body));
  t.match(named.body.device, { name: 'Kitchen desktop', type: 'desktop', current: true, last_ip: '127.0.0.1', user_agent: 'TestBrowser/1.0' });
  t.match((await c.get('/api/v1/me')).body.device, { id: named.body.device.id, name: 'Kitchen desktop', current: true }, 'GET /me carries this device');
  const cookie = named.setCookies.find((s) => s.startsWith('caliopen_device='))!;
  t.match(cookie, /; HttpOnly/);
  t.match(cookie, /; SameSite=Strict/);
  t.match(cookie, /; Max-Age=34560000/, '400 days');
  t.notMatch(cookie, /Secure/);
  const token = c.cookies.get('caliopen_device')!;
  const row = await h.app.services.deps.db('devices').first();
  t.equal(row.token_hash, sha256(token), 'only the sha256 of the cookie is stored');
  t.equal((await h.app.services.deps.db('sessions').first()).device_id, row.id, 'the session is bound');

  const again = await c.post('/api/v1/devices/current', { name: 'Other', type: 'laptop' });
  t.equal(again.status, 400, 'a session has one device');

  const list = await c.get('/api/v1/devices');
  t.equal(list.body.unbound_sessions, 0);
  t.equal(list.body.items.length, 1);
  const d = list.body.items[0];
  t.match(d, { id: row.id, current: true, first_seen_at: h.clock.now().getTime() });
  t.same(reasonSignals(d), { NOT_VERIFIED: 0, NO_SIGNING_KEY: 0, TYPE_DESKTOP: 20, INSECURE_CONNECTION: 0, NEW_NETWORK: 0, RECENTLY_USED: 10 });
  t.match(d.pi, { score: 30, letter: 'D', colour: 'pink', axes: { trust: 0, kind: 20, use: 10 } });
  t.match(d.pi.reasons[0].help, /cannot be verified yet/, 'says why verification earns nothing');

  t.equal((await c.post('/api/v1/auth/logout')).status, 200);
  t.ok(c.cookies.has('caliopen_device'), 'logging out keeps the device cookie');
  const back = await c.login(ALICE.username, ALICE.password);
  t.equal(back.body.needsDevice, false, 'the same browser is recognised');
  t.match(back.body.device, { id: row.id, name: 'Kitchen desktop', type: 'desktop' });
  t.ok(back.setCookies.some((s) => s.startsWith(`caliopen_device=${token};`)), 'the device cookie is renewed');
  t.match((await c.get('/api/v1/devices/current')).body.device, { id: row.id, current: true });

  h.clock.advance(DAY + MINUTE);
  t.equal((await c.get('/api/v1/me')).status, 200);
  const later = (await c.get('/api/v1/devices')).body.items[0];
  t.equal(reasonSignals(later).KNOWN_NETWORK, 10, 'an address used for more than a day is known');
  t.equal(later.last_seen_at, h.clock.now().getTime(), 'last seen follows use');
});

t.test('a second browser is a second device; removing it ends its session at once', async (t) => {
  const h = await startApi(t);
  const a = h.client();
  await a.login(ALICE.username, ALICE.password);
  const desk = (await a.post('/api/v1/devices/current', { name: 'Desk', type: 'desktop' })).body.device;
  const b = h.client();
  t.equal((await b.login(ALICE.username, ALICE.password)).body.needsDevice, true);
  const phone = (await b.post('/api/v1/devices/current', { name: 'Phone', type: 'phone' })).body.device;
  t.not(phone.id, desk.id);

  const list = (await a.get('/api/v1/devices')).body.items;
  t.same(list.map((d: { name: string; current: boolean }) => [d.name, d.current]).sort(), [['Desk', true], ['Phone', false]]);
  const phoneSeen = list.find((d: { id: number }) => d.id === phone.id);
  t.equal(reasonSignals(phoneSeen).KNOWN_NETWORK, 10, 'an address another device uses is known');
  t.equal(reasonSignals(phoneSeen).TYPE_PHONE, 10);

  const renamed = await a.request('PATCH', `/api/v1/devices/${phone.id}`, { json: { name: 'Old phone', type: 'tablet' } });
  t.equal(renamed.status, 200);
  t.match(renamed.body.device, { id: phone.id, name: 'Old phone', type: 'tablet', current: false });
  t.equal((await a.request('PATCH', `/api/v1/devices/${phone.id}`, { json: { colour: 'red' } })).status, 400, 'unknown fields refused');
  t.equal((await a.request('PATCH', '/api/v1/devices/9999', { json: { name: 'x' } })).body.error.code, 'device_not_found');

  const bob = h.client();
  await bob.login(BOB.username, BOB.password);
  t.same((await bob.get('/api/v1/devices')).body.items, [], "bob sees none of alice's devices");
  const stolen = await bob.request('DELETE', `/api/v1/devices/${phone.id}`);
  t.equal(stolen.status, 404);
  t.equal(stolen.body.error.code, 'device_not_found');

  t.equal((await b.get('/api/v1/me')).status, 200);
  const removed = await a.request('DELETE', `/api/v1/devices/${phone.id}`);
  t.same(removed.body, { ok: true, current: false, sessions_ended: 1 });
  t.equal(removed.setCookies.length, 0, 'removing another device leaves our cookies alone');
  const gone = await b.get('/api/v1/me');
  t.equal(gone.status, 401, "the removed device's session ended");
  t.equal(gone.body.error.code, 'unauthorized');
  t.equal((await a.get('/api/v1/me')).status, 200, 'ours goes on');
  t.equal((await b.login(ALICE.username, ALICE.password)).body.needsDevice, true, 'the removed browser must be named again');
});

t.test('removing the current device logs out and clears both cookies', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  await c.login(ALICE.username, ALICE.password);
  const me = (await c.post('/api/v1/devices/current', { name: 'Laptop', type: 'laptop' })).body.device;
  const res = await c.request('DELETE', `/api/v1/devices/${me.id}`);
  t.same(res.body, { ok: true, current: true, sessions_ended: 1 });
  t.ok(res.setCookies.some((s) => /^caliopen_session=;.*Max-Age=0/.test(s)));
  t.ok(res.setCookies.some((s) => /^caliopen_device=;.*Max-Age=0/.test(s)));
  t.notOk(c.cookies.has('caliopen_device'));
  t.equal((await c.get('/api/v1/me')).status, 401);
  t.equal(await h.app.services.deps.db('devices').count({ n: '*' }).first().then((r) => Number(r!.n)), 0);
});

t.test('two people sharing a browser each get their own device behind the one cookie', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  await c.login(ALICE.username, ALICE.password);
  await c.post('/api/v1/devices/current', { name: 'Family PC', type: 'shared' });
  const token = c.cookies.get('caliopen_device');
  await c.post('/api/v1/auth/logout');
  const bob = await c.login(BOB.username, BOB.password);
  t.equal(bob.body.needsDevice, true, "alice's device is not bob's");
  const named = await c.post('/api/v1/devices/current', { name: 'Family PC', type: 'shared' });
  t.equal(named.status, 201);
  t.equal(c.cookies.get('caliopen_device'), token, 'the browser keeps its cookie value');
  await c.post('/api/v1/auth/logout');
  t.equal((await c.login(ALICE.username, ALICE.password)).body.needsDevice, false, 'alice is still recognised');
  const pi = (await c.get('/api/v1/devices')).body.items[0].pi;
  t.equal(reasonSignals({ pi }).TYPE_SHARED, 0);
});

t.test('last seen and last IP are written at most once a minute; old devices lose the recent-use points', async (t) => {
  const h = await startApi(t);
  const { db } = h.app.services.deps;
  const c = h.client();
  await c.login(ALICE.username, ALICE.password);
  const { id } = (await c.post('/api/v1/devices/current', { name: 'Desk', type: 'desktop' })).body.device;
  const seen = async () => (await db('devices').where({ id }).first()).last_seen_at as number;
  const t0 = await seen();
  h.clock.advance(30_000);
  await c.get('/api/v1/me');
  t.equal(await seen(), t0, 'not within the minute');
  h.clock.advance(31_000);
  await c.get('/api/v1/me');
  t.equal(await seen(), t0 + 61_000, 'after a minute');

  const other = h.client();
  await other.login(ALICE.username, ALICE.password);
  await other.post('/api/v1/devices/current', { name: 'Old laptop', type: 'laptop' });
  h.clock.advance(8 * DAY);
  const items = (await c.get('/api/v1/devices')).body.items;
  const old = items.find((d: { name: string }) => d.name === 'Old laptop');
  t.equal(reasonSignals(old).NOT_RECENTLY_USED, 0);
  t.notOk('RECENTLY_USED' in reasonSignals(old));
  t.equal(reasonSignals(items.find((d: { name: string }) => d.name === 'Desk')).RECENTLY_USED, 10, 'the device in use is recent');
});

t.test('behind HTTPS (secureCookies) the device cookie is Secure and connections count as secure', async (t) => {
  const h = await startApi(t, { config: { http: { host: '127.0.0.1', secureCookies: true } } });
  const c = h.client();
  await c.login(ALICE.username, ALICE.password);
  const named = await c.post('/api/v1/devices/current', { name: 'Desk', type: 'desktop' });
  t.match(named.setCookies.find((s) => s.startsWith('caliopen_device='))!, /; Secure/);
  const d = (await c.get('/api/v1/devices')).body.items[0];
  t.equal(reasonSignals(d).SECURE_CONNECTION, 10);
});
