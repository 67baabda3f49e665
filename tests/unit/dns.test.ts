import t from 'tap';
import { cachedResolver, dnsError } from '../../server/dns.js';

t.test('answers and definite negatives are cached for the TTL; failures are retried', async (t) => {
  let clock = 0;
  const asked: string[] = [];
  const inner = async (name: string, rrtype: string) => {
    asked.push(`${rrtype} ${name}`);
    if (name === 'none.test') throw dnsError('ENOTFOUND', name);
    if (name === 'flaky.test') throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
    return [['v=spf1 -all']];
  };
  const r = cachedResolver(inner, 1000, 100, () => clock);
  t.same(await r('Example.test', 'TXT'), [['v=spf1 -all']]);
  t.same(await r('example.test', 'TXT'), [['v=spf1 -all']]);
  await t.rejects(r('none.test', 'TXT'), { code: 'ENOTFOUND' });
  await t.rejects(r('none.test', 'TXT'), { code: 'ENOTFOUND' });
  await t.rejects(r('flaky.test', 'TXT'), { code: 'ETIMEOUT' });
  await t.rejects(r('flaky.test', 'TXT'), { code: 'ETIMEOUT' });
  t.same(asked, ['TXT Example.test', 'TXT none.test', 'TXT flaky.test', 'TXT flaky.test'], 'one question per name, except failures');
  clock = 1001;
  await r('example.test', 'TXT');
  t.equal(asked.length, 5, 'asked again after the TTL');
});

t.test('the cache is bounded: the oldest name goes first', async (t) => {
  const asked: string[] = [];
  const r = cachedResolver(async (name) => (asked.push(name), [[name]]), 60_000, 2, () => 0);
  await r('a.test', 'TXT');
  await r('b.test', 'TXT');
  await r('c.test', 'TXT'); // evicts a.test
  await r('b.test', 'TXT');
  await r('a.test', 'TXT');
  t.same(asked, ['a.test', 'b.test', 'c.test', 'a.test']);
});
