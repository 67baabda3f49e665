/**
 * The spam filter on the labelled corpus: trained on 60% of each class through trainSpam, judged on
 * the rest through scoreSpam, over three fixed shuffles. bench/spam/eval.ts prints the same report.
 */
import t from 'tap';
import { needsCorpus } from '../helpers/corpus.js';
import { describe, evaluateCorpus, splitMbox } from '../../bench/spam/eval.js';

t.test('mbox splitting', async (t) => {
  const mbox = Buffer.from('From a@b.example  Fri Nov  1 04:50:54 2002\nSubject: one\n\nbody\n>From here\nFrom c@d.example Sat Nov  2 05:00:00 2002\nSubject: two\n\nx\n');
  const parts = splitMbox(mbox).map((b) => b.toString());
  t.equal(parts.length, 2);
  t.equal(parts[0], 'Subject: one\n\nbody\nFrom here', 'mboxrd >From unquoted');
  t.match(parts[1], /^Subject: two/);
  t.equal(splitMbox(Buffer.from('HELO x\nDATA\nFrom a@b.example  Fri Nov  1 04:50:54 2002\nSubject: s\n\nb\n')).length, 1, 'bsmtp preamble is no message');
  t.equal(splitMbox(Buffer.from('Subject: lone\n\nFrom the start of a line\n')).length, 1, 'a body line starting with From is no envelope');
});

t.test('the filter separates spam from ham better than chance', needsCorpus(), async (t) => {
  const report = await evaluateCorpus({ seeds: [1, 2, 3], speedMs: 500 });
  for (const line of describe(report)) t.comment(line);
  const { trained, rulesOnly, majorityRate } = report.pooled;
  t.ok(trained.accuracy > majorityRate, `accuracy ${trained.accuracy.toFixed(3)} > majority class ${majorityRate.toFixed(3)}`);
  t.ok(trained.recall > 0.5, `spam recall ${trained.recall.toFixed(3)}`);
  t.ok(trained.precision > 0.8, `spam precision ${trained.precision.toFixed(3)}: few good messages hidden`);
  t.ok(trained.accuracy > rulesOnly.accuracy, 'learning from the user helps');
  t.ok(rulesOnly.fp === 0, `rules alone flag no ham (${rulesOnly.fp})`);
});
