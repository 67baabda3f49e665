/**
 * `caliopen import imap` as a real child process against a real Dovecot: it shows progress, and a
 * kill -9 in the middle of an import loses nothing and stores nothing twice: the next run resumes
 * from the last committed batch and the count is exact.
 */
import { spawn } from 'node:child_process';
import t from 'tap';
import { testDeps, makeMessage } from '../helpers/deps.js';
import { dovecotMissing, startDovecot } from '../helpers/dovecot.js';
import { caliopenBin, runCli } from '../helpers/cli.js';
import { runSetup } from '../../server/setup/first-run.js';
import { createAccount, listFolders } from '../../server/imap-import/account-store.js';

const skip = dovecotMissing();
if (skip) t.comment(skip);

t.test('kill -9 mid-import, then resume: every message exactly once', { skip }, async (t) => {
  const N = 1500;
  const dovecot = await startDovecot(t);
  const body = 'Some text of a realistic length for a mail body.\r\n'.repeat(30);
  for (let i = 0; i < N; i++) dovecot.add('alice', i % 3 === 0 ? 'Archive' : 'INBOX', makeMessage({ subject: `bulk ${i}`, messageId: `bulk-${i}@remote.test`, body }), i % 2 ? 'S' : '');
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const alice = await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'correct horse battery' });
  const account = await createAccount(deps.db, deps.secrets, {
    userId: alice.id, address: 'alice@remote.test', host: '127.0.0.1', port: dovecot.imapsPort, tls: 'implicit', username: 'alice', password: 'alicepass',
    intervalMinutes: 15, trustedFingerprint: dovecot.fingerprint, trustedCertPem: dovecot.certPem,
  }, Date.now());
  const env = { ...process.env, CALIOPEN_DATA_DIR: deps.dataDir, CALIOPEN_LOG_LEVEL: 'warn', CALIOPEN_HOSTNAME: 'mx.example.test' };
  const count = async () => Number((await deps.db('messages').count({ n: '*' }))[0]!.n);

  const child = spawn(process.execPath, [caliopenBin, 'import', 'imap', '--account', 'alice@remote.test'], { env, cwd: deps.dataDir });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? -1 : code)));
  const deadline = Date.now() + 90_000;
  while ((await count()) < 300 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  t.equal(await exited, -1, 'killed in the middle');
  t.match(stderr, /running: (INBOX|Archive) \d+\/\d+, \d+\/1500 in all, \d+ new, \d+ known, [\d.]+ msg\/s/, 'progress lines shown');
  const afterKill = await count();
  t.ok(afterKill >= 300 && afterKill < N, `killed mid-import (${afterKill} stored)`);
  const cursors = await listFolders(deps.db, account.id);
  t.ok(cursors.reduce((n, f) => n + f.lastUid, 0) <= afterKill, 'the cursors never run ahead of what is stored');

  const resumed = await runCli(['import', 'imap', '--account', String(account.id)], { CALIOPEN_DATA_DIR: deps.dataDir, CALIOPEN_HOSTNAME: 'mx.example.test' }, 120_000);
  t.equal(resumed.code, 0, resumed.stderr);
  t.equal(await count(), N, 'every message exactly once');
  const m = /(\d+) imported, (\d+) already there/.exec(resumed.stdout);
  t.equal(Number(m?.[1]), N - afterKill, 'the second run imported only what was missing');
  t.ok(Number(m?.[2]) < 2 * 200, 'and read again at most what followed the last cursor (a batch per folder)');
  t.match(resumed.stderr, /done: .*1500\/1500 in all/);
  const dup = await deps.db('messages').select('message_id').groupBy('message_id').havingRaw('count(*) > 1');
  t.same(dup, [], 'no Message-ID twice');
  const again = await runCli(['import', 'imap', '--account', 'alice@remote.test'], { CALIOPEN_DATA_DIR: deps.dataDir, CALIOPEN_HOSTNAME: 'mx.example.test' }, 60_000);
  t.match(again.stdout, /0 imported, 0 already there/, 'a third run reads nothing');
  const missing = await runCli(['import', 'imap', '--account', 'nobody@remote.test'], { CALIOPEN_DATA_DIR: deps.dataDir }, 30_000);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no external account nobody@remote.test/);
});
