/**
 * The API's doors: first-run set-up with the console code, login (and its throttle), the session
 * cookie, CSRF, logout, expiry, error shapes, security headers and /healthz, over real HTTP.
 */
import t from 'tap';
import http from 'node:http';
import zlib from 'node:zlib';
import { sha256 } from '../../server/store/blobs.js';
import { ALICE, BOB, startApi } from '../helpers/api-app.js';

/** GET with the path sent byte for byte: fetch would resolve "..", which is the point of the test. */
function rawGet(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string; bytes: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, body: bytes.toString(), bytes, headers: res.headers });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

t.test('first run: setup needs the console code, then logs the admin in, then refuses', async (t) => {
  const h = await startApi(t, { setUp: false });
  const c = h.client();
  t.same((await c.get('/api/v1/setup')).body, { needed: true });
  const code = h.app.services.setup.code!;
  t.match(code, /^[A-Z2-9]{8}$/);
  const input = { domain: 'family.test', admin: 'root', password: 'a long admin password', lang: 'fr' };

  const missing = await c.post('/api/v1/setup', { code });
  t.equal(missing.status, 400);
  t.equal(missing.body.error.code, 'validation_failed');
  t.ok(missing.body.error.fields.some((f: { path: string }) => f.path === 'domain'), 'names the missing field');

  const wrong = await c.post('/api/v1/setup', { ...input, code: 'AAAAAAAA' });
  t.equal(wrong.status, 403);
  t.equal(wrong.body.error.code, 'invalid_setup_code');
  t.equal(h.app.services.setup.code, code, 'a wrong code does not consume the real one');

  const ok = await c.post('/api/v1/setup', { ...input, code: code.toLowerCase() });
  t.equal(ok.status, 200, JSON.stringify(ok.body));
  t.equal(ok.body.user.username, 'root');
  t.equal(ok.body.user.is_admin, true);
  t.equal(ok.body.user.lang, 'fr');
  t.same(ok.body.user.addresses, ['root@family.test']);
  t.type(ok.body.csrfToken, 'string');
  t.equal(h.app.services.setup.code, null, 'the code is spent');
  const me = await c.get('/api/v1/me');
  t.equal(me.status, 200, 'the wizard left us logged in');
  t.equal(me.body.user.username, 'root');

  t.same((await c.get('/api/v1/setup')).body, { needed: false });
  const again = await h.client().post('/api/v1/setup', { ...input, code });
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'already_set_up');
});

t.test('login sets a strict session cookie; logout needs CSRF and ends the session', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  const bad = await c.post('/api/v1/auth/login', { username: ALICE.username, password: 'wrong password!' });
  t.equal(bad.status, 401);
  t.same(bad.body, { error: { code: 'invalid_credentials', message: 'wrong username or password' } });
  const nobody = await c.post('/api/v1/auth/login', { username: 'nobody', password: 'whatever at all' });
  t.same(nobody.body, bad.body, 'an unknown user looks exactly like a wrong password');
  t.equal(bad.setCookies.length, 0, 'no cookie on failure');

  const res = await c.login(ALICE.address, ALICE.password);
  t.equal(res.body.user.username, 'alice', 'logs in with an address too');
  t.notOk('password_hash' in res.body.user, 'never shows the hash');
  const cookie = res.setCookies.find((s) => s.startsWith('caliopen_session='))!;
  t.ok(cookie, 'session cookie set');
  t.match(cookie, /; HttpOnly/);
  t.match(cookie, /; SameSite=Strict/);
  t.match(cookie, /; Path=\//);
  t.match(cookie, /; Max-Age=2592000/, '30 days');
  t.notMatch(cookie, /Secure/, 'not Secure unless configured');
  const token = c.cookies.get('caliopen_session')!;
  t.equal(Buffer.from(token, 'base64url').length, 32, '32 random bytes');
  const rows = await h.app.services.deps.db('sessions').select('id');
  t.same(rows.map((r: { id: string }) => r.id), [sha256(token)], 'only the sha256 is stored');

  const noCsrf = await c.post('/api/v1/auth/logout', undefined, { csrf: false });
  t.equal(noCsrf.status, 403);
  t.equal(noCsrf.body.error.code, 'csrf_failed');
  const out = await c.post('/api/v1/auth/logout');
  t.equal(out.status, 200);
  t.match(out.setCookies[0], /caliopen_session=;.*Max-Age=0/);
  c.cookies.set('caliopen_session', token); // a stolen copy of the old cookie
  const after = await c.get('/api/v1/me');
  t.equal(after.status, 401);
  t.equal(after.body.error.code, 'unauthorized');
});

t.test('login throttle: 5 failures per (ip, username) in 15 minutes, then 429', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  for (let i = 0; i < 5; i++) {
    const r = await c.post('/api/v1/auth/login', { username: 'alice', password: `guess number ${i}` });
    t.equal(r.status, 401, `failure ${i + 1} is a plain 401`);
  }
  const blocked = await c.post('/api/v1/auth/login', ALICE);
  t.equal(blocked.status, 429, 'even the right password is refused now');
  t.equal(blocked.body.error.code, 'too_many_attempts');
  const otherUser = await c.post('/api/v1/auth/login', { username: BOB.username, password: BOB.password });
  t.equal(otherUser.status, 200, 'another username from the same ip is not blocked');
  h.clock.advance(15 * 60_000 + 1);
  t.equal((await c.post('/api/v1/auth/login', ALICE)).status, 200, 'the window passes');
});

t.test('authenticated routes need a session, unsafe methods need the CSRF token', async (t) => {
  const h = await startApi(t);
  const anon = h.client();
  for (const [method, path] of [['GET', '/api/v1/me'], ['GET', '/api/v1/discussions'], ['GET', '/api/v1/tags'], ['POST', '/api/v1/search'], ['GET', '/api/v1/messages/1']]) {
    const r = await anon.request(method!, path!, { json: method === 'POST' ? { q: 'x' } : undefined });
    t.equal(r.status, 401, `${method} ${path} → 401`);
    t.equal(r.body.error.code, 'unauthorized');
  }
  const c = h.client();
  await c.login(ALICE.username, ALICE.password);
  const none = await c.post('/api/v1/search', { q: 'hello' }, { csrf: false });
  t.equal(none.status, 403);
  t.equal(none.body.error.code, 'csrf_failed');
  const wrong = await c.post('/api/v1/search', { q: 'hello' }, { csrf: false, headers: { 'x-csrf-token': 'x'.repeat(43) } });
  t.equal(wrong.status, 403);
  const bobs = h.client();
  await bobs.login(BOB.username, BOB.password);
  const crossed = await c.post('/api/v1/search', { q: 'hello' }, { csrf: false, headers: { 'x-csrf-token': bobs.csrfToken! } });
  t.equal(crossed.status, 403, "another session's token does not do");
  t.equal((await c.post('/api/v1/search', { q: 'hello' })).status, 200);
});

t.test('/me shows the user and an honest account PI', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  const login = await c.login(ALICE.username, ALICE.password);
  const me = await c.get('/api/v1/me');
  t.equal(me.status, 200);
  t.match(me.body.user, { id: h.users.alice, username: 'alice', addresses: ['alice@example.test'], lang: 'en', timezone: 'UTC', is_admin: true });
  t.equal(me.body.csrfToken, login.body.csrfToken);
  const pi = me.body.pi;
  t.ok(pi.score >= 0 && pi.score <= 100);
  t.match(pi.letter, /^[A-E]$/);
  t.match(pi.colour, /^(red|pink|amber|green)$/);
  const bySignal = Object.fromEntries(pi.reasons.map((r: { signal: string }) => [r.signal, r]));
  t.equal(bySignal.PASSWORD_POLICY.points, 10);
  t.equal(bySignal.NO_KEY_PAIR.points, 0, 'no key pair, no points');
  t.equal(bySignal.ENCRYPTED_MAIL.detail, 'no mail in the last 30 days');
  t.type(bySignal.NO_KEY_PAIR.help, 'string');
  t.equal(pi.score, pi.reasons.reduce((s: number, r: { points: number }) => s + r.points, 0), 'the score is the sum of its reasons');
});

t.test('sessions expire after 30 days; last_seen_at is written at most once a minute', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  await c.login(ALICE.username, ALICE.password);
  const db = h.app.services.deps.db;
  const seen = async () => (await db('sessions').first('last_seen_at')).last_seen_at as number;
  const t0 = await seen();
  h.clock.advance(30_000);
  await c.get('/api/v1/me');
  t.equal(await seen(), t0, 'not rewritten within a minute');
  h.clock.advance(31_000);
  await c.get('/api/v1/me');
  t.equal(await seen(), t0 + 61_000, 'rewritten after a minute');
  h.clock.advance(30 * 24 * 3600_000);
  t.equal((await c.get('/api/v1/me')).status, 401, 'expired');
  t.equal((await db('sessions').count({ n: '*' }))[0]!.n, 0, 'and removed');
});

t.test('errors are JSON with stable codes; headers are strict; /healthz answers', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  const badJson = await c.request('POST', '/api/v1/auth/login', { body: '{"username": "alice",' });
  t.equal(badJson.status, 400);
  t.equal(badJson.body.error.code, 'invalid_json');
  const form = await c.request('POST', '/api/v1/auth/login', { body: 'username=alice', contentType: 'application/x-www-form-urlencoded' });
  t.equal(form.status, 400, 'only JSON bodies');
  await c.login(ALICE.username, ALICE.password);
  for (const path of ['/api/v1/messages/abc', '/api/v1/messages/0', '/api/v1/messages/-3', '/api/v1/discussions/1.5']) {
    const r = await c.get(path);
    t.equal(r.status, 400, `${path} → 400`);
    t.equal(r.body.error.code, 'validation_failed');
  }
  const badQuery = await c.get('/api/v1/discussions?limit=1000');
  t.equal(badQuery.status, 400);
  t.match(badQuery.body.error.message, /limit/);
  const unknown = await c.get('/api/v1/nothing-here');
  t.equal(unknown.status, 404);
  t.equal(unknown.body.error.code, 'not_found');

  const health = await h.client().get('/healthz');
  t.equal(health.status, 200);
  t.same(health.body, { ok: true, db: true });
  for (const r of [health, unknown, badJson]) {
    t.equal(r.headers.get('content-security-policy'),
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    t.equal(r.headers.get('x-content-type-options'), 'nosniff');
    t.equal(r.headers.get('referrer-policy'), 'no-referrer');
  }
});

t.test('the web app is served with the right types, and nothing outside web/', async (t) => {
  const h = await startApi(t);
  const c = h.client();
  const index = await c.get('/');
  t.equal(index.status, 200);
  t.match(index.headers.get('content-type'), /^text\/html/);
  t.match(index.raw.toString(), /<script type="module" src="\/app.js"><\/script>/);
  t.notMatch(index.raw.toString(), /<script>|<script type="importmap"/, 'no inline script (CSP)');
  for (const [path, type] of [['/app.js', /^text\/javascript/], ['/style.css', /^text\/css/], ['/i18n/fr.json', /^application\/json/], ['/vendor/preact.js', /^text\/javascript/], ['/vendor/htm.js', /^text\/javascript/]] as const) {
    const r = await c.get(path);
    t.equal(r.status, 200, `${path} served`);
    t.match(r.headers.get('content-type'), type, `${path} type`);
  }
  t.match((await c.get('/vendor/preact.js')).raw.toString(), /export\s*\{/, 'preact as an ES module');
  const plain = await rawGet(h.http, '/js/shell.js');
  t.equal(plain.headers['content-encoding'], undefined, 'no gzip unless asked');
  const etag = plain.headers.etag!;
  t.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/, 'an ETag');
  const zipped = await rawGet(h.http, '/js/shell.js', { 'accept-encoding': 'gzip, br' });
  t.equal(zipped.headers['content-encoding'], 'gzip');
  t.equal(zipped.headers.vary, 'Accept-Encoding');
  t.same(zlib.gunzipSync(zipped.bytes), plain.bytes, 'gzipped, the same bytes');
  t.ok(zipped.bytes.length < plain.bytes.length / 2, 'and smaller');
  const again = await rawGet(h.http, '/js/shell.js', { 'if-none-match': etag });
  t.equal(again.status, 304, 'unchanged: 304');
  t.equal(again.bytes.length, 0);
  const [en, fr] = [(await c.get('/i18n/en.json')).body, (await c.get('/i18n/fr.json')).body];
  t.same(Object.keys(fr).sort(), Object.keys(en).sort(), 'French and English catalogues have the same keys');
  for (const path of ['/../package.json', '/../../../../etc/passwd', '/%2e%2e/package.json', '/%2e%2e/%2e%2e/server/app.ts', '/..%5c..%5cpackage.json', '/%2e%2e%2fpackage.json', '/i18n/..%2f..%2fpackage.json', '/.git/config', '/vendor/', '/i18n/', '/%00', '/%E0%A4%A']) {
    const r = await rawGet(h.http, path);
    t.equal(r.status, 404, `${path} → 404`);
    t.notMatch(r.body, /"name": "caliopen"|\[core\]/, `${path} leaks nothing`);
  }
});
