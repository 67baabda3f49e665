/**
 * Durability: under load (smtp-source plus our own senders that record every 250), the process
 * is killed with SIGKILL. After a restart, every message that got a 250 is present and readable,
 * and nothing is half-stored (every row has its raw file, participants, PI report, index entry,
 * and discussion counters match their messages).
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import nodemailer from 'nodemailer';
import { tempDir } from '../helpers/deps.js';
import { runCli } from '../helpers/cli.js';
import { startAppliance } from '../helpers/appliance-process.js';
import { openDb, closeDb } from '../../server/store/db.js';
import { createBlobStore } from '../../server/store/blobs.js';

const hasSmtpSource = fs.existsSync('/usr/sbin/smtp-source');

async function sender(port: number, worker: number, acked: string[], stop: { now: boolean }): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1, name: 'durability.test' });
  for (let i = 0; !stop.now && i < 2000; i++) {
    const id = `w${worker}-m${i}`;
    try {
      await transport.sendMail({
        envelope: { from: 'load@remote.test', to: ['alice@example.test'] },
        from: 'Load <load@remote.test>', to: 'alice@example.test', subject: `durability ${id}`,
        messageId: `<${id}@remote.test>`, text: `payload ${id} `.repeat(50),
      });
      acked.push(id); // only after the server answered 250
    } catch {
      break; // connection died with the process
    }
  }
  transport.close();
}

t.test('kill -9 under load loses nothing acknowledged and leaves nothing half-stored', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { CALIOPEN_DATA_DIR: dir, CALIOPEN_RESOLVER: '127.0.0.1:9', CALIOPEN_HOSTNAME: 'mx.example.test' };
  fs.writeFileSync(path.join(dir, 'pw'), 'durable password 123');
  t.equal((await runCli(['setup', '--domain', 'example.test', '--admin', 'alice', '--password-file', path.join(dir, 'pw')], env)).code, 0);

  const app = await startAppliance(env);
  const acked: string[] = [];
  const stop = { now: false };
  const senders = Array.from({ length: 8 }, (_, w) => sender(app.ports.smtp, w, acked, stop));
  const load = hasSmtpSource
    ? spawn('/usr/sbin/smtp-source', ['-s', '5', '-m', '100000', '-l', '4000', '-d', '-f', 'src@remote.test', '-t', 'alice@example.test', `127.0.0.1:${app.ports.smtp}`], { stdio: 'ignore' })
    : null;
  const deadline = Date.now() + 15_000;
  while (acked.length < 150 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await app.kill9();
  stop.now = true;
  load?.kill('SIGKILL');
  await Promise.all(senders);
  t.ok(acked.length >= 50, `messages acknowledged before the kill: ${acked.length}`);

  // Restart: the process comes back on the same data dir.
  const again = await startAppliance(env);
  await again.stop();

  const db = await openDb(dir);
  t.teardown(() => closeDb(db));
  const blobs = createBlobStore(dir);
  const subjects = new Set((await db('messages').select('subject')).map((r: { subject: string }) => r.subject));
  const missing = acked.filter((id) => !subjects.has(`durability ${id}`));
  t.same(missing, [], 'every acknowledged message is stored');

  const rows = await db('messages').select('id', 'blob_hash', 'discussion_id');
  let unreadable = 0;
  for (const r of rows) {
    try {
      await blobs.get(r.blob_hash);
    } catch {
      unreadable++;
    }
  }
  t.equal(unreadable, 0, `all ${rows.length} raw files readable`);
  const orphanRows = await db('messages')
    .whereNotExists(db('pi_reports').whereRaw("object_type = 'message' and object_id = messages.id"))
    .orWhereNotExists(db('participants').whereRaw('participants.message_id = messages.id'))
    .count({ n: '*' });
  t.equal(orphanRows[0]!.n, 0, 'no message without its participants or PI report');
  const ftsCount = (await db.raw('select count(*) as n from messages_fts'))[0].n;
  t.equal(ftsCount, rows.length, 'every message is in the full-text index');
  const badDiscussions = await db('discussions as d')
    .whereRaw('d.message_count != (select count(*) from messages m where m.discussion_id = d.id)')
    .count({ n: '*' });
  t.equal(badDiscussions[0]!.n, 0, 'discussion counters match their messages');
});
