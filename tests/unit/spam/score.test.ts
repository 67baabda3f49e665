import t, { type Test } from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import { simpleParser } from 'mailparser';
import { closeDb, openDb, type Db } from '../../../server/store/db.js';
import type { AuthResults, SenderHistory, SpamVerdict } from '../../../server/mail/types.js';
import { scoreSpam, tokenize, trainSpam, WEIGHTS } from '../../../server/spam/index.js';

const UNKNOWN: SenderHistory = { isKnownContact: false, contactHasKey: false, userWroteTo: 0, receivedBefore: 0, markedSpamBefore: 0 };
const CONTACT: SenderHistory = { ...UNKNOWN, isKnownContact: true, userWroteTo: 4, receivedBefore: 10 };
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

async function setup(t: Test): Promise<{ db: Db; userId: number }> {
  const dir = fs.mkdtempSync(os.tmpdir() + '/cal-');
  const db = await openDb(dir);
  t.teardown(async () => {
    await closeDb(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const [userId] = (await db('users').insert({ username: 'bob', password_hash: 'x', created_at: Date.now() })) as number[];
  return { db, userId: userId! };
}

interface Mail {
  from?: string;
  to?: string;
  cc?: string;
  subject?: string;
  headers?: string[];
  body?: string;
}

async function parse(m: Mail) {
  const head = [
    `From: ${m.from ?? 'Carol <carol@friends.example>'}`,
    `To: ${m.to ?? 'bob@home.example'}`,
    ...(m.cc ? [`Cc: ${m.cc}`] : []),
    `Subject: ${m.subject ?? 'Dinner on Friday'}`,
    'Message-ID: <m1@friends.example>',
    'Date: Mon, 1 Jan 2024 10:00:00 +0000',
    ...(m.headers ?? []),
  ];
  return simpleParser(Buffer.from(head.join('\r\n') + '\r\n\r\n' + (m.body ?? 'Shall we meet at the usual place at eight?') + '\r\n'));
}

async function score(db: Db, userId: number, m: Mail, more: { history?: SenderHistory; auth?: AuthResults | null; userAddresses?: string[]; repliesToUser?: boolean } = {}): Promise<SpamVerdict> {
  const parsed = await parse(m);
  return scoreSpam(db, userId, { parsed, auth: more.auth ?? null, history: more.history ?? UNKNOWN, tokens: tokenize(parsed), userAddresses: more.userAddresses, repliesToUser: more.repliesToUser });
}

const ids = (v: SpamVerdict) => v.signals.map((s) => s.id);

function auth(over: { dmarc?: string; policy?: string | null; dkim?: string; aligned?: boolean; spf?: string }): AuthResults {
  return {
    spf: { result: over.spf ?? 'pass', domain: 'friends.example' },
    dkim: over.dkim ? [{ result: over.dkim, domain: 'friends.example', selector: 's1', aligned: over.aligned ?? true }] : [],
    dmarc: { result: over.dmarc ?? 'pass', policy: over.policy ?? 'reject', domain: 'friends.example' },
    arc: { result: 'none' },
    headerFrom: 'friends.example',
    summary: [],
  };
}

t.test('ordinary mail from a stranger is not spam', async (t) => {
  const { db, userId } = await setup(t);
  const v = await score(db, userId, {});
  t.notOk(v.isSpam);
  t.ok(v.spamScore < 0.2, `score ${v.spamScore}`);
  t.ok(ids(v).includes('BAYES_UNTRAINED'), 'explains that the filter has not learned yet');
});

t.test('GTUBE is spam for sure, even from a contact', async (t) => {
  const { db, userId } = await setup(t);
  const v = await score(db, userId, { body: `Test\n${GTUBE}\n` }, { history: CONTACT });
  t.ok(v.isSpam);
  t.ok(v.spamScore > 0.99);
  t.ok(ids(v).includes('SPAM_GTUBE'));
  t.ok(v.importance <= -3, `spam sinks importance: ${v.importance}`);
  const almost = await score(db, userId, { body: 'What, I sent you the GTUBE? oops!' });
  t.notOk(almost.isSpam, 'mentioning GTUBE is not GTUBE');
});

const SHADY: Mail = {
  subject: 'YOU HAVE WON A BIG PRIZE TODAY',
  body: 'Claim now: http://203.0.113.9/claim and https://bit.ly/3xYz',
};

t.test('content rules add up; a known contact strongly lowers the score', async (t) => {
  const { db, userId } = await setup(t);
  const stranger = await score(db, userId, SHADY);
  t.ok(stranger.isSpam, `stranger: ${stranger.spamScore}`);
  t.ok(['SPAM_SUBJECT_ALL_CAPS', 'SPAM_URL_IP_HOST', 'SPAM_URL_SHORTENER'].every((id) => ids(stranger).includes(id as never)), ids(stranger).join());
  t.match(stranger.signals.find((s) => s.id === 'SPAM_URL_IP_HOST'), { detail: '203.0.113.9' });
  const contact = await score(db, userId, SHADY, { history: CONTACT });
  t.notOk(contact.isSpam, `contact: ${contact.spamScore}`);
  t.ok(contact.spamScore < stranger.spamScore);
  t.ok(ids(contact).includes('HAM_KNOWN_CONTACT') && ids(contact).includes('HAM_USER_WROTE_TO'));
  const marked = await score(db, userId, {}, { history: { ...UNKNOWN, markedSpamBefore: 3 } });
  t.ok(ids(marked).includes('SPAM_SENDER_MARKED_BEFORE'));
  t.ok(marked.spamScore > (await score(db, userId, {})).spamScore, 'marked before raises');
});

t.test('authentication: DMARC reject fails, aligned DKIM helps, forged contacts lose their trust', async (t) => {
  const { db, userId } = await setup(t);
  const rejectFail = await score(db, userId, {}, { auth: auth({ dmarc: 'fail', policy: 'reject', dkim: 'fail', spf: 'fail' }) });
  t.ok(rejectFail.isSpam);
  t.ok(['SPAM_DMARC_FAIL', 'SPAM_DKIM_FAIL', 'SPAM_SPF_FAIL'].every((id) => ids(rejectFail).includes(id as never)));
  const noneFail = await score(db, userId, {}, { auth: auth({ dmarc: 'fail', policy: 'none' }) });
  t.notOk(noneFail.isSpam, 'p=none alone is not enough');
  t.ok(ids(noneFail).includes('SPAM_DMARC_FAIL_POLICY_NONE'));
  const plain = await score(db, userId, {});
  const signed = await score(db, userId, {}, { auth: auth({ dkim: 'pass', aligned: true }) });
  t.ok(signed.spamScore < plain.spamScore && ids(signed).includes('HAM_DKIM_ALIGNED'));
  const forged = await score(db, userId, {}, { history: CONTACT, auth: auth({ dmarc: 'fail', policy: 'quarantine' }) });
  t.ok(forged.isSpam, `forged contact: ${forged.spamScore}`);
  t.ok(ids(forged).includes('SPAM_KNOWN_SENDER_FORGED'));
  t.notOk(ids(forged).includes('HAM_KNOWN_CONTACT'), 'no trust for a From that fails DMARC');
});

t.test('phishing shapes: display-name spoofing, executables, a bare link', async (t) => {
  const { db, userId } = await setup(t);
  const spoof = await score(db, userId, { from: '"service@paypal.com" <x@mailer.invalid-shop.example>' });
  t.match(spoof.signals.find((s) => s.id === 'SPAM_FROM_NAME_SPOOF'), { detail: /paypal\.com/ });
  const named = await score(db, userId, { from: 'PayPal Service <service@paypal.com>' });
  t.notOk(ids(named).includes('SPAM_FROM_NAME_SPOOF'), 'a name without a domain is fine');
  const exe = await score(db, userId, {
    headers: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary=b'],
    body: '--b\r\nContent-Type: text/plain\r\n\r\nyour invoice\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="invoice.pdf.exe"\r\n\r\nMZ\r\n--b--',
  });
  t.ok(ids(exe).includes('SPAM_EXECUTABLE_ATTACHMENT') && ids(exe).includes('SPAM_DOUBLE_EXTENSION'));
  t.ok(exe.isSpam);
  const bare = await score(db, userId, { body: 'http://click.example/x' });
  t.ok(ids(bare).includes('SPAM_EMPTY_BODY_LINK'));
});

t.test('importance: replies and direct mail up, lists and newsletters down', async (t) => {
  const { db, userId } = await setup(t);
  const me = ['bob@home.example'];
  const reply = await score(db, userId, { headers: ['In-Reply-To: <sent1@home.example>'] }, { history: CONTACT, userAddresses: me, repliesToUser: true });
  t.ok(ids(reply).includes('IMPORTANCE_REPLY_TO_USER') && ids(reply).includes('IMPORTANCE_DIRECT_TO'));
  t.ok(reply.importance >= 7, `reply ${reply.importance}`);
  const cc = await score(db, userId, { to: 'dave@friends.example', cc: 'bob@home.example' }, { history: CONTACT, userAddresses: me });
  const to = await score(db, userId, { to: 'bob@home.example, dave@friends.example' }, { history: CONTACT, userAddresses: me });
  t.ok(ids(cc).includes('IMPORTANCE_CC'));
  t.ok(to.importance > cc.importance, `To ${to.importance} > Cc ${cc.importance}`);
  const list = await score(db, userId, {
    to: 'club@lists.example',
    headers: ['List-Id: Club <club.lists.example>', 'List-Post: <mailto:club@lists.example>', 'List-Unsubscribe: <mailto:leave@lists.example>', 'Precedence: list'],
  }, { userAddresses: me });
  t.match(list.signals.find((s) => s.id === 'IMPORTANCE_MAILING_LIST'), { detail: 'club.lists.example' });
  t.notOk(ids(list).includes('IMPORTANCE_BULK'), 'a discussion list is not a newsletter');
  t.ok(list.importance < 0, `list ${list.importance}`);
  const news = await score(db, userId, { from: 'Shop <news@shop.example>', headers: ['List-Unsubscribe: <https://shop.example/u>', 'Precedence: bulk'] }, { userAddresses: me });
  t.ok(ids(news).includes('IMPORTANCE_BULK'));
  t.ok(news.importance < list.importance && news.importance <= -3, `newsletter ${news.importance} below list ${list.importance}`);
  const robot = await score(db, userId, { from: 'no-reply@service.example', headers: ['Auto-Submitted: auto-generated'] });
  t.ok(ids(robot).includes('IMPORTANCE_AUTOMATED'));
  for (const v of [reply, cc, to, list, news, robot]) t.ok(Number.isInteger(v.importance) && v.importance >= -10 && v.importance <= 10);
});

t.test('the learned filter: learns from the user, and retraining flips it', async (t) => {
  const { db, userId } = await setup(t);
  const spamMail = (i: number): Mail => ({ from: `promo${i}@deals.example`, subject: `Cheap replica watches ${i}`, body: `Luxury replica watches, discount pharmacy, casino bonus ${i}` });
  const hamMail = (i: number): Mail => ({ subject: `Band rehearsal ${i}`, body: `The rehearsal moves to the garage; bring the guitar and the setlist ${i}` });
  const trained: Array<{ tokens: string[] }> = [];
  for (let i = 0; i < 6; i++) {
    const tokens = tokenize(await parse(spamMail(i)));
    await trainSpam(db, userId, tokens, true, null);
    trained.push({ tokens });
    await trainSpam(db, userId, tokenize(await parse(hamMail(i))), false, null);
  }
  const probe: Mail = { from: 'promo99@deals.example', subject: 'Cheap replica watches', body: 'Luxury replica watches, discount pharmacy, casino bonus' };
  const before = await score(db, userId, probe);
  t.ok(before.isSpam, `learned spam: ${before.spamScore}`);
  t.ok(ids(before).includes('SPAM_BAYES_HIGH'));
  t.match(before.signals.find((s) => s.id === 'SPAM_BAYES_HIGH')?.detail, /%/);
  const rehearsal = await score(db, userId, hamMail(99));
  t.notOk(rehearsal.isSpam);
  t.ok(ids(rehearsal).includes('HAM_BAYES_LOW'));
  // the user had it wrong: all those "spam" were wanted after all
  for (const m of trained) await trainSpam(db, userId, m.tokens, false, 'spam');
  const after = await score(db, userId, probe);
  t.notOk(after.isSpam, `after retraining: ${after.spamScore}`);
  t.notOk(ids(after).includes('SPAM_BAYES_HIGH'));
});

t.test('every signal has a weight entry with an explanation', async (t) => {
  for (const [id, w] of Object.entries(WEIGHTS)) t.ok(w.about.length > 10, id);
});
