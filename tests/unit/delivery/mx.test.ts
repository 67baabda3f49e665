import t from 'tap';
import { orderMx, resolveHost, resolveMx, noRouteFailure } from '../../../server/delivery/mx.js';
import { zoneResolver } from '../../helpers/dns.js';
import type { DnsResolver } from '../../../server/dns.js';

const failing = (code: string): DnsResolver => async () => {
  throw Object.assign(new Error(`queryMx ${code}`), { code });
};

t.test('MX hosts come lowest preference first, ties in random order', async (t) => {
  const dns = zoneResolver({
    'example.org': {
      MX: [
        { exchange: 'backup.example.org', priority: 20 },
        { exchange: 'MX-A.example.org.', priority: 10 },
        { exchange: 'mx-b.example.org', priority: 10 },
      ],
    },
  });
  const first = await resolveMx(dns, 'Example.ORG', () => 0);
  const second = await resolveMx(dns, 'example.org', () => 0.99);
  if (!('hosts' in first) || !('hosts' in second)) throw new Error('expected hosts');
  t.equal(first.implicit, false);
  t.same(first.hosts.map((h) => h.name).slice(0, 2).sort(), ['mx-a.example.org', 'mx-b.example.org'], 'names lower-cased, trailing dot dropped');
  t.equal(first.hosts[2]!.name, 'backup.example.org');
  t.not(first.hosts[0]!.name, second.hosts[0]!.name, 'equal preferences are shuffled');
  t.same(orderMx([{ name: 'c', priority: 5 }, { name: 'a', priority: 0 }, { name: 'b', priority: 1 }]).map((h) => h.name), ['a', 'b', 'c']);
});

t.test('null MX (RFC 7505): the domain accepts no mail, permanently', async (t) => {
  for (const exchange of ['', '.']) {
    const r = await resolveMx(zoneResolver({ 'nomail.org': { MX: [{ exchange, priority: 0 }] } }), 'nomail.org');
    t.same(r, { failure: { status: 'perm_fail', code: '556 5.1.10', response: '5.1.10 nomail.org does not accept mail (null MX, RFC 7505)' } }, `exchange ${JSON.stringify(exchange)}`);
  }
});

t.test('no MX records: the domain itself is the implicit MX', async (t) => {
  const r = await resolveMx(zoneResolver({ 'plain.org': { A: ['192.0.2.1'] } }), 'plain.org');
  t.same(r, { hosts: [{ name: 'plain.org', priority: 0 }], implicit: true });
});

t.test('NXDOMAIN is permanent (5.1.2); timeouts and SERVFAIL are temporary', async (t) => {
  const nx = await resolveMx(zoneResolver({}), 'nowhere.test');
  t.match(nx, { failure: { status: 'perm_fail', code: '550 5.1.2', response: /nowhere\.test does not exist/ } });
  for (const code of ['ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED']) {
    const r = await resolveMx(failing(code), 'flaky.test');
    t.match(r, { failure: { status: 'temp_fail', code: null, response: new RegExp(`MX of flaky\\.test failed \\(${code}\\)`) } }, code);
  }
});

t.test('host addresses: A first, then AAAA, through the injected resolver', async (t) => {
  const dns = zoneResolver({ 'mx.example.org': { A: ['192.0.2.7'], AAAA: ['2001:db8::7'] }, 'v6.example.org': { AAAA: ['::1'] } });
  t.same(await resolveHost(dns, 'mx.example.org'), { addresses: ['192.0.2.7', '2001:db8::7'] });
  t.same(await resolveHost(dns, 'v6.example.org'), { addresses: ['::1'] });
  t.same(await resolveHost(dns, '127.0.0.1'), { addresses: ['127.0.0.1'] }, 'an IP literal is not looked up');
  t.same(await resolveHost(dns, '[::1]'), { addresses: ['::1'] });
  t.same(dns.queries, ['A mx.example.org', 'AAAA mx.example.org', 'A v6.example.org', 'AAAA v6.example.org']);
});

t.test('a host without address is told apart from a failed look-up', async (t) => {
  t.match(await resolveHost(zoneResolver({ 'mx.example.org': { TXT: [['x']] } }), 'mx.example.org'), { nonexistent: true, failure: { status: 'temp_fail', response: /no address \(no A\/AAAA records\)/ } });
  t.match(await resolveHost(zoneResolver({}), 'gone.example.org'), { nonexistent: true, failure: { response: /NXDOMAIN/ } });
  t.match(await resolveHost(failing('ETIMEOUT'), 'slow.example.org'), { nonexistent: false, failure: { status: 'temp_fail', response: /ETIMEOUT/ } });
  t.same(noRouteFailure('Plain.org.'), { status: 'perm_fail', code: '550 5.4.4', response: '5.4.4 plain.org has no MX and no address records' });
});
