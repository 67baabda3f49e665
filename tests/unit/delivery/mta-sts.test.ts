import t from 'tap';
import { getMtaStsPolicy, mxMatchesPattern, parseStsPolicy, parseStsRecord } from '../../../server/delivery/mta-sts.js';
import { testDeps } from '../../helpers/deps.js';
import type { HttpsFetcher } from '../../../server/delivery/types.js';

const POLICY = 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.org\r\nmx: *.mail.example.org\r\nmax_age: 86400\r\n';

t.test('TXT record: exactly one v=STSv1 record with an alphanumeric id', async (t) => {
  t.same(parseStsRecord([['v=STSv1; id=20260301T1000;']]), { id: '20260301T1000' });
  t.same(parseStsRecord([['v=STSv1; ', 'id=abc123']]), { id: 'abc123' }, 'chunks of one record are joined');
  t.same(parseStsRecord([['v=spf1 -all'], ['v=STSv1;id=x1; ext=1']]), { id: 'x1' }, 'other records are ignored');
  t.equal(parseStsRecord([['v=STSv1; id=a'], ['v=STSv1; id=b']]), null, 'two STS records: no policy');
  t.equal(parseStsRecord([['v=STSv1; id=not-alnum']]), null);
  t.equal(parseStsRecord([['v=STSv1;']]), null, 'no id');
  t.equal(parseStsRecord([['id=abc; v=STSv1']]), null, 'v must come first');
});

t.test('policy file: strict on version, mode, max_age and mx', async (t) => {
  t.same(parseStsPolicy(POLICY), { mode: 'enforce', mx: ['mx1.example.org', '*.mail.example.org'], maxAge: 86400 });
  t.same(parseStsPolicy('version: STSv1\nmode: none\nmax_age: 0\nfuture_field: x\n'), { mode: 'none', mx: [], maxAge: 0 }, 'LF lines, unknown fields ignored, mx optional for none');
  t.same(parseStsPolicy('version: STSv1\nmode: testing\nmode: enforce\nmx: a.example.org\nmax_age: 5'), { mode: 'testing', mx: ['a.example.org'], maxAge: 5 }, 'the first of a repeated field counts');
  t.match(parseStsPolicy(POLICY.replace('STSv1', 'STSv2')), { error: /version/ });
  t.match(parseStsPolicy(POLICY.replace('mode: enforce', 'mode: strict')), { error: /mode/ });
  t.match(parseStsPolicy(POLICY.replace('86400', '31557601')), { error: /max_age/ });
  t.match(parseStsPolicy(POLICY.replace('86400', '-1')), { error: /max_age/ });
  t.match(parseStsPolicy('version: STSv1\nmode: enforce\nmax_age: 60\n'), { error: /no mx/ });
  t.match(parseStsPolicy(POLICY.replace('mx1.example.org', 'mx1..example.org')), { error: /mx pattern/ });
  t.match(parseStsPolicy('<html>not a policy</html>'), { error: /malformed/ });
});

t.test('MX patterns: a wildcard stands for exactly one label', async (t) => {
  t.ok(mxMatchesPattern('mx1.example.org', 'mx1.example.org'));
  t.ok(mxMatchesPattern('MX1.Example.org.', 'mx1.example.org'));
  t.ok(mxMatchesPattern('a.mail.example.org', '*.mail.example.org'));
  t.notOk(mxMatchesPattern('mail.example.org', '*.mail.example.org'), 'not the parent');
  t.notOk(mxMatchesPattern('a.b.mail.example.org', '*.mail.example.org'), 'not two labels');
  t.notOk(mxMatchesPattern('mx2.example.org', 'mx1.example.org'));
  t.notOk(mxMatchesPattern('evilexample.org', '*.example.org'));
});

function fetcher(bodies: Array<{ status: number; body: string; headers?: Record<string, string> } | Error>) {
  const urls: string[] = [];
  const fn: HttpsFetcher = async (url) => {
    urls.push(url);
    const next = bodies.length > 1 ? bodies.shift()! : bodies[0]!;
    if (next instanceof Error) throw next;
    return next;
  };
  return { fn, urls };
}

t.test('a policy is fetched once and cached in mta_sts_policies', async (t) => {
  const deps = await testDeps({ '_mta-sts.example.org': { TXT: [['v=STSv1; id=one']] } });
  t.teardown(() => deps.close());
  const f = fetcher([{ status: 200, body: POLICY, headers: { 'content-type': 'text/plain; charset=utf-8' } }]);
  deps.fetch = f.fn;
  const p = await getMtaStsPolicy(deps, 'Example.org');
  t.match(p, { domain: 'example.org', id: 'one', mode: 'enforce', mx: ['mx1.example.org', '*.mail.example.org'], maxAge: 86400 });
  t.same(f.urls, ['https://mta-sts.example.org/.well-known/mta-sts.txt']);
  const row = await deps.db('mta_sts_policies').where({ domain: 'example.org' }).first();
  t.match(row, { policy_id: 'one', mode: 'enforce', max_age: 86400 });

  t.match(await getMtaStsPolicy(deps, 'example.org'), { id: 'one' });
  t.equal(f.urls.length, 1, 'same id, within max_age: from the cache');
});

t.test('refresh on a new TXT id and after max_age; the cached policy survives failures', async (t) => {
  const zones: Record<string, Record<string, unknown[]>> = { '_mta-sts.example.org': { TXT: [['v=STSv1; id=one']] } };
  const deps = await testDeps(zones);
  t.teardown(() => deps.close());
  const f = fetcher([{ status: 200, body: POLICY }]);
  deps.fetch = f.fn;
  await getMtaStsPolicy(deps, 'example.org');
  t.equal(f.urls.length, 1);

  zones['_mta-sts.example.org']!.TXT = [['v=STSv1; id=two']];
  t.match(await getMtaStsPolicy(deps, 'example.org'), { id: 'two' }, 'a new id: fetched again');
  t.equal(f.urls.length, 2);

  deps.clock.advance(86_400_000 + 1);
  t.match(await getMtaStsPolicy(deps, 'example.org'), { id: 'two', fetchedAt: deps.clock.now().getTime() }, 'max_age passed: fetched again');
  t.equal(f.urls.length, 3);

  // the new policy cannot be fetched: the cached one stays in force
  zones['_mta-sts.example.org']!.TXT = [['v=STSv1; id=three']];
  deps.fetch = fetcher([new Error('connect ECONNREFUSED')]).fn;
  t.match(await getMtaStsPolicy(deps, 'example.org'), { id: 'two', mode: 'enforce' }, 'fetch failed: cached policy kept');
  deps.fetch = fetcher([{ status: 404, body: 'no' }]).fn;
  t.match(await getMtaStsPolicy(deps, 'example.org'), { id: 'two' }, 'HTTP 404: cached policy kept');
  deps.fetch = fetcher([{ status: 200, body: 'version: STSv1\nmode: bogus\n' }]).fn;
  t.match(await getMtaStsPolicy(deps, 'example.org'), { id: 'two' }, 'invalid policy: cached policy kept');

  // the TXT record disappears: a policy that has not expired still holds (RFC 8461 §5.1)
  delete zones['_mta-sts.example.org'];
  t.match(await getMtaStsPolicy(deps, 'example.org'), { id: 'two' });
  deps.clock.advance(86_400_000 + 1);
  t.equal(await getMtaStsPolicy(deps, 'example.org'), null, 'expired and no record: no policy');
});

t.test('no policy: no TXT record, or nothing usable to fetch and nothing cached', async (t) => {
  const deps = await testDeps({ '_mta-sts.bad.org': { TXT: [['v=STSv1; id=x']] }, '_mta-sts.typed.org': { TXT: [['v=STSv1; id=y']] } });
  t.teardown(() => deps.close());
  const f = fetcher([{ status: 200, body: POLICY }]);
  deps.fetch = f.fn;
  t.equal(await getMtaStsPolicy(deps, 'none.org'), null);
  t.equal(f.urls.length, 0, 'no TXT record: nothing fetched');
  deps.fetch = fetcher([new Error('timed out')]).fn;
  t.equal(await getMtaStsPolicy(deps, 'bad.org'), null);
  deps.fetch = fetcher([{ status: 200, body: POLICY, headers: { 'Content-Type': 'text/html' } }]).fn;
  t.equal(await getMtaStsPolicy(deps, 'typed.org'), null, 'not text/plain');
  t.equal(await deps.db('mta_sts_policies').count({ n: '*' }).first().then((r) => Number(r?.n)), 0);
});
