/**
 * Every file of the shared real-world corpus that could be mail (inbound/, spam/, ham/, bounces/,
 * pgp/) goes through the import path of ingest() without a crash or a hang, and every stored
 * message is then readable through the API. Malformed ones are stored and shown as far as the
 * parser allows. mbox files are split by the same reader as `caliopen import mbox`.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { createApp } from '../../server/app.js';
import { runSetup } from '../../server/setup/first-run.js';
import { readMbox } from '../../server/mail/mailbox-readers.js';
import { FakeClock } from '../../server/clock.js';
import { silentLogger } from '../../server/log.js';
import { corpusDir, corpusFiles, needsCorpus } from '../helpers/corpus.js';
import { tempDir, testConfig } from '../helpers/deps.js';
import { zoneResolver } from '../helpers/dns.js';
import { apiClient } from '../helpers/api-client.js';

const NOT_MAIL = /(^|\/)(LICENSE|COPYING|ARTISTIC)[^/]*$|\.(json|xml|tsv|yml|yaml|md|pem|key|pub|sec|gpg|pgp|vcf|ics|py|sh)$/i;
const PER_MESSAGE_LIMIT_MS = 20_000;

function withLimit<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hang: ${what} took more than ${PER_MESSAGE_LIMIT_MS} ms`)), PER_MESSAGE_LIMIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

function looksLikeMbox(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(5);
  fs.readSync(fd, head, 0, 5, 0);
  fs.closeSync(fd);
  return head.toString('latin1') === 'From ';
}

t.test('the whole corpus ingests and reads back', needsCorpus(), async (t) => {
  const dir = tempDir();
  const clock = new FakeClock('2026-03-01T10:00:00Z');
  const app = await createApp(testConfig(dir), { dns: zoneResolver({}), log: silentLogger, clock });
  const { deps, ingestor } = app.services;
  await runSetup(deps.db, clock, { domain: 'example.test', admin: 'alice', password: 'corpus password 1' });
  app.services.setup.code = null;
  const ports = await app.start();
  t.teardown(async () => {
    await app.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const alice = (await deps.db('users').where({ username: 'alice' }).first()).id as number;

  const files = ['inbound', 'spam', 'ham', 'bounces', 'pgp'].flatMap((sub) => corpusFiles(sub, (f) => !NOT_MAIL.test(f)));
  t.ok(files.length > 2500, `${files.length} corpus files`);
  const failures: string[] = [];
  let messages = 0;
  const started = Date.now();
  for (const file of files) {
    const rel = path.relative(corpusDir, file);
    const raws: Buffer[] = [];
    if (looksLikeMbox(file)) for await (const raw of readMbox(file)) raws.push(raw);
    else raws.push(fs.readFileSync(file));
    for (const raw of raws) {
      if (raw.length === 0) continue;
      try {
        await withLimit(ingestor.ingest({ source: 'mbox', raw, userIds: [alice] }), rel);
        messages++;
      } catch (err) {
        failures.push(`${rel}: ${(err as Error).message}`);
      }
    }
  }
  t.comment(`ingested ${messages} messages from ${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.same(failures, [], 'no message failed to ingest');

  const api = apiClient(ports.http);
  await api.login('alice', 'corpus password 1');
  const ids = (await deps.db('messages').where({ user_id: alice }).select('id')).map((r: { id: number }) => r.id);
  const unreadable: string[] = [];
  for (const id of ids) {
    const res = await api.get(`/api/v1/messages/${id}`);
    if (res.status !== 200) unreadable.push(`${id}: ${res.status}`);
  }
  t.ok(ids.length > 2000, `${ids.length} distinct messages stored`);
  t.same(unreadable, [], 'every stored message reads back through the API');
});
