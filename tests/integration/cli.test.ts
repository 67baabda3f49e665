import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/deps.js';

t.test('setup, domains, users, print-config, import', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { CALIOPEN_DATA_DIR: dir, CALIOPEN_RESOLVER: '127.0.0.1:9' };
  const pw = path.join(dir, 'pw');
  fs.writeFileSync(pw, 'a long enough password\n');

  let r = await runCli(['setup', '--domain', 'Example.TEST', '--admin', 'alice', '--password-file', pw], env);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /domain example\.test, admin alice/);
  r = await runCli(['setup', '--domain', 'example.test', '--admin', 'alice', '--password-file', pw], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /already set up/);

  r = await runCli(['domain', 'add', 'second.test'], env);
  t.equal(r.code, 0, r.stderr);
  r = await runCli(['domain', 'list'], env);
  t.same(r.stdout.trim().split('\n'), ['example.test', 'second.test']);
  r = await runCli(['domain', 'add', 'not a domain'], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /not a valid domain/);

  r = await runCli(['user', 'add', 'bob', '--domain', 'second.test', '--password-file', pw], env);
  t.equal(r.code, 0, r.stderr);
  r = await runCli(['user', 'list'], env);
  t.match(r.stdout, /alice\talice@example\.test\tadmin/);
  t.match(r.stdout, /bob\tbob@second\.test/);
  fs.writeFileSync(path.join(dir, 'short'), 'short');
  r = await runCli(['user', 'add', 'carl', '--domain', 'second.test', '--password-file', path.join(dir, 'short')], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /at least 10 characters/);

  const mbox = path.join(dir, 'in.mbox');
  const msg = (n: number) => `From sender@remote.test Sun Mar  1 09:00:00 2026\nFrom: sender@remote.test\nTo: bob@second.test\nSubject: imported ${n}\nMessage-ID: <imp${n}@remote.test>\n\nBody ${n}\n>From the archive\n\n`;
  fs.writeFileSync(mbox, msg(1) + msg(2) + msg(3));
  r = await runCli(['import', 'mbox', mbox, '--user', 'bob'], env);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^3 imported, 0 duplicates, 0 failed/m);
  r = await runCli(['import', 'mbox', mbox, '--user', 'bob'], env);
  t.match(r.stdout, /^0 imported, 3 duplicates, 0 failed/m, 'importing twice stores once');
  r = await runCli(['import', 'mbox', path.join(dir, 'missing'), '--user', 'bob'], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /no such file/);
  r = await runCli(['import', 'mbox', mbox, '--user', 'nobody'], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /no user nobody/);

  r = await runCli(['user', 'remove', 'bob'], env);
  t.equal(r.code, 0, r.stderr);
  r = await runCli(['user', 'list'], env);
  t.notMatch(r.stdout, /bob/);
});

t.test('print-config redacts secrets and bad config lists every error', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let r = await runCli(['print-config'], { CALIOPEN_DATA_DIR: dir, CALIOPEN_RELAY: 'smtps://relayuser:s3cr3t-pass@relay.test:465' });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout, /s3cr3t-pass/);
  t.match(JSON.parse(r.stdout).relay, /relayuser:\[redacted\]@relay\.test/);
  r = await runCli(['print-config'], { CALIOPEN_DATA_DIR: dir, CALIOPEN_HTTP_PORT: 'eighty', CALIOPEN_RESOLVER: 'dns' });
  t.equal(r.code, 78);
  t.match(r.stderr, /CALIOPEN_HTTP_PORT/);
  t.match(r.stderr, /resolver/);
  r = await runCli(['frobnicate'], { CALIOPEN_DATA_DIR: dir });
  t.equal(r.code, 1);
  t.match(r.stderr, /unknown command "frobnicate"/);
});
