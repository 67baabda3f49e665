import t, { type Test } from 'tap';
import { parseSearchQuery, toFtsExpression, foldText, type SearchNode } from '../../../server/mail/search-query.js';
import { AppError } from '../../../server/errors.js';

const root = (q: string): SearchNode => parseSearchQuery(q).root;
const word = (text: string, phrase = false): SearchNode => ({ kind: 'text', field: 'any', text, phrase });

function throwsInvalid(t: Test, q: string): void {
  const err = t.throws(() => parseSearchQuery(q), q) as unknown;
  t.ok(err instanceof AppError && err.code === 'invalid_search', `${q} → invalid_search`);
}

t.test('bare words, phrases and implicit AND', async (t) => {
  t.same(root('hungchem'), word('hungchem'));
  t.same(root('fraispland spathionvim'), { kind: 'and', children: [word('fraispland'), word('spathionvim')] });
  t.same(root('"gleckcio mack tomfe"'), word('gleckcio mack tomfe', true));
  t.same(root('  café  '), word('café'));
  t.same(root('"unclosed phrase'), word('unclosed phrase', true), 'an unclosed quote runs to the end');
});

t.test('field operators', async (t) => {
  t.same(root('from:Bcosta@Shackhope.example'), { kind: 'from', value: 'bcosta@shackhope.example' });
  t.same(root('to:ivan'), { kind: 'to', value: 'ivan' });
  t.same(root('cc:ivan@x.test'), { kind: 'to', value: 'ivan@x.test' });
  t.same(root('from:"Berta Smith"'), { kind: 'from', value: 'berta smith' });
  t.same(root('subject:naim'), { kind: 'text', field: 'subject', text: 'naim', phrase: false });
  t.same(root('subject:"two words"'), { kind: 'text', field: 'subject', text: 'two words', phrase: true });
  t.same(root('tag:Family'), { kind: 'tag', name: 'Family' });
  t.same(root('tag:unread'), { kind: 'flag', flag: 'unread' }, "notmuch's tag:unread");
  for (const f of ['unread', 'read', 'encrypted', 'signed', 'spam'] as const) {
    t.same(root(`is:${f}`), { kind: 'flag', flag: f });
  }
  t.same(root('has:attachment'), { kind: 'flag', flag: 'attachment' });
  t.same(root('IS:UNREAD'), { kind: 'flag', flag: 'unread' }, 'operators are case-insensitive');
});

t.test('numeric ranges', async (t) => {
  t.same(root('pi:<40'), { kind: 'range', field: 'pi', max: 39 });
  t.same(root('pi:<=40'), { kind: 'range', field: 'pi', max: 40 });
  t.same(root('pi:>=60'), { kind: 'range', field: 'pi', min: 60 });
  t.same(root('pi:40..60'), { kind: 'range', field: 'pi', min: 40, max: 60 });
  t.same(root('pi:50'), { kind: 'range', field: 'pi', min: 50, max: 50 });
  t.same(root('importance:>3'), { kind: 'range', field: 'importance', min: 4 });
  t.same(root('importance:-3..0'), { kind: 'range', field: 'importance', min: -3, max: 0 });
  t.same(root('importance:..-2'), { kind: 'range', field: 'importance', max: -2 });
});

t.test('dates: inclusive day ranges, before exclusive, after inclusive', async (t) => {
  t.same(root('date:2023-06-01..2023-06-30'), { kind: 'date', after: '2023-06-01', before: '2023-07-01' });
  t.same(root('date:2024-02-28..2024-02-29'), { kind: 'date', after: '2024-02-28', before: '2024-03-01' });
  t.same(root('date:2023-12'), { kind: 'date', after: '2023-12-01', before: '2024-01-01' });
  t.same(root('date:2023'), { kind: 'date', after: '2023-01-01', before: '2024-01-01' });
  t.same(root('date:2023-06-01..'), { kind: 'date', after: '2023-06-01' });
  t.same(root('date:..2023/06/30'), { kind: 'date', before: '2023-07-01' });
  t.same(root('before:2024-03-04'), { kind: 'date', before: '2024-03-04' });
  t.same(root('after:2024-03-04'), { kind: 'date', after: '2024-03-04' });
});

t.test('negation, OR, AND precedence, parentheses', async (t) => {
  t.same(root('-spam'), { kind: 'not', child: word('spam') });
  t.same(root('-from:x@y.test'), { kind: 'not', child: { kind: 'from', value: 'x@y.test' } });
  t.same(root('NOT foo'), { kind: 'not', child: word('foo') });
  t.same(root('do not disturb'), { kind: 'and', children: [word('do'), word('not'), word('disturb')] }, 'NOT only in capitals');
  t.same(root('toumcoung or duvys'), { kind: 'or', children: [word('toumcoung'), word('duvys')] });
  t.same(root('a b OR c'), { kind: 'or', children: [{ kind: 'and', children: [word('a'), word('b')] }, word('c')] }, 'AND binds tighter');
  t.same(root('a AND b or c and d'), {
    kind: 'or', children: [{ kind: 'and', children: [word('a'), word('b')] }, { kind: 'and', children: [word('c'), word('d')] }],
  });
  t.same(root('a (b OR c)'), { kind: 'and', children: [word('a'), { kind: 'or', children: [word('b'), word('c')] }] });
  t.same(root('-(b or c)'), { kind: 'not', child: { kind: 'or', children: [word('b'), word('c')] } });
  t.same(root('spios and from:bcosta@shackhope.example'), {
    kind: 'and', children: [word('spios'), { kind: 'from', value: 'bcosta@shackhope.example' }],
  });
});

t.test('forgiving with half-typed input', async (t) => {
  t.same(root('foo or'), word('foo'), 'dangling or');
  t.same(root('or foo'), word('foo'));
  t.same(root('foo from:'), word('foo'), 'operator without a value yet');
  t.same(root('(foo bar'), { kind: 'and', children: [word('foo'), word('bar')] }, 'unclosed parenthesis');
  t.same(root('foo) bar'), { kind: 'and', children: [word('foo'), word('bar')] }, 'stray parenthesis');
  t.same(root('foo - bar'), { kind: 'and', children: [word('foo'), word('bar')] }, 'a lone dash');
  t.same(root('and'), word('and'), 'only a keyword: the word itself');
  t.same(root('http://example.org/x'), word('http://example.org/x'), 'unknown field is text');
  t.same(root('re:hello'), word('re:hello'));
});

t.test('spam is asked for only outside negations', async (t) => {
  t.equal(parseSearchQuery('is:spam').includesSpam, true);
  t.equal(parseSearchQuery('tag:SPAM foo').includesSpam, true);
  t.equal(parseSearchQuery('foo -is:spam').includesSpam, false);
  t.equal(parseSearchQuery('foo').includesSpam, false);
});

t.test('bad input is invalid_search', async (t) => {
  for (const q of ['', '   ', '***', '-', '()', 'date:2023-13-01', 'date:2023-02-30', 'before:yesterday', 'after:06/01/2023',
    'date:..', 'pi:abc', 'pi:<', 'importance:high', 'is:bogus', 'has:pdf', 'x'.repeat(2001)]) {
    throwsInvalid(t, q);
  }
});

t.test('FTS expressions quote every term', async (t) => {
  const fts = (q: string): string | null => toFtsExpression(root(q));
  t.equal(fts('hungchem'), '"hungchem"');
  t.equal(fts('subject:naim'), '{subject} : "naim"');
  t.equal(fts('fraispland spathionvim'), '("fraispland" AND "spathionvim")');
  t.equal(fts('toumcoung or duvys'), '("toumcoung" OR "duvys")');
  t.equal(fts('a -b'), '("a") NOT "b"');
  t.equal(fts('-b'), null, 'a purely negative query cannot be an FTS expression');
  t.equal(fts('a from:x@y.test'), null, 'mixed queries are split by the compiler');
  // Injection attempts: whatever the user types ends up inside a string.
  t.equal(fts('"foo" OR bar*'), '("foo" OR "bar*")');
  t.equal(fts('NEAR(a b)'), '("NEAR" AND "a" AND "b")');
  t.equal(fts('"a"" OR x'), '("a" AND "OR x")', 'a stray quote opens a phrase; its OR is a word');
  t.equal(fts('subject:{body}'), '{subject} : "{body}"');
  t.equal(fts('body:foo'), '"body:foo"', 'FTS column syntax is just text');
  t.equal(fts('"say ""hi"""'), '("say" AND "hi")', 'quotes end phrases; the rest are words');
  t.equal(fts('x"y'), '("x" AND "y")');
  t.equal(fts('"^a + b"'), '"^a + b"');
  const weird = toFtsExpression({ kind: 'text', field: 'any', text: 'a" OR "b', phrase: true });
  t.equal(weird, '"a"" OR ""b"', 'inner quotes doubled');
});

t.test('accent folding mirrors unicode61 remove_diacritics', async (t) => {
  t.equal(foldText('Élodie Café Ñandú'), 'elodie cafe nandu');
  t.equal(foldText('ÅSA'), 'asa');
});
