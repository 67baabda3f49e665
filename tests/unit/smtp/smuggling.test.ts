import t from 'tap';
import { LineEndingScanner, type BareLineEnding } from '../../../server/smtp/smuggling.js';

/** Scans data cut into chunks at the given offsets. */
function scan(data: string, cuts: number[] = []): BareLineEnding | null {
  const scanner = new LineEndingScanner();
  const bytes = Buffer.from(data, 'latin1');
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    scanner.write(bytes.subarray(from, cut));
    from = cut;
  }
  return scanner.end();
}

/** Every way of cutting data in two and in three, so no chunk boundary hides or invents a violation. */
function everySplit(data: string): number[][] {
  const splits: number[][] = [[]];
  for (let i = 0; i <= data.length; i++) {
    splits.push([i]);
    for (let j = i; j <= data.length; j++) splits.push([i, j]);
  }
  return splits;
}

const CASES: Array<[string, string, BareLineEnding | null]> = [
  ['clean CRLF lines', 'a\r\nb\r\n\r\nc\r\n', null],
  ['empty', '', null],
  ['bare LF', 'a\r\nb\nc\r\n', { kind: 'bare_lf', offset: 4 }],
  ['LF first', '\na\r\n', { kind: 'bare_lf', offset: 0 }],
  ['bare CR', 'a\rb\r\n', { kind: 'bare_cr', offset: 1 }],
  ['CR at the very end', 'a\r\nb\r', { kind: 'bare_cr', offset: 4 }],
  ['LF CR (reversed)', 'a\n\rb', { kind: 'bare_lf', offset: 1 }],
  ['smuggling <LF>.<CR><LF>', 'x\r\n\n.\r\nMAIL FROM:<a@b>\r\n', { kind: 'bare_lf', offset: 3 }],
  ['smuggling <CR><LF>.<LF>', 'x\r\n.\nMAIL FROM:<a@b>\r\n', { kind: 'bare_lf', offset: 4 }],
  ['CR CR LF', 'a\r\r\n', { kind: 'bare_cr', offset: 1 }],
  ['first of two violations wins', 'ab\rc\nd\r\n', { kind: 'bare_cr', offset: 2 }],
];

for (const [name, data, expected] of CASES) {
  t.test(name, async (t) => {
    const wrong = everySplit(data).filter((cuts) => JSON.stringify(scan(data, cuts)) !== JSON.stringify(expected));
    t.same(scan(data), expected);
    t.same(wrong, [], 'same answer whatever the chunk boundaries');
  });
}

t.test('violation is visible before end(), and offsets count across chunks', async (t) => {
  const scanner = new LineEndingScanner();
  scanner.write(Buffer.from('0123456789\r\n'));
  t.equal(scanner.violation, null);
  scanner.write(Buffer.from('ab\ncd'));
  t.same(scanner.violation, { kind: 'bare_lf', offset: 14 });
  scanner.write(Buffer.from('\r'));
  t.same(scanner.end(), { kind: 'bare_lf', offset: 14 }, 'the first violation is kept');
});

t.test('a large clean message scans fast', async (t) => {
  const big = Buffer.alloc(50_000_000, 'x'); // 50 MB of 1000-byte CRLF lines
  for (let i = 998; i < big.length; i += 1000) big.write('\r\n', i, 'latin1');
  const scanner = new LineEndingScanner();
  const started = process.hrtime.bigint();
  for (let i = 0; i < big.length; i += 65_536) scanner.write(big.subarray(i, i + 65_536));
  t.equal(scanner.end(), null);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  t.ok(ms < 2000, `50 MB scanned in ${ms.toFixed(0)} ms`);
});
