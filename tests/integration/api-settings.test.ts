/**
 * The account page's API: profile, language, time zone and display preferences (PATCH /me, strict
 * validation), the password change (current password checked and throttled, other sessions ended,
 * this one kept), and the PI help built from the server's own tables (GET /help/pi).
 */
import t from 'tap';
import { WEIGHTS } from '../../server/privacy/weights.js';
import { ACCOUNT_WEIGHTS } from '../../server/accounts/account-pi.js';
import { DEVICE_WEIGHTS } from '../../server/accounts/device-pi.js';
import { DEFAULT_SETTINGS } from '../../server/accounts/settings.js';
import { ALICE, BOB, startApi } from '../helpers/api-app.js';

t.test('PATCH /me: profile, language, time zone, display settings; unknown keys refused', async (t) => {
  const h = await startApi(t);
  const alice = h.client();
  await alice.login(ALICE.username, ALICE.password);
  const before = await alice.get('/api/v1/me');
  t.same(before.body.user.settings, DEFAULT_SETTINGS, 'defaults before any change');

  const res = await alice.request('PATCH', '/api/v1/me', { json: { display_name: ' Alice Martin ', lang: 'fr', timezone: 'europe/paris', settings: { density: 'compact', show_images: 'never' } } });
  t.equal(res.status, 200);
  t.match(res.body.user, { username: 'alice', display_name: 'Alice Martin', lang: 'fr', timezone: 'Europe/Paris' }, 'zone in its canonical spelling');
  t.same(res.body.user.settings, { ...DEFAULT_SETTINGS, density: 'compact', show_images: 'never' });
  const again = await alice.request('PATCH', '/api/v1/me', { json: { settings: { theme: 'dark' } } });
  t.same(again.body.user.settings, { ...DEFAULT_SETTINGS, density: 'compact', show_images: 'never', theme: 'dark' }, 'settings merge key by key');
  t.match((await alice.get('/api/v1/me')).body.user, { display_name: 'Alice Martin', lang: 'fr', timezone: 'Europe/Paris', settings: { theme: 'dark' } }, 'stored');
  t.equal((await alice.request('PATCH', '/api/v1/me', { json: { display_name: null } })).body.user.display_name, null, 'display name cleared');

  const bad: Array<[unknown, string]> = [
    [{ lang: 'de' }, 'a language we have no catalogue for'],
    [{ timezone: 'Mars/Olympus_Mons' }, 'an unknown zone'],
    [{ timezone: '+01:00' }, 'an offset is not a zone'],
    [{ settings: { theme: 'neon' } }, 'a theme we do not have'],
    [{ settings: { show_images: 'sometimes' } }, 'show_images outside never/ask/always'],
    [{ settings: { font: 'Comic Sans' } }, 'an unknown setting'],
    [{ is_admin: true }, 'an unknown field (no self-promotion)'],
    [{ username: 'mallory' }, 'the username is not a profile field'],
  ];
  for (const [json, what] of bad) {
    const r = await alice.request('PATCH', '/api/v1/me', { json });
    t.equal(r.status, 400, `refused: ${what}`);
    t.equal(r.body.error.code, 'validation_failed');
  }
  const row = await h.app.services.deps.db('users').where({ id: h.users.alice }).first();
  t.match(row, { is_admin: 1, username: 'alice', timezone: 'Europe/Paris' }, 'nothing of the refused changes stuck');
  t.equal((await alice.request('PATCH', '/api/v1/me', { json: { lang: 'en' }, csrf: false })).status, 403, 'CSRF header required');
});

t.test('POST /me/password: checks the current one, ends the other sessions, keeps this one', async (t) => {
  const h = await startApi(t);
  const here = h.client();
  await here.login(ALICE.username, ALICE.password);
  const phone = h.client();
  await phone.login(ALICE.username, ALICE.password);
  const bob = h.client();
  await bob.login(BOB.username, BOB.password);

  const wrong = await here.post('/api/v1/me/password', { current: 'not my password', next: 'a brand new password' });
  t.equal(wrong.status, 403);
  t.equal(wrong.body.error.code, 'wrong_password');
  const short = await here.post('/api/v1/me/password', { current: ALICE.password, next: 'short' });
  t.equal(short.status, 400, 'the minimum length of users.ts applies');
  t.match(short.body.error.message, /at least 10 characters/);
  t.equal((await here.post('/api/v1/me/password', { current: ALICE.password, next: ALICE.password })).status, 400, 'same as before');
  t.equal((await here.post('/api/v1/me/password', { current: ALICE.password, next: 'x'.repeat(20), extra: 1 })).status, 400, 'unknown keys refused');
  t.equal((await phone.get('/api/v1/me')).status, 200, 'nothing changed yet');

  const next = 'correct horse battery staple';
  const ok = await here.post('/api/v1/me/password', { current: ALICE.password, next });
  t.equal(ok.status, 200);
  t.same(ok.body, { ok: true, sessions_ended: 1 });
  t.equal((await here.get('/api/v1/me')).status, 200, 'this session stays');
  t.equal((await phone.get('/api/v1/me')).status, 401, 'the other session is over');
  t.equal((await bob.get('/api/v1/me')).status, 200, "another user's session is untouched");
  t.match((await h.app.services.deps.db('users').where({ id: h.users.alice }).first()).password_hash, /^scrypt\$/, 'stored hashed with scrypt');

  const old = h.client();
  t.equal((await old.post('/api/v1/auth/login', { username: ALICE.username, password: ALICE.password })).status, 401, 'the old password no longer opens');
  t.equal((await old.post('/api/v1/auth/login', { username: ALICE.username, password: next })).status, 200, 'the new one does');

  for (let i = 0; i < 5; i++) await here.post('/api/v1/me/password', { current: `guess ${i}`, next: 'whatever whatever' });
  const throttled = await here.post('/api/v1/me/password', { current: next, next: 'another new password' });
  t.equal(throttled.status, 429, 'guessing the current password is throttled, even with the right one after');
  t.equal(throttled.body.error.code, 'too_many_attempts');
});

t.test('GET /help/pi: the message, account and device weights and the bands the server scores with', async (t) => {
  const h = await startApi(t);
  const anon = h.client();
  const en = await anon.get('/api/v1/help/pi?lang=en');
  t.equal(en.status, 200, 'public: the login screen links to it');
  t.equal(en.body.lang, 'en');
  t.same(en.body.letters.map((b: { key: string; min: number; max: number }) => [b.key, b.min, b.max]), [['A', 81, 100], ['B', 61, 80], ['C', 41, 60], ['D', 21, 40], ['E', 0, 20]], 'SPEC §7 letters');
  t.same(en.body.colours.map((b: { key: string; min: number; max: number }) => [b.key, b.min, b.max]), [['green', 75, 100], ['amber', 50, 74], ['pink', 25, 49], ['red', 0, 24]], 'SPEC §7 colours');
  t.equal(en.body.message.signals.length, Object.keys(WEIGHTS).length, 'every message signal');
  for (const s of en.body.message.signals) {
    const w = WEIGHTS[s.signal as keyof typeof WEIGHTS];
    t.same([s.axis, s.points, s.help], [w.axis, w.points, w.help.en], s.signal);
  }
  t.same(en.body.account.signals.map((s: { signal: string; points: number }) => [s.signal, s.points]), Object.entries(ACCOUNT_WEIGHTS).map(([k, w]) => [k, w.points]), 'every account signal');
  t.same(en.body.message.axes.map((a: { axis: string }) => a.axis), ['travel', 'sender', 'content']);
  t.same(en.body.device.signals.map((s: { signal: string; points: number; help: string }) => [s.signal, s.points, s.help]), Object.entries(DEVICE_WEIGHTS).map(([k, w]) => [k, w.points, w.help.en]), 'every device signal');
  t.ok(en.body.account.tips.length > 0, 'tips to raise the account PI');
  t.ok(en.body.device.tips.length > 0, 'tips to raise a device PI');
  for (const a of [...en.body.message.axes, ...en.body.account.axes, ...en.body.device.axes]) t.not(a.help, a.axis, `axis ${a.axis} explained`);
  for (const b of [...en.body.letters, ...en.body.colours]) t.ok(b.help, `help for ${b.key}`);

  const fr = await anon.get('/api/v1/help/pi?lang=fr');
  t.equal(fr.body.message.signals.find((s: { signal: string }) => s.signal === 'TLS_1_3').help, WEIGHTS.TLS_1_3.help.fr);
  t.notSame(fr.body.intro, en.body.intro);
  t.equal((await anon.get('/api/v1/help/pi?lang=de')).status, 400);
  t.equal((await anon.get('/api/v1/help/pi')).body.lang, 'en', 'English by default');
  const alice = h.client();
  await alice.login(ALICE.username, ALICE.password);
  await alice.request('PATCH', '/api/v1/me', { json: { lang: 'fr' } });
  t.equal((await alice.get('/api/v1/help/pi')).body.lang, 'fr', "a logged-in user's language");
});
