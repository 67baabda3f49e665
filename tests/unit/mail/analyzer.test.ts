import t from 'tap';
import { createAnalyzer } from '../../../server/mail/analyzer.js';
import { analyzeWorkerScript } from '../../../server/mail/analyze-worker-script.js';
import { createLogger, silentLogger } from '../../../server/log.js';

const RAW = Buffer.from(
  [
    'From: Ann <ann@remote.test>', 'To: bob@example.test', 'Subject: hello', 'Message-ID: <m1@remote.test>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '',
    '--b', 'Content-Type: text/plain', '', 'the report is attached', '',
    '--b', 'Content-Type: application/octet-stream', 'Content-Disposition: attachment; filename="r.bin"', 'Content-Transfer-Encoding: base64', '',
    Buffer.from([1, 2, 3, 4]).toString('base64'), '--b--', '',
  ].join('\r\n'),
);

t.test('the worker runs as one plain module (no tsx in the worker)', async (t) => {
  const url = await analyzeWorkerScript();
  t.equal(url.protocol, 'data:');
  t.notMatch(decodeURIComponent(url.href), /from "(mailparser|mailauth)"/, 'packages imported by absolute URL');
});

t.test('a message analysed in the worker thread comes back whole, attachments as Buffers', async (t) => {
  const analyzer = createAnalyzer({ threads: 1, resolver: async () => [], resolverAddress: '127.0.0.1:9', log: silentLogger });
  t.teardown(() => analyzer.close());
  const a = await analyzer.analyze(RAW, { source: 'local', mta: 'mx.example.test' });
  t.equal(a.parsed.subject, 'hello');
  t.equal(a.auth, null, 'local mail is not authenticated');
  t.ok(a.tokens.length > 0);
  t.match(a.hash, /^[0-9a-f]{64}$/);
  const att = a.parsed.attachments[0]!;
  t.ok(Buffer.isBuffer(att.content));
  t.same([...att.content], [1, 2, 3, 4]);
});

t.test('analyzers started side by side share one bundle and none falls back to tsx', async (t) => {
  const lines: string[] = [];
  const log = createLogger('warn', {}, (l) => lines.push(l));
  const analyzers = [1, 2, 3].map(() => createAnalyzer({ threads: 1, resolver: async () => [], resolverAddress: '127.0.0.1:9', log }));
  t.teardown(() => Promise.all(analyzers.map((a) => a.close())));
  const results = await Promise.all(analyzers.map((a) => a.analyze(RAW, { source: 'local', mta: 'mx.example.test' })));
  t.same(results.map((r) => r.parsed.subject), ['hello', 'hello', 'hello']);
  t.same(lines, [], 'no warning: every worker runs the bundle');
});
