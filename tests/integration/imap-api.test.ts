/**
 * The external accounts API against a real Dovecot: test connection (TLS error with the
 * certificate to trust, then trusted), add (a wrong password is refused and nothing is stored),
 * the password never in a response nor in clear in the database, folder selection, sync now with
 * `import-progress` on GET /events, another user's account invisible.
 */
import http from 'node:http';
import t from 'tap';
import { startApi } from '../helpers/api-app.js';
import { dovecotMissing, startDovecot } from '../helpers/dovecot.js';
import { mail } from '../helpers/imap-harness.js';

const skip = dovecotMissing();
if (skip) t.comment(skip);

const PASSWORD = 'alicepass';

function sseEvents(port: number, cookie: string, into: Array<{ event: string; data: any }>): () => void {
  const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/events', headers: { cookie, accept: 'text/event-stream' } }, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
        if (event) into.push({ event, data: JSON.parse(lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n')) });
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  return () => req.destroy();
}

t.test('external accounts over the API', { skip }, async (t) => {
  const dovecot = await startDovecot(t);
  dovecot.add('alice', 'INBOX', mail('API one'));
  dovecot.add('alice', 'INBOX', mail('API two'), 'S');
  dovecot.add('alice', 'Archive', mail('API archived'));
  const h = await startApi(t, { config: { imports: { enabled: false } } });
  const alice = h.client();
  await alice.login('alice', 'alice password 1');
  const settings = { host: '127.0.0.1', port: dovecot.imapsPort, tls: 'implicit', username: 'alice', password: PASSWORD };

  const refused = await alice.post('/api/v1/external-accounts/test', settings);
  t.equal(refused.status, 422);
  t.match(refused.body.error, { code: 'imap_tls_failed', details: { certificate: { fingerprint: dovecot.fingerprint } } }, 'the certificate to trust is shown');
  const trusted = await alice.post('/api/v1/external-accounts/test', { ...settings, trusted_fingerprint: dovecot.fingerprint });
  t.equal(trusted.status, 200);
  t.ok(trusted.body.folders.some((f: { path: string; special_use: string }) => f.path === 'Sent' && f.special_use === '\\Sent'));

  const wrong = await alice.post('/api/v1/external-accounts', { ...settings, password: 'wrong', address: 'alice@remote.test', trusted_fingerprint: dovecot.fingerprint });
  t.equal(wrong.status, 422);
  t.equal(wrong.body.error.code, 'imap_auth_failed');
  t.same((await alice.get('/api/v1/external-accounts')).body.items, [], 'nothing stored');

  const added = await alice.post('/api/v1/external-accounts', { ...settings, address: 'Alice@Remote.test', trusted_fingerprint: dovecot.fingerprint, interval_minutes: 30 });
  t.equal(added.status, 201);
  const id = added.body.account.id;
  t.match(added.body.account, { address: 'alice@remote.test', interval_minutes: 30, status: 'new', trusted_fingerprint: dovecot.fingerprint });
  t.notOk('password' in added.body.account);
  const sealed = await h.app.services.deps.db('external_accounts').where({ id }).first('password_sealed');
  t.notMatch(sealed.password_sealed, PASSWORD, 'sealed at rest');
  t.equal(h.app.services.deps.secrets.open(sealed.password_sealed), PASSWORD);

  const folders = await alice.request('PUT', `/api/v1/external-accounts/${id}/folders`, { json: { selected: { Archive: false } } });
  t.equal(folders.status, 200);
  t.match(folders.body.folders.find((f: { path: string }) => f.path === 'Archive'), { selected: false });

  const events: Array<{ event: string; data: any }> = [];
  const close = sseEvents(h.http, [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; '), events);
  t.teardown(close);
  await new Promise((r) => setTimeout(r, 200));
  const started = await alice.post(`/api/v1/external-accounts/${id}/sync`);
  t.equal(started.status, 202);
  await h.app.services.imports.settled(id);
  const until = Date.now() + 3000;
  while (!events.some((e) => e.event === 'import-progress' && e.data.state === 'done') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  const done = events.find((e) => e.event === 'import-progress' && e.data.state === 'done');
  t.match(done?.data, { accountId: id, address: 'alice@remote.test', done: 2, total: 2, imported: 2 }, 'progress pushed live');
  t.notOk('userId' in (done?.data ?? {}));
  const list = await alice.get('/api/v1/external-accounts');
  t.match(list.body.items[0], { id, status: 'idle', imported: 2, needs_attention: false, last_error: null });
  t.notOk(list.raw.toString().includes(PASSWORD), 'the password is in no response');
  const db = h.app.services.deps.db;
  await db('external_accounts').where({ id }).update({ status: 'syncing', lock_owner: 'gone', lock_until: null });
  t.equal((await alice.get(`/api/v1/external-accounts/${id}`)).body.account.status, 'idle', 'a sync left half-way by a dead process is not shown as running');
  await db('external_accounts').where({ id }).update({ lock_until: h.clock.now().getTime() + 60_000 });
  t.equal((await alice.get(`/api/v1/external-accounts/${id}`)).body.account.status, 'syncing', 'a live lease (e.g. the CLI importing) is');
  await db('external_accounts').where({ id }).update({ status: 'idle', lock_owner: null, lock_until: null });
  const subjects = (await h.app.services.deps.db('messages').where({ user_id: h.users.alice }).select('subject')).map((m: { subject: string }) => m.subject).sort();
  t.same(subjects, ['API one', 'API two'], 'the deselected folder was not imported');

  const bob = h.client();
  await bob.login('bob', 'bob password 12');
  t.equal((await bob.get(`/api/v1/external-accounts/${id}`)).status, 404);
  t.equal((await bob.post(`/api/v1/external-accounts/${id}/sync`)).status, 404);
  t.same((await bob.get('/api/v1/external-accounts')).body.items, []);

  const preset = await alice.get('/api/v1/external-accounts/autoconfig?address=someone@gmail.com');
  t.match(preset.body, { source: 'preset', imap: { host: 'imap.gmail.com', port: 993, tls: 'implicit', username: 'someone@gmail.com' } });

  const patched = await alice.request('PATCH', `/api/v1/external-accounts/${id}`, { json: { interval_minutes: 60, delete_after_import: false } });
  t.match(patched.body.account, { interval_minutes: 60 });
  t.equal((await alice.request('DELETE', `/api/v1/external-accounts/${id}`)).status, 200);
  t.equal((await alice.get(`/api/v1/external-accounts/${id}`)).status, 404);
});
