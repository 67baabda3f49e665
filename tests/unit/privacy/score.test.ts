import t from 'tap';
import { computePi, discussionPi, explainReason, piColour, piLetter } from '../../../server/privacy/index.js';

t.test('letter boundaries follow SPEC §7 (A 81–100 … E 0–20)', async (t) => {
  const cases: Array<[number, string]> = [
    [0, 'E'], [20, 'E'], [21, 'D'], [40, 'D'], [41, 'C'], [60, 'C'], [61, 'B'], [80, 'B'], [81, 'A'], [100, 'A'],
  ];
  for (const [score, letter] of cases) t.equal(piLetter(score), letter, `${score} → ${letter}`);
  t.equal(piLetter(-5), 'E', 'below range clamps');
  t.equal(piLetter(140), 'A', 'above range clamps');
});

t.test('colour boundaries follow SPEC §7 (red < 25, pink < 50, amber < 75, green ≥ 75)', async (t) => {
  const cases: Array<[number, string]> = [
    [0, 'red'], [24, 'red'], [25, 'pink'], [49, 'pink'], [50, 'amber'], [74, 'amber'], [75, 'green'], [100, 'green'],
  ];
  for (const [score, colour] of cases) t.equal(piColour(score), colour, `${score} → ${colour}`);
});

t.test('computePi sums points per axis from the table and lists every reason', async (t) => {
  const pi = computePi([
    { id: 'TLS_1_3', detail: 'TLSv1.3 TLS_AES_256_GCM_SHA384' },
    { id: 'ALL_HOPS_TLS' },
    { id: 'DKIM_PASS_ALIGNED', detail: 'example.org' },
    { id: 'DMARC_PASS' },
    { id: 'TRACKING_PIXEL', detail: '1 pixel(s)' },
  ]);
  t.same(pi.axes, { travel: 25, sender: 20, content: 0 });
  t.equal(pi.score, 45);
  t.equal(pi.letter, 'C');
  t.equal(pi.colour, 'pink');
  t.same(pi.reasons.map((r) => [r.signal, r.axis, r.points]), [
    ['TLS_1_3', 'travel', 15],
    ['ALL_HOPS_TLS', 'travel', 10],
    ['DKIM_PASS_ALIGNED', 'sender', 10],
    ['DMARC_PASS', 'sender', 10],
    ['TRACKING_PIXEL', 'content', 0],
  ]);
  t.equal(pi.reasons[0]!.detail, 'TLSv1.3 TLS_AES_256_GCM_SHA384');
  t.notOk('detail' in pi.reasons[1]!, 'no empty detail key');
});

t.test('a repeated signal counts once; unknown ids are ignored', async (t) => {
  const pi = computePi([
    { id: 'DKIM_FAIL', detail: 'a.example' },
    { id: 'SPF_PASS' },
    { id: 'SPF_PASS' },
    { id: 'DKIM_FAIL', detail: 'b.example' },
    { id: 'NOT_A_SIGNAL' },
  ]);
  t.equal(pi.score, 5);
  t.equal(pi.reasons.length, 2);
  t.equal(pi.reasons.find((r) => r.signal === 'DKIM_FAIL')?.detail, 'a.example; b.example');
});

t.test('everything at once is clamped to 100; nothing is 0 E red', async (t) => {
  const all = computePi([
    'TLS_1_3', 'ALL_HOPS_TLS', 'FEW_EXTERNAL_HOPS', 'DKIM_PASS_ALIGNED', 'SPF_PASS', 'DMARC_PASS',
    'KNOWN_CONTACT', 'CONTACT_HAS_KEY', 'PGP_ENCRYPTED', 'SIGNATURE_VERIFIED', 'NO_REMOTE_CONTENT',
  ].map((id) => ({ id })));
  t.same(all.axes, { travel: 30, sender: 40, content: 35 });
  t.equal(all.score, 100, '105 points clamp to 100');
  t.equal(all.letter, 'A');
  const none = computePi([]);
  t.same(none, { score: 0, letter: 'E', colour: 'red', axes: { travel: 0, sender: 0, content: 0 }, reasons: [] });
});

t.test('explainReason returns the help text in the asked language', async (t) => {
  t.match(explainReason('DKIM_PASS_ALIGNED', 'en'), /DKIM/);
  t.match(explainReason('DKIM_PASS_ALIGNED', 'fr'), /signature a été vérifiée/);
  t.not(explainReason('TLS_1_3', 'en'), explainReason('TLS_1_3', 'fr'));
  t.match(explainReason('NOPE', 'fr'), /inconnu/);
  t.match(explainReason('NOPE', 'en'), /Unknown signal: NOPE/);
});

t.test('discussionPi: the weakest of the last 10 messages, with a trend', async (t) => {
  t.equal(discussionPi([]), null);
  const one = discussionPi([{ score: 70, at: 1 }]);
  t.same(one, { score: 70, letter: 'B', colour: 'amber', trend: 'flat', messages: 1 });

  // an old weak message (score 5) drops out of the 10-message window
  const older = [{ score: 5, at: new Date('2024-01-01T00:00:00Z') }];
  const recent = Array.from({ length: 10 }, (_, i) => ({ score: 60 + i, at: new Date(Date.UTC(2024, 1, i + 1)) }));
  const d = discussionPi([...recent.reverse(), ...older]);
  t.equal(d?.score, 60, 'lowest of the window, not of all time');
  t.equal(d?.messages, 10);
  t.equal(d?.trend, 'up', 'newer half scores higher');

  const falling = discussionPi([
    { score: 90, at: '2024-03-01T00:00:00Z' },
    { score: 85, at: '2024-03-02T00:00:00Z' },
    { score: 40, at: '2024-03-03T00:00:00Z' },
    { score: 30, at: '2024-03-04T00:00:00Z' },
  ]);
  t.equal(falling?.trend, 'down');
  t.equal(falling?.score, 30);
  t.equal(falling?.letter, 'D');

  const steady = discussionPi([{ score: 50, at: 1 }, { score: 52, at: 2 }, { score: 51, at: 3 }, { score: 49, at: 4 }]);
  t.equal(steady?.trend, 'flat', 'small moves are not a trend');
  t.equal(discussionPi([{ score: 80, at: 1 }, { score: 20, at: 2 }], 1)?.score, 20, 'window of 1 keeps the newest');
});
