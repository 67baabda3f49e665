import t from 'tap';
import { simpleParser } from 'mailparser';
import { MAX_TOKENS, htmlToText, tokenize } from '../../../server/spam/tokenize.js';
import { baseDomain, hostOf } from '../../../server/spam/facts.js';

async function parse(head: string, body: string) {
  return simpleParser(Buffer.from(`${head.trim()}\r\n\r\n${body}`), { skipTextToHtml: true });
}

const HEAD = `From: "Alice Martin" <alice@mail.example.org>\r\nTo: bob@example.net\r\nSubject: Réunion GRANDE Größe\r\nMessage-ID: <1@mail.example.org>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000`;

t.test('subject, sender and body words, lower-cased and Unicode-aware', async (t) => {
  const tokens = tokenize(await parse(HEAD, 'Bonjour Bob, the café opens at 9. Naïve résumé!'));
  for (const tok of ['s:réunion', 's:grande', 's:größe', 'fd:mail.example.org', 'fd:example.org', 'fa:alice@mail.example.org', 'fn:alice', 'bonjour', 'café', 'naïve', 'résumé']) {
    t.ok(tokens.includes(tok), tok);
  }
  t.notOk(tokens.includes('Bonjour'), 'no upper case left');
  t.equal(new Set(tokens).size, tokens.length, 'no duplicates');
});

t.test('URL hosts, with the userinfo trick resolved to the real host', async (t) => {
  const tokens = tokenize(await parse(HEAD, 'Log in at http://paypal.com@login.evil.example/x and https://www.shop.example.co.uk/a?b=1.'));
  t.ok(tokens.includes('u:login.evil.example'));
  t.ok(tokens.includes('u:evil.example'));
  t.ok(tokens.includes('u:example.co.uk'));
  t.notOk(tokens.includes('u:paypal.com'), 'the part before @ is not the host');
  t.ok(tokens.includes('h:urls:2-5'));
  t.equal(hostOf('http://[2001:db8::1]:8080/x'), '[2001:db8::1]');
  t.equal(hostOf('https://Example.COM./'), 'example.com');
  t.equal(baseDomain('a.b.example.com'), 'example.com');
  t.equal(baseDomain('10.1.2.3'), '10.1.2.3');
});

t.test('HTML-only mail: text comes from the HTML, scripts and styles do not', async (t) => {
  const head = HEAD + '\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8';
  const html = '<html><head><style>.hidden{color:white}</style></head><body><p>Cheap&nbsp;watches &amp; more</p><script>var tracker=1</script><a href="http://198.51.100.7/buy">x</a></body></html>';
  const parsed = await parse(head, html);
  parsed.text = undefined; // as with a parser told to skip HTML-to-text conversion
  const tokens = tokenize(parsed);
  t.ok(tokens.includes('cheap') && tokens.includes('watches'));
  t.notOk(tokens.includes('tracker'), 'script content is not text');
  t.notOk(tokens.includes('hidden'), 'style content is not text');
  t.ok(tokens.includes('u:198.51.100.7'), 'hosts of href attributes count');
  t.ok(tokens.includes('t:script') && tokens.includes('t:a'), 'markup shape');
  t.ok(tokens.includes('h:ct:text/html'));
});

t.test('unspaced scripts are counted as character pairs', async (t) => {
  const tokens = tokenize(await parse(HEAD, '会議の時間'));
  t.ok(tokens.includes('会議') && tokens.includes('議の'), tokens.join(' '));
});

t.test('attachments give extension and type tokens', async (t) => {
  const head = HEAD + '\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b';
  const body = '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="invoice.pdf.exe"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n';
  const tokens = tokenize(await parse(head, body));
  t.ok(tokens.includes('ext:exe'));
  t.ok(tokens.some((x) => x.startsWith('h:att:')));
});

t.test('bounded: a huge message yields at most MAX_TOKENS tokens and keeps its header tokens', async (t) => {
  const words = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}x`).join(' ');
  const tokens = tokenize(await parse(HEAD, words));
  t.equal(tokens.length, MAX_TOKENS);
  t.ok(tokens.includes('fd:mail.example.org'), 'sender survives the cap');
  t.ok(tokens.includes('s:réunion'), 'subject survives the cap');
});

t.test('long digit runs (order numbers) are dropped, short numbers kept', async (t) => {
  const tokens = tokenize(await parse(HEAD, 'order 123456789 costs 2024 euros'));
  t.notOk(tokens.includes('123456789'));
  t.ok(tokens.includes('2024'));
});

t.test('htmlToText stays linear on hostile markup', async (t) => {
  const hostile = '<b>x<style>'.repeat(50_000) + '<script>' + 'y'.repeat(100_000);
  const start = performance.now();
  const text = htmlToText(hostile);
  t.ok(performance.now() - start < 2000, 'no quadratic blow-up');
  t.notOk(text.includes('y'), 'an unclosed script hides the rest');
  t.equal(htmlToText('a<b>b</b>&#233;&#x41;&lt;'), 'a b éA<');
});
