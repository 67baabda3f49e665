/**
 * The IMAP import tests' common ground: test deps with alice, the real ingest, a real Dovecot
 * (tests/helpers/dovecot.ts) and an external account pointing at it; plus look-ups of what got
 * stored (messages by subject, their tags).
 */
import type { Knex } from 'knex';
import type { Test } from 'tap';
import { testDeps, makeMessage, type TestDeps } from './deps.js';
import { startDovecot, type Dovecot } from './dovecot.js';
import { runSetup } from '../../server/setup/first-run.js';
import { createIngestor, type Ingestor } from '../../server/mail/ingest.js';
import { createAccount, type NewAccount, type ExternalAccount } from '../../server/imap-import/account-store.js';
import { runAccountSync, type RunOptions } from '../../server/imap-import/runner.js';

export interface ImapHarness {
  deps: TestDeps;
  dovecot: Dovecot;
  ingestor: Ingestor;
  aliceId: number;
  account(extra?: Partial<NewAccount>): Promise<ExternalAccount>;
  sync(accountId: number, opts?: RunOptions): ReturnType<typeof runAccountSync>;
  count(): Promise<number>;
  tagsOfSubject(subject: string): Promise<string[]>;
}

export function mail(subject: string, extra: Parameters<typeof makeMessage>[0] = {}): Buffer {
  return makeMessage({ subject, messageId: `${subject.replace(/\W+/g, '-')}-${Math.random().toString(36).slice(2)}@remote.test`, ...extra });
}

export async function tagsOf(db: Knex, messageId: number): Promise<string[]> {
  const rows: Array<{ name: string }> = await db('message_tags').join('tags', 'tags.id', 'message_tags.tag_id').where({ message_id: messageId }).select('name');
  return rows.map((r) => r.name).sort();
}

export async function imapHarness(t: Test, opts: { config?: Record<string, unknown> } = {}): Promise<ImapHarness> {
  const deps = await testDeps();
  Object.assign(deps.config.imports, opts.config ?? {});
  const alice = await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'correct horse battery' });
  const ingestor = createIngestor(deps);
  // before Dovecot starts: if it does not, the store is still closed (an open one keeps the test running)
  t.teardown(async () => {
    await ingestor.drain();
    await deps.close();
  });
  const dovecot = await startDovecot(t);
  return {
    deps,
    dovecot,
    ingestor,
    aliceId: alice.id,
    account: (extra = {}) =>
      createAccount(deps.db, deps.secrets, {
        userId: alice.id, address: 'alice@remote.test', host: '127.0.0.1', port: dovecot.imapsPort, tls: 'implicit',
        username: 'alice', password: 'alicepass', intervalMinutes: 15, trustedFingerprint: dovecot.fingerprint, trustedCertPem: dovecot.certPem, ...extra,
      }, deps.clock.now().getTime()),
    sync: (accountId, o) => runAccountSync(deps, ingestor, accountId, o),
    count: async () => Number((await deps.db('messages').where({ user_id: alice.id }).count({ n: '*' }))[0]!.n),
    async tagsOfSubject(subject) {
      const m = await deps.db('messages').where({ user_id: alice.id, subject }).first('id');
      if (!m) throw new Error(`no message "${subject}"`);
      return tagsOf(deps.db, m.id);
    },
  };
}
