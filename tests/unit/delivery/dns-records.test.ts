import t, { type Test } from 'tap';
import { checkRecords, sendingRecords, type DnsRecord, type RecordCheck } from '../../../server/delivery/dns-records.js';
import { addDomainWithKeys } from '../../../server/accounts/domains.js';
import { dnsError } from '../../../server/dns.js';
import { testDeps, type TestDeps } from '../../helpers/deps.js';
import type { Zones } from '../../helpers/dns.js';

function publish(zones: Zones, records: DnsRecord[]): void {
  for (const r of records) {
    const zone = (zones[r.name] ??= {});
    if (r.type === 'MX') (zone.MX ??= []).push({ priority: 10, exchange: r.value.split(' ')[1] });
    else if (r.type === 'TXT') (zone.TXT ??= []).push(r.strings);
    else (zone.A ??= []).push('192.0.2.25');
  }
}

async function box(t: Test, zones: Zones = {}): Promise<TestDeps> {
  const deps = await testDeps(zones);
  t.teardown(() => deps.close());
  await addDomainWithKeys(deps, 'example.test');
  return deps;
}

const byKind = (checks: RecordCheck[]) => Object.fromEntries(checks.map((c) => [c.record.kind === 'dkim' ? c.record.name.split('.')[0] : c.record.kind, c]));

t.test('the records to publish, as values and zone-file lines', async (t) => {
  const deps = await box(t);
  const { domain, records, zone } = await sendingRecords(deps, 'Example.TEST.');
  t.equal(domain, 'example.test');
  t.same(records.map((r) => `${r.kind} ${r.type} ${r.name}`), [
    'mx MX example.test',
    'address A mx.example.test',
    'spf TXT example.test',
    'dkim TXT cal202603e._domainkey.example.test',
    'dkim TXT cal202603r._domainkey.example.test',
    'dmarc TXT _dmarc.example.test',
    'tlsrpt TXT _smtp._tls.example.test',
  ]);
  const lines = zone.split('\n');
  t.equal(lines[0], 'example.test. MX 10 mx.example.test.');
  t.match(lines[1], /^; mx\.example\.test\. A /, 'the address is the operator’s to fill in');
  t.equal(lines[2], 'example.test. TXT "v=spf1 mx -all"');
  t.match(lines[3], /^cal202603e\._domainkey\.example\.test\. TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$/);
  t.equal(lines[5], '_dmarc.example.test. TXT "v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:postmaster@example.test"');

  const rsa = records[4]!;
  t.match(rsa.value, /^v=DKIM1; k=rsa; p=MIIBIjAN/);
  t.ok(rsa.strings!.length >= 2, 'a 2048-bit key does not fit one TXT string');
  t.ok(rsa.strings!.every((s) => Buffer.byteLength(s) <= 255));
  t.equal(rsa.strings!.join(''), rsa.value);
  t.equal(lines[4], `cal202603r._domainkey.example.test. TXT ${rsa.strings!.map((s) => `"${s}"`).join(' ')}`);
  t.ok(records.find((r) => r.kind === 'tlsrpt')!.optional);

  await t.rejects(sendingRecords(deps, 'other.test'), { code: 'domain_not_found' });
});

t.test('with a relay, SPF includes the relay provider’s record and softens to ~all', async (t) => {
  const zones: Zones = { 'relay.test': { TXT: [['v=spf1 ip4:198.51.100.0/24 -all']] } };
  const deps = await box(t, zones);
  const withRelay = { ...deps, config: { ...deps.config, relay: 'smtps://user:secret@smtp.relay.test:465' } };
  let spf = (await sendingRecords(withRelay, 'example.test')).records.find((r) => r.kind === 'spf')!;
  t.equal(spf.value, 'v=spf1 mx include:relay.test ~all');
  t.match(spf.note, /relay smtp\.relay\.test/);
  t.notMatch(JSON.stringify(spf), /secret/);

  delete zones['relay.test'];
  spf = (await sendingRecords(withRelay, 'example.test')).records.find((r) => r.kind === 'spf')!;
  t.equal(spf.value, 'v=spf1 mx a:smtp.relay.test ~all', 'no SPF found for the relay: its address');
});

t.test('checkRecords: everything published is ok', async (t) => {
  const zones: Zones = {};
  const deps = await box(t, zones);
  publish(zones, (await sendingRecords(deps, 'example.test')).records);
  const checks = await checkRecords(deps, 'example.test');
  t.same(checks.map((c) => c.status), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
  t.same(byKind(checks).address!.found, ['192.0.2.25']);
});

t.test('checkRecords: nothing published is missing', async (t) => {
  const deps = await box(t);
  const checks = await checkRecords(deps, 'example.test');
  t.same(checks.map((c) => c.status), ['missing', 'missing', 'missing', 'missing', 'missing', 'missing', 'missing']);
});

t.test('checkRecords: records that differ say what was found', async (t) => {
  const zones: Zones = {};
  const deps = await box(t, zones);
  const { records } = await sendingRecords(deps, 'example.test');
  publish(zones, records);
  const rsa = records.find((r) => r.name.startsWith('cal202603r'))!;
  zones['example.test']!.MX = [{ priority: 10, exchange: 'mx.elsewhere.test' }];
  zones['example.test']!.TXT = [['v=spf1 a -all'], ['google-site-verification=abc']];
  zones['_dmarc.example.test']!.TXT = [['v=DMARC1; p=none']];
  // the RSA key published without k= (rsa is the default) and with spaces: the same key
  zones[rsa.name]!.TXT = [[`v=DKIM1; p=${rsa.value.split('p=')[1]!.replace(/(.{100})/g, '$1 ')}`]];
  // the ed25519 record holds some other key
  zones['cal202603e._domainkey.example.test']!.TXT = [['v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=']];

  const c = byKind(await checkRecords(deps, 'example.test'));
  t.equal(c.mx!.status, 'differs');
  t.same(c.mx!.found, ['10 mx.elsewhere.test']);
  t.equal(c.spf!.status, 'differs');
  t.same(c.spf!.found, ['v=spf1 a -all'], 'only the SPF record among the TXT records');
  t.equal(c.dmarc!.status, 'differs');
  t.same(c.dmarc!.found, ['v=DMARC1; p=none']);
  t.equal(c.cal202603r!.status, 'ok');
  t.equal(c.cal202603e!.status, 'differs');
  t.match(c.cal202603e!.found[0], /11qYAYKx/);

  zones['example.test']!.TXT = [['v=spf1 mx -all'], ['v=spf1 mx ~all']];
  const twice = byKind(await checkRecords(deps, 'example.test'));
  t.equal(twice.spf!.status, 'differs');
  t.match(twice.spf!.detail, /more than one SPF record/);

  zones['example.test']!.TXT = [['V=SPF1   MX  -ALL']];
  zones['_dmarc.example.test']!.TXT = [['v=DMARC1;p=quarantine;adkim=s;aspf=s;rua=mailto:Postmaster@example.test;fo=1']];
  const equivalent = byKind(await checkRecords(deps, 'example.test'));
  t.equal(equivalent.spf!.status, 'ok', 'case and spacing do not matter');
  t.equal(equivalent.dmarc!.status, 'ok', 'extra tags are the operator’s choice');
});

t.test('checkRecords: a failed lookup is an error, not a missing record', async (t) => {
  const zones: Zones = {};
  const deps = await box(t, zones);
  publish(zones, (await sendingRecords(deps, 'example.test')).records);
  const inner = deps.dns;
  const flaky = {
    ...deps,
    dns: async (name: string, rrtype: string) => {
      if (name === '_dmarc.example.test') throw Object.assign(new Error('queryTxt ETIMEOUT'), { code: 'ETIMEOUT' });
      if (name === 'mx.example.test' && rrtype === 'AAAA') throw dnsError('ENODATA', name);
      return inner(name, rrtype);
    },
  };
  const c = byKind(await checkRecords(flaky, 'example.test'));
  t.equal(c.dmarc!.status, 'error');
  t.match(c.dmarc!.detail, /ETIMEOUT/);
  t.equal(c.address!.status, 'ok', 'IPv4 only is fine');
  t.equal(c.spf!.status, 'ok');
});
