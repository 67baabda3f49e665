import t from 'tap';
import { addRelayRoute, findRelayFor, listRelayRoutes, parseRelayUrl, relayUrl, removeRelayRoute } from '../../../server/delivery/relay-routes.js';
import { relayCmd } from '../../../server/cli/relay.js';
import { testDeps } from '../../helpers/deps.js';

t.test('relay URLs: three schemes, default ports, percent-decoded credentials', async (t) => {
  t.same(parseRelayUrl('smtp+starttls://user%40example.org:p%3Ass%2Fw0rd@smtp.example.net:587'), {
    host: 'smtp.example.net', port: 587, security: 'starttls', username: 'user@example.org', password: 'p:ss/w0rd',
  });
  t.same(parseRelayUrl('smtps://me:secret@SMTP.example.net'), { host: 'smtp.example.net', port: 465, security: 'tls', username: 'me', password: 'secret' });
  t.same(parseRelayUrl('smtp://relay.lan:2525'), { host: 'relay.lan', port: 2525, security: 'none', username: null, password: null });
  t.same(parseRelayUrl('smtp+starttls://relay.lan/'), { host: 'relay.lan', port: 587, security: 'starttls', username: null, password: null });
  t.same(parseRelayUrl('smtp://[::1]:25'), { host: '::1', port: 25, security: 'none', username: null, password: null });
  t.equal(relayUrl({ host: 'smtp.example.net', port: 587, security: 'starttls', username: 'user@example.org' }), 'smtp+starttls://user%40example.org@smtp.example.net:587');
});

t.test('bad relay URLs are validation errors that say what is wrong (never echoing the password)', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['not a url', /expected smtp\+starttls:\/\//],
    ['http://relay.example.net', /unknown scheme "http"/],
    ['smtp://relay.example.net:99999', /invalid relay URL/],
    ['smtps://user@relay.example.net', /both a user name and a password/],
    ['smtps://relay.example.net/path', /no path/],
    ['smtps://u:p@relay.example.net?x=1', /no path, query or fragment/],
    ['smtps://u:%E0%A4%A@relay.example.net', /percent-encoded/],
  ];
  for (const [url, message] of cases) {
    try {
      parseRelayUrl(url);
      t.fail(`${url} was accepted`);
    } catch (err) {
      t.match(err, { code: 'validation_failed', message }, url);
      t.notMatch((err as Error).message, /%E0%A4%A|:p@/, 'no credentials in the message');
    }
  }
});

t.test('routes: stored with a sealed password, listed without it, replaced, removed', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const r = await addRelayRoute(deps, { domain: '*', url: 'smtps://me:s3cret!@smtp.example.net:465' });
  t.match(r, { domain: '*', host: 'smtp.example.net', port: 465, security: 'tls', username: 'me', url: 'smtps://me@smtp.example.net:465' });
  t.notOk('password' in r);
  const row = await deps.db('relay_routes').where({ domain: '*' }).first();
  t.notMatch(row.password_enc, /s3cret/, 'sealed at rest');
  t.equal(deps.secrets.open(row.password_enc), 's3cret!');

  await addRelayRoute(deps, { domain: 'Partner.ORG', url: 'smtp://relay.partner.org' });
  const list = await listRelayRoutes(deps);
  t.same(list.map((l) => [l.domain, l.url]), [['*', 'smtps://me@smtp.example.net:465'], ['partner.org', 'smtp://relay.partner.org:25']]);
  t.notMatch(JSON.stringify(list), /s3cret|password|v1:/);

  await addRelayRoute(deps, { domain: '*', url: 'smtp+starttls://other:pw@smtp2.example.net' });
  t.match(await listRelayRoutes(deps), [{ domain: '*', host: 'smtp2.example.net', port: 587, username: 'other' }, { domain: 'partner.org' }], 'setting a domain again replaces its route');

  await t.rejects(addRelayRoute(deps, { domain: 'not a domain', url: 'smtp://x.example' }), { code: 'validation_failed' });
  await removeRelayRoute(deps, 'partner.org');
  await t.rejects(removeRelayRoute(deps, 'partner.org'), { code: 'relay_route_not_found' });
  t.equal((await listRelayRoutes(deps)).length, 1);
});

t.test('route for a recipient domain: its own, else *, else CALIOPEN_RELAY, else direct', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  t.equal(await findRelayFor(deps, 'anywhere.org'), null, 'nothing configured: direct MX');
  deps.config.relay = 'smtp+starttls://cfg%20user:cfgpw@relay.config.net';
  t.match(await findRelayFor(deps, 'anywhere.org'), { source: 'config', host: 'relay.config.net', username: 'cfg user', password: 'cfgpw' });
  const star = await addRelayRoute(deps, { domain: '*', url: 'smtps://star:starpw@relay.star.net' });
  const own = await addRelayRoute(deps, { domain: 'partner.org', url: 'smtp://relay.partner.org:2525' });
  t.match(await findRelayFor(deps, 'anywhere.org'), { source: `route:${star.id}`, host: 'relay.star.net', password: 'starpw' });
  t.match(await findRelayFor(deps, 'PARTNER.org.'), { source: `route:${own.id}`, host: 'relay.partner.org', port: 2525, security: 'none', username: null, password: null });
});

t.test('caliopen relay set | list | remove', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const lines: string[] = [];
  const out = (l: string) => lines.push(l);
  await relayCmd(deps, ['set', 'smtp+starttls://u:topsecret@smtp.example.net:587'], out);
  await relayCmd(deps, ['set', 'smtp://relay.partner.org', '--domain', 'partner.org'], out);
  await relayCmd(deps, ['list'], out);
  await relayCmd(deps, ['remove', 'partner.org'], out);
  t.same(lines, [
    'relay for * set: smtp+starttls://u@smtp.example.net:587',
    'relay for partner.org set: smtp://relay.partner.org:25',
    '*\tsmtp+starttls://u@smtp.example.net:587',
    'partner.org\tsmtp://relay.partner.org:25',
    'relay for partner.org removed',
  ]);
  t.notMatch(lines.join('\n'), /topsecret/);
  await t.rejects(relayCmd(deps, ['remove', 'partner.org'], out), { code: 'relay_route_not_found' });
  await t.rejects(relayCmd(deps, ['set'], out), { code: 'bad_request' });
  await t.rejects(relayCmd(deps, ['set', 'ftp://x'], out), { code: 'validation_failed' });
  await t.rejects(relayCmd(deps, ['frobnicate'], out), { code: 'bad_request', message: /usage: caliopen relay/ });
  lines.length = 0;
  await relayCmd(deps, ['remove', '*'], out);
  await relayCmd(deps, ['list'], out);
  t.same(lines, ['relay for * removed', 'no relay route: mail goes directly to the MX hosts']);
});
