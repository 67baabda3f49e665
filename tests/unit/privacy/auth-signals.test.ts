import t from 'tap';
import type { AuthResults } from '../../../server/mail/types.js';
import { authSignals, computePi } from '../../../server/privacy/index.js';

const base: AuthResults = {
  spf: { result: 'none', domain: null },
  dkim: [],
  dmarc: { result: 'none', policy: null, domain: null },
  arc: { result: 'none' },
  headerFrom: 'alice@example.org',
  summary: [],
};
const auth = (over: Partial<AuthResults>): AuthResults => ({ ...base, ...over });
const ids = (a: AuthResults | null) => authSignals(a).map((s) => s.id);

t.test('no results (a sent copy): no signals', async (t) => {
  t.same(authSignals(null), []);
});

t.test('DKIM: only a verified, aligned signature earns points', async (t) => {
  t.same(ids(auth({})), ['DKIM_NONE']);
  const aligned = auth({ dkim: [{ result: 'pass', domain: 'example.org', selector: 's1', aligned: true }] });
  t.same(authSignals(aligned), [{ id: 'DKIM_PASS_ALIGNED', detail: 'example.org' }]);
  t.equal(computePi(authSignals(aligned)).axes.sender, 10);

  const esp = auth({ dkim: [{ result: 'pass', domain: 'esp.example', selector: 's', aligned: false }] });
  t.same(ids(esp), ['DKIM_PASS_UNALIGNED']);
  t.equal(computePi(authSignals(esp)).score, 0);

  // a signature that is present but broken earns nothing (the original Caliopen gave points here)
  const broken = auth({ dkim: [{ result: 'fail', domain: 'example.org', selector: 's1', aligned: false }] });
  t.same(authSignals(broken), [{ id: 'DKIM_FAIL', detail: 'example.org' }]);
  t.equal(computePi(authSignals(broken)).score, 0);

  // "aligned" describes d= against From; it says nothing about whether the signature verified
  const alignedButBroken = auth({ dkim: [{ result: 'fail', domain: 'example.org', selector: 's1', aligned: true }] });
  t.same(ids(alignedButBroken), ['DKIM_FAIL']);

  const unknownKey = auth({ dkim: [{ result: 'neutral', domain: 'example.org', selector: 'gone', aligned: false }] });
  t.same(authSignals(unknownKey), [{ id: 'DKIM_UNVERIFIABLE', detail: 'example.org (neutral)' }]);

  const listMail = auth({
    dkim: [
      { result: 'fail', domain: 'author.example', selector: 'a', aligned: false },
      { result: 'pass', domain: 'lists.example', selector: 'l', aligned: false },
    ],
  });
  t.same(ids(listMail), ['DKIM_PASS_UNALIGNED', 'DKIM_FAIL']);
});

t.test('SPF and DMARC', async (t) => {
  t.same(authSignals(auth({ spf: { result: 'pass', domain: 'example.org' } })).slice(1), [{ id: 'SPF_PASS', detail: 'example.org' }]);
  t.same(ids(auth({ spf: { result: 'softfail', domain: 'example.org' } })).slice(1), ['SPF_FAIL']);
  t.same(ids(auth({ spf: { result: 'fail', domain: 'example.org' } })).slice(1), ['SPF_FAIL']);
  t.same(ids(auth({ spf: { result: 'neutral', domain: 'example.org' } })).slice(1), []);
  t.same(ids(auth({ spf: { result: 'temperror', domain: null } })).slice(1), []);
  t.same(ids(auth({ dmarc: { result: 'pass', policy: 'reject', domain: 'example.org' } })).slice(1), ['DMARC_PASS']);
  t.same(ids(auth({ dmarc: { result: 'fail', policy: 'reject', domain: 'example.org' } })).slice(1), ['DMARC_FAIL']);
  const all = auth({
    spf: { result: 'pass', domain: 'example.org' },
    dkim: [{ result: 'pass', domain: 'example.org', selector: 's1', aligned: true }],
    dmarc: { result: 'pass', policy: 'none', domain: 'example.org' },
  });
  t.equal(computePi(authSignals(all)).axes.sender, 25, '10 + 5 + 10');
});
