import t, { type Test } from 'tap';
import crypto from 'node:crypto';
import { authenticate, dkimVerify } from 'mailauth';
import type { DNSResolver } from 'mailauth';
import { createDkimSigner, ensureDomainKeys, selectorFor } from '../../../server/delivery/dkim.js';
import { sendingRecords, type DnsRecord } from '../../../server/delivery/dns-records.js';
import { addDomain, addDomainWithKeys } from '../../../server/accounts/domains.js';
import { runSetup } from '../../../server/setup/first-run.js';
import { makeMessage, testDeps, type TestDeps } from '../../helpers/deps.js';
import type { Zones } from '../../helpers/dns.js';

const MX_IP = '127.0.0.1';

/** The zones a careful operator would publish: exactly the records sendingRecords gives, the MX host on loopback. */
function publish(zones: Zones, records: DnsRecord[]): void {
  for (const r of records) {
    const zone = (zones[r.name] ??= {});
    if (r.type === 'MX') (zone.MX ??= []).push({ priority: Number(r.value.split(' ')[0]), exchange: r.value.split(' ')[1] });
    else if (r.type === 'TXT') (zone.TXT ??= []).push(r.strings);
    else (zone.A ??= []).push(MX_IP);
  }
}

async function boxWithDomain(t: Test, zones: Zones = {}): Promise<TestDeps> {
  const deps = await testDeps(zones);
  t.teardown(() => deps.close());
  await addDomainWithKeys(deps, 'example.test');
  publish(zones, (await sendingRecords(deps, 'example.test')).records);
  return deps;
}

const resolverOf = (deps: TestDeps) => deps.dns as unknown as DNSResolver;
const outgoing = () =>
  makeMessage({ from: 'Alice <alice@example.test>', to: 'Bob <bob@remote.test>', messageId: 'out-1@example.test', headers: ['In-Reply-To: <x@remote.test>'] });

t.test('a domain gets an ed25519 and an RSA-2048 key, sealed, with their p= values; once', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const d = await addDomain(deps.db, deps.clock, 'example.test');
  const keys = await ensureDomainKeys(deps, d.id, d.name);
  t.same(keys.map((k) => [k.algorithm, k.selector]), [['ed25519', 'cal202603e'], ['rsa', 'cal202603r']]);

  const ed = keys[0]!;
  t.equal(Buffer.from(ed.publicKey, 'base64').length, 32, 'RFC 8463: the bare 32-byte key');
  const rsa = crypto.createPublicKey({ key: Buffer.from(keys[1]!.publicKey, 'base64'), format: 'der', type: 'spki' });
  t.equal(rsa.asymmetricKeyDetails?.modulusLength, 2048);

  const rows = await deps.db('dkim_keys').where({ domain_id: d.id }).orderBy('id');
  t.equal(rows.length, 2);
  for (const row of rows) {
    t.notMatch(row.private_key_enc, /PRIVATE KEY/, 'stored sealed');
    const priv = crypto.createPrivateKey(deps.secrets.open(row.private_key_enc));
    t.equal(priv.asymmetricKeyType, row.algorithm);
    t.equal(row.created_at, deps.clock.now().getTime());
  }

  deps.clock.advance(40 * 86_400_000);
  const again = await ensureDomainKeys(deps, d.id, d.name);
  t.same(again.map((k) => k.id), keys.map((k) => k.id), 'idempotent: no new keys next month either');
  t.equal((await deps.db('dkim_keys').count({ n: '*' }))[0]!.n, 2);
  t.equal(selectorFor('rsa', new Date('2026-12-31T23:59:59Z')), 'cal202612r');
});

t.test('both signatures verify against the published records and align with From', async (t) => {
  const deps = await boxWithDomain(t);
  const signer = createDkimSigner(deps);
  const signed = await signer.sign(outgoing(), 'example.test');
  const head = signed.toString().split('\r\n\r\n')[0]!;
  t.match(head, /^DKIM-Signature: /, 'signatures are prepended');
  t.match(head, /a=ed25519-sha256/);
  t.match(head, /a=rsa-sha256/);
  t.match(head, /c=relaxed\/relaxed/);
  const signedFields = /\bh=([^;]+);/.exec(head.replace(/\r\n\s+/g, ' '))![1]!.split(':').map((h) => h.trim().toLowerCase()).sort();
  t.same(signedFields, ['content-type', 'date', 'from', 'in-reply-to', 'message-id', 'mime-version', 'subject', 'to'], 'the fields present, nothing in transit');
  t.match(head, new RegExp(`t=${Math.floor(deps.clock.now().getTime() / 1000)}`), 'signing time from the injected clock');

  const v = await dkimVerify(signed, { resolver: resolverOf(deps) });
  t.equal(v.results.length, 2);
  for (const r of v.results) {
    t.equal(r.status.result, 'pass', `${r.selector}: ${r.status.comment ?? ''}`);
    t.equal(r.status.aligned as unknown, 'example.test');
  }
  t.same(v.results.map((r) => r.selector).sort(), ['cal202603e', 'cal202603r']);
});

t.test('a changed body or signed header breaks both signatures', async (t) => {
  const deps = await boxWithDomain(t);
  const signed = (await createDkimSigner(deps).sign(outgoing(), 'example.test')).toString();
  for (const [what, tampered] of [
    ['body', signed.replace('how are you?', 'send me your password')],
    ['subject', signed.replace('Subject: Hello', 'Subject: Urgent')],
  ] as const) {
    t.not(tampered, signed);
    const v = await dkimVerify(Buffer.from(tampered), { resolver: resolverOf(deps) });
    t.equal(v.results.length, 2);
    for (const r of v.results) t.not(r.status.result, 'pass', `${what} changed: ${r.selector} ${r.status.result}`);
  }
});

t.test('SPF passes from the MX address and DMARC passes, with the published records only', async (t) => {
  const deps = await boxWithDomain(t);
  const signed = await createDkimSigner(deps).sign(outgoing(), 'example.test');
  const res = await authenticate(signed, {
    ip: MX_IP,
    helo: 'mx.example.test',
    sender: 'alice@example.test',
    mta: 'mx.remote.test',
    resolver: resolverOf(deps),
    disableBimi: true,
  });
  t.equal(res.spf && res.spf.status.result, 'pass', 'v=spf1 mx: the MX host is allowed');
  t.ok(res.dkim.results.every((r) => r.status.result === 'pass' && (r.status.aligned as unknown) === 'example.test'));
  t.equal(res.dmarc && res.dmarc.status.result, 'pass');
  t.equal(res.dmarc && res.dmarc.policy, 'quarantine');

  const elsewhere = await authenticate(signed, { ip: '192.0.2.9', helo: 'evil.test', sender: 'alice@example.test', mta: 'mx.remote.test', resolver: resolverOf(deps), disableBimi: true });
  t.equal(elsewhere.spf && elsewhere.spf.status.result, 'fail', 'any other address fails SPF (-all)');
  t.equal(elsewhere.dmarc && elsewhere.dmarc.status.result, 'pass', 'DMARC still passes through the aligned DKIM signatures');
});

t.test('the signer refuses domains that are not ours and makes missing keys on first use', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const signer = createDkimSigner(deps);
  await t.rejects(signer.sign(outgoing(), 'gmail.test'), { code: 'sender_not_allowed' });

  const old = await addDomain(deps.db, deps.clock, 'old.test'); // a domain from before outbound mail: no keys
  t.equal((await deps.db('dkim_keys').where({ domain_id: old.id })).length, 0);
  const signed = await signer.sign(makeMessage({ from: 'bob@old.test' }), 'OLD.test.');
  t.equal((await deps.db('dkim_keys').where({ domain_id: old.id })).length, 2);
  t.match(signed.toString(), /d=old\.test/);
});

t.test('the signer picks up new keys without a restart', async (t) => {
  const zones: Zones = {};
  const deps = await boxWithDomain(t, zones);
  const signer = createDkimSigner(deps);
  t.match((await signer.sign(outgoing(), 'example.test')).toString(), /s=cal202603r/);

  // a rotation done elsewhere (another process): old keys retired, new month's keys made
  await deps.db('dkim_keys').update({ active: false });
  deps.clock.advance(31 * 86_400_000);
  const d = await deps.db('domains').where({ name: 'example.test' }).first();
  await ensureDomainKeys(deps, d.id, d.name);
  publish(zones, (await sendingRecords(deps, 'example.test')).records);

  const signed = await signer.sign(outgoing(), 'example.test');
  t.match(signed.toString(), /s=cal202604r/);
  t.match(signed.toString(), /s=cal202604e/);
  t.notMatch(signed.toString(), /s=cal202603/);
  const v = await dkimVerify(signed, { resolver: resolverOf(deps) });
  t.ok(v.results.every((r) => r.status.result === 'pass'));
});

t.test('setup with the box secret and addDomainWithKeys make the keys at once', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'a long password' }, deps.secrets);
  t.equal((await deps.db('dkim_keys')).length, 2);
  await addDomainWithKeys(deps, 'second.test');
  t.equal((await deps.db('dkim_keys')).length, 4);
  await t.rejects(addDomainWithKeys(deps, 'second.test'), { code: 'domain_exists' });
});
