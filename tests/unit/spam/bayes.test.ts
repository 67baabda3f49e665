import t from 'tap';
import { BAYES, chi2Q, classify, isTrained, tokenProbability, type TokenCounts } from '../../../server/spam/bayes.js';

const stats = { spamMessages: 20, hamMessages: 20 };
const counts = (entries: Record<string, [number, number]>) =>
  new Map<string, TokenCounts>(Object.entries(entries).map(([k, [spam, ham]]) => [k, { spam, ham }]));

t.test('neutral until the user has sorted enough of each kind', async (t) => {
  const spammy = counts({ viagra: [4, 0], casino: [4, 0] });
  const few = { spamMessages: BAYES.minSpam - 1, hamMessages: 100 };
  t.notOk(isTrained(few));
  t.same(classify(spammy, few), { probability: 0.5, ready: false, clues: [], used: 0 });
  const enough = { spamMessages: BAYES.minSpam, hamMessages: BAYES.minHam };
  t.ok(isTrained(enough));
  t.ok(classify(spammy, enough).probability > 0.9);
});

t.test('token probability: direction, unknown tokens and rare tokens', async (t) => {
  t.ok(tokenProbability({ spam: 10, ham: 0 }, stats) > 0.9);
  t.ok(tokenProbability({ spam: 0, ham: 10 }, stats) < 0.1);
  t.equal(tokenProbability({ spam: 0, ham: 0 }, stats), 0.5);
  const rare = tokenProbability({ spam: 1, ham: 0 }, stats);
  const common = tokenProbability({ spam: 10, ham: 0 }, stats);
  t.ok(rare > 0.5 && rare < common, 'seen once pulls less than seen ten times');
  // ratios, not counts: 5 of 10 spam vs 5 of 100 ham is spammy although the counts are equal
  t.ok(tokenProbability({ spam: 5, ham: 5 }, { spamMessages: 10, hamMessages: 100 }) > 0.8);
  const over = tokenProbability({ spam: 50, ham: 0 }, stats);
  t.ok(over > 0.9 && over < 1, 'counts above the totals stay a probability');
});

t.test('chi-square tail matches closed forms', async (t) => {
  t.equal(chi2Q(0, 2), 1);
  t.ok(Math.abs(chi2Q(4, 2) - Math.exp(-2)) < 1e-12, 'dof 2: e^(-x/2)');
  t.ok(Math.abs(chi2Q(6, 4) - Math.exp(-3) * 4) < 1e-12, 'dof 4: e^(-m)(1+m)');
  t.equal(chi2Q(5000, 300), 0, 'far tail underflows to 0, not NaN');
});

t.test('classification: spammy, hammy, and torn', async (t) => {
  const spam = classify(counts({ cheap: [15, 0], pills: [12, 1], winner: [10, 0], hello: [5, 5] }), stats);
  t.ok(spam.probability > 0.95, `spam ${spam.probability}`);
  t.equal(spam.clues[0]!.token, 'cheap', 'most decisive clue first');
  t.notOk(spam.clues.some((c) => c.token === 'hello'), 'neutral tokens are ignored');
  const ham = classify(counts({ meeting: [0, 15], agenda: [1, 12], minutes: [0, 10] }), stats);
  t.ok(ham.probability < 0.05, `ham ${ham.probability}`);
  const torn = classify(counts({ cheap: [15, 0], pills: [12, 0], meeting: [0, 15], agenda: [0, 12] }), stats);
  t.ok(torn.probability > 0.3 && torn.probability < 0.7, `strong evidence both ways is unsure: ${torn.probability}`);
  t.equal(classify(new Map(), stats).probability, 0.5, 'no known token, no opinion');
});

t.test('swapping the classes mirrors the probability', async (t) => {
  const a = classify(counts({ x: [9, 2], y: [7, 1], z: [1, 6] }), stats).probability;
  const b = classify(counts({ x: [2, 9], y: [1, 7], z: [6, 1] }), stats).probability;
  t.ok(Math.abs(a + b - 1) < 1e-9, `${a} + ${b}`);
});

t.test('at most maxClues tokens are combined', async (t) => {
  const many = counts(Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`t${i}`, [10, 0] as [number, number]])));
  const r = classify(many, stats);
  t.equal(r.used, BAYES.maxClues);
  t.equal(r.clues.length, 5);
});
