import t from 'tap';
import { buildDsn, type DsnInput } from '../../../server/delivery/dsn.js';
import { parseBounce } from '../../../server/delivery/bounce-parse.js';
import { explainStatus, isHardFailure } from '../../../server/delivery/status-codes.js';
import { parseMessage } from '../../../server/mail/parse.js';

const original = Buffer.from(
  [
    'From: Alice <alice@example.test>',
    'To: Bob <bob@example.org>',
    'Bcc: secret-friend@example.net',
    'Subject: Lunch on Friday',
    'Date: Sun, 01 Mar 2026 09:00:00 +0000',
    'Message-ID: <lunch-1@example.test>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'PRIVATE BODY: the door code is 4321',
    '',
  ].join('\r\n'),
);

function input(lang: 'en' | 'fr', over: Partial<DsnInput> = {}): DsnInput {
  return {
    lang,
    reportingMta: 'mx.example.test',
    arrivalDate: new Date('2026-03-01T09:00:00Z'),
    postmaster: 'MAILER-DAEMON@mx.example.test',
    to: 'alice@example.test',
    original,
    recipients: [
      {
        address: 'bob@example.org', action: 'failed', status: '5.1.1', code: '550 5.1.1',
        diagnostic: '550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual mailbox table', remoteMta: 'mx.example.org',
      },
    ],
    now: new Date('2026-03-01T09:05:00Z'),
    ...over,
  };
}

for (const lang of ['en', 'fr'] as const) {
  t.test(`a failure DSN in ${lang} is read back by our own parser`, async (t) => {
    const raw = buildDsn(input(lang));
    const parsed = await parseMessage(raw);
    t.equal(parsed.subject, lang === 'en' ? 'Undelivered Mail Returned to Sender' : 'Message non remis');
    t.equal(parsed.inReplyTo, '<lunch-1@example.test>', 'threads with the original');
    t.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
    t.match(String(parsed.headers.get('content-type') && (parsed.headers.get('content-type') as { value: string }).value), 'multipart/report');
    const report = parseBounce(parsed, raw);
    t.ok(report, 'recognised as a bounce');
    t.equal(report!.kind, 'failed');
    t.equal(report!.originalMessageId, 'lunch-1@example.test');
    t.equal(report!.reportingMta, 'mx.example.test');
    t.match(report!.recipients, [{ address: 'bob@example.org', action: 'failed', status: '5.1.1', code: '550', hard: true }]);
    const text = raw.toString('utf8');
    t.notOk(text.includes('PRIVATE BODY'), 'the body of the original is never echoed');
    t.notOk(text.includes('secret-friend'), 'nor its Bcc');
    t.ok(text.includes('Subject: Lunch on Friday'), 'its headers are');
    const human = parsed.text ?? '';
    if (lang === 'en') {
      t.match(human, "Your message to bob@example.org could not be delivered: the recipient's server says this address does not exist (550 5.1.1");
      t.match(human, 'Check the address and send it again.');
    } else {
      t.match(human, "Votre message à bob@example.org n'a pas pu être remis : le serveur du destinataire indique que cette adresse n'existe pas (550 5.1.1");
      t.match(human, "Vérifiez l'adresse et renvoyez-le.");
    }
  });

  t.test(`a delay DSN in ${lang} says until when the box keeps trying`, async (t) => {
    const raw = buildDsn(input(lang, {
      recipients: [{ address: 'carol@example.org', action: 'delayed', status: '4.4.1', code: null, diagnostic: 'connection refused by mx.example.org', willRetryUntil: new Date('2026-03-06T09:00:00Z') }],
    }));
    const parsed = await parseMessage(raw);
    t.equal(parsed.subject, lang === 'en' ? 'Delayed Mail (still being retried)' : 'Message retardé (nouvel essai en cours)');
    t.match(raw.toString('latin1'), /Will-Retry-Until: Fri, 06 Mar 2026 09:00:00 \+0000/);
    t.match(raw.toString('latin1'), /Diagnostic-Code: x-caliopen; connection refused by mx\.example\.org/);
    t.match(parsed.text ?? '', lang === 'en' ? 'The box keeps trying until Friday, 6 March 2026' : "La boîte continue d'essayer jusqu'au vendredi 6 mars 2026");
    const report = parseBounce(parsed, raw);
    t.equal(report?.kind, 'delayed');
    t.match(report?.recipients, [{ address: 'carol@example.org', action: 'delayed', status: '4.4.1', hard: false }]);
  });
}

t.test('an expired message says for how long the box tried', async (t) => {
  const raw = buildDsn(input('en', {
    now: new Date('2026-03-06T09:00:00Z'),
    recipients: [{ address: 'dan@example.org', action: 'failed', status: '4.4.7', code: '451 4.3.0', diagnostic: '451 4.3.0 Temporary lookup failure' }],
  }));
  const parsed = await parseMessage(raw);
  t.match(parsed.text ?? '', 'could not be delivered: the box kept trying for 5 days without success (451 4.3.0 Temporary lookup failure)');
  t.match(parseBounce(parsed, raw)?.recipients, [{ address: 'dan@example.org', action: 'failed', status: '4.4.7', hard: false }]);
});

t.test('long diagnostics are folded; several recipients each get a group', async (t) => {
  const long = '550 5.7.1 ' + 'this server does not accept mail from your network for policy reasons '.repeat(4);
  const raw = buildDsn(input('en', {
    recipients: [
      { address: 'a@example.org', action: 'failed', status: '5.7.1', code: '550 5.7.1', diagnostic: long },
      { address: 'b@example.org', action: 'failed', status: '5.2.2', code: '552 5.2.2', diagnostic: '552 5.2.2 Mailbox full' },
    ],
  }));
  const lines = raw.toString('latin1').split('\r\n');
  t.ok(lines.every((l) => l.length <= 998), 'no line beyond the RFC 5322 limit');
  const report = parseBounce(await parseMessage(raw), raw);
  t.same(report?.recipients.map((r) => [r.address, r.status, r.hard]), [['a@example.org', '5.7.1', false], ['b@example.org', '5.2.2', false]]);
  t.match(report?.recipients[0]?.diagnostic, /for policy reasons/);
});

t.test('status codes in plain words, in both languages; hard failures are about the address', async (t) => {
  t.equal(explainStatus('5.2.2', 'en'), "the recipient's mailbox is full");
  t.equal(explainStatus('5.2.2', 'fr'), 'la boîte du destinataire est pleine');
  t.match(explainStatus('5.7.26', 'en'), 'SPF, DKIM or DMARC');
  t.match(explainStatus('5.7.99', 'fr'), 'politique');
  t.match(explainStatus('4.4.2', 'en'), 'did not answer');
  t.match(explainStatus('5.1.10', 'en'), 'null MX');
  t.match(explainStatus('5.4.4', 'fr'), "n'existe peut-être pas");
  t.match(explainStatus(null, 'en'), 'refused');
  t.ok(isHardFailure('5.1.1', '550', 'User unknown'));
  t.ok(isHardFailure(null, '550', 'No such user here'));
  t.ok(isHardFailure('5.0.0', null, 'Host or domain name not found'));
  t.notOk(isHardFailure('5.2.2', '552', 'Mailbox full'));
  t.notOk(isHardFailure('5.1.1', '550', 'IP address blacklisted by recipient'), 'the text wins over a lazy status');
  t.notOk(isHardFailure('2.0.0', '250', 'OK'));
});
