/**
 * Settings discovery: a known provider from the table without any request; otherwise the domain's
 * Thunderbird autoconfig (autoconfig.<domain> first, then /.well-known/), read through the
 * injected fetcher; plain IMAP is never proposed; nothing found is autoconfig_not_found.
 */
import t from 'tap';
import { discoverSettings, parseAutoconfig } from '../../../server/imap-import/autoconfig.js';
import type { HttpsFetcher } from '../../../server/delivery/types.js';

const XML = `<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.org">
  <incomingServer type="pop3"><hostname>pop.example.org</hostname><port>995</port><socketType>SSL</socketType></incomingServer>
  <incomingServer type="imap"><hostname>plain.example.org</hostname><port>143</port><socketType>plain</socketType><username>%EMAILADDRESS%</username></incomingServer>
  <incomingServer type="imap">
    <hostname>IMAP.Example.org</hostname><port>143</port><socketType>STARTTLS</socketType><username>%EMAILLOCALPART%</username>
  </incomingServer>
  <outgoingServer type="smtp"><hostname>smtp.example.org</hostname><port>465</port><socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
</emailProvider></clientConfig>`;

function fetcher(answers: Record<string, { status: number; body: string } | Error>): { fn: HttpsFetcher; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fn: async (url) => {
      urls.push(url);
      const key = Object.keys(answers).find((k) => url.startsWith(k));
      const a = key ? answers[key]! : { status: 404, body: '' };
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

t.test('a known provider comes from the table, with no request', async (t) => {
  const f = fetcher({});
  const s = await discoverSettings(f.fn, 'Someone@GMail.com');
  t.match(s, { source: 'preset', imap: { host: 'imap.gmail.com', port: 993, tls: 'implicit', username: 'Someone@GMail.com' }, smtp: { host: 'smtp.gmail.com' } });
  t.same(f.urls, []);
});

t.test("the domain's autoconfig: first autoconfig.<domain>, then .well-known; plain skipped", async (t) => {
  const first = fetcher({ 'https://autoconfig.example.org/mail/config-v1.1.xml': { status: 200, body: XML } });
  const s = await discoverSettings(first.fn, 'ann@example.org');
  t.match(s, { source: 'autoconfig', imap: { host: 'imap.example.org', port: 143, tls: 'starttls', username: 'ann' }, smtp: { host: 'smtp.example.org', port: 465, tls: 'implicit', username: 'ann@example.org' } });
  t.match(first.urls[0], /^https:\/\/autoconfig\.example\.org\/mail\/config-v1\.1\.xml\?emailaddress=ann%40example\.org$/);
  const second = fetcher({ 'https://autoconfig.example.org/': new Error('getaddrinfo ENOTFOUND'), 'https://example.org/.well-known/autoconfig/mail/config-v1.1.xml': { status: 200, body: XML } });
  t.match(await discoverSettings(second.fn, 'ann@example.org'), { source: 'autoconfig', url: /\.well-known/ });
  t.equal(second.urls.length, 2);
});

t.test('nothing usable: autoconfig_not_found; a bad address: validation_failed', async (t) => {
  const onlyPlain = XML.replace(/<incomingServer type="imap">\s*<hostname>IMAP[\s\S]*?<\/incomingServer>/, '');
  t.equal(parseAutoconfig(onlyPlain, 'ann@example.org'), null, 'plain IMAP alone is not proposed');
  await t.rejects(discoverSettings(fetcher({ 'https://autoconfig.example.org/': { status: 200, body: onlyPlain } }).fn, 'ann@example.org'), { code: 'autoconfig_not_found' });
  await t.rejects(discoverSettings(fetcher({}).fn, 'not an address'), { code: 'validation_failed' });
});
