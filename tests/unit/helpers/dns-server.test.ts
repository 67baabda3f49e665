import t from 'tap';
import { promises as dns } from 'node:dns';
import { createDnsResolver } from '../../../server/dns.js';
import { startDnsServer } from '../../helpers/dns-server.js';

const longKey = 'v=DKIM1; k=rsa; p=' + 'A'.repeat(392); // the size of a 2048-bit key record
const hugeKey = 'v=DKIM1; k=rsa; p=' + 'B'.repeat(1200); // too big for any datagram: TC, then TCP

const server = await startDnsServer({
  'example.test': {
    TXT: [['v=spf1 ip4:127.0.0.1 -all'], 'plain string record'],
    MX: [
      { exchange: 'mx1.example.test', priority: 10 },
      { exchange: 'mx2.example.test', priority: 20 },
    ],
    A: ['192.0.2.10', '192.0.2.11'],
    AAAA: ['2001:db8::1', '::ffff:192.0.2.1', '2001:db8:1:2:3:4:5:6'],
  },
  'sel._domainkey.example.test': { TXT: [longKey] },
  'big._domainkey.example.test': { TXT: [hugeKey] },
  'only-a.example.test': { A: ['127.0.0.1'] },
});
t.teardown(() => server.close());

const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
resolver.setServers([server.address]);

t.test('TXT, as chunks; a string over 255 bytes comes back split', async (t) => {
  t.same(await resolver.resolveTxt('example.test'), [['v=spf1 ip4:127.0.0.1 -all'], ['plain string record']]);
  const [record] = await resolver.resolveTxt('sel._domainkey.example.test');
  t.ok(record!.length > 1, 'split in character-strings');
  t.ok(record!.every((c) => Buffer.byteLength(c) <= 255));
  t.equal(record!.join(''), longKey);
});

t.test('an answer too big for UDP is truncated and fetched again over TCP', async (t) => {
  const before = server.tcpQueries;
  const [record] = await resolver.resolveTxt('big._domainkey.example.test');
  t.equal(record!.join(''), hugeKey);
  t.equal(server.tcpQueries, before + 1, 'retried over TCP');
});

t.test('MX, A, AAAA; names are case-insensitive', async (t) => {
  const mx = await resolver.resolveMx('Example.TEST');
  t.same(mx.sort((a, b) => a.priority - b.priority), [
    { exchange: 'mx1.example.test', priority: 10 },
    { exchange: 'mx2.example.test', priority: 20 },
  ]);
  t.same((await resolver.resolve4('example.test')).sort(), ['192.0.2.10', '192.0.2.11']);
  t.same((await resolver.resolve6('example.test')).sort(), ['2001:db8:1:2:3:4:5:6', '2001:db8::1', '::ffff:192.0.2.1']);
});

t.test('NXDOMAIN for unknown names, NODATA for a known name without the type', async (t) => {
  await t.rejects(resolver.resolveTxt('nope.example.test'), { code: 'ENOTFOUND' });
  await t.rejects(resolver.resolveMx('only-a.example.test'), { code: 'ENODATA' });
});

t.test('faults, live zones and the query log', async (t) => {
  server.faults['broken.example.test'] = 'servfail';
  await t.rejects(resolver.resolveTxt('broken.example.test'), { code: 'ESERVFAIL' });
  server.zones['late.example.test'] = { TXT: [['added after start']] };
  t.same(await resolver.resolveTxt('late.example.test'), [['added after start']]);
  t.ok(server.queries.includes('TXT late.example.test'), 'queries logged');
});

t.test("the appliance's own resolver (CALIOPEN_RESOLVER=host:port) reads it", async (t) => {
  const resolve = createDnsResolver(server.address, 1000);
  t.same(await resolve('example.test', 'MX'), await resolver.resolveMx('example.test'));
  await t.rejects(resolve('missing.test', 'TXT'), { code: 'ENOTFOUND' });
});
