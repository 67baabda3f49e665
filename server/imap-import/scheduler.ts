/**
 * Polling of external accounts. One node-cron task ticks every minute and starts the accounts that
 * are due (`next_sync_at`, set by the runner: the account's interval after a success, a growing
 * delay after a transient failure, never while it needs attention or is paused). Due times live
 * in the database rather than in one cron expression per account, so that a per-account
 * interval, the backoff and a restart of the box all agree. "Sync now" starts an account at once.
 * One sync per account (the runner's lease), and at most `maxParallel` accounts at a time.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Ingestor } from '../mail/ingest.js';
import { AppError, isAppError } from '../errors.js';
import { dueAccounts, getAccount } from './account-store.js';
import { runAccountSync, type RunDeps } from './runner.js';

const STOP_GRACE_MS = 15_000;

export interface ImportScheduler {
  start(): void;
  /** stops polling, asks running syncs to stop after their batch, and waits for them (15 s at most) */
  stop(): Promise<void>;
  /** starts the due accounts (the cron task calls it every minute; tests call it after moving the clock) */
  tick(): Promise<void>;
  /** starts a sync of one of the user's accounts now; sync_in_progress if one runs already */
  syncNow(userId: number, accountId: number): Promise<void>;
  running(accountId: number): boolean;
  /** resolves when the account's current sync (if any) has ended */
  settled(accountId: number): Promise<void>;
}

export function createImportScheduler(deps: RunDeps, ingestor: Ingestor, opts: { maxParallel?: number } = {}): ImportScheduler {
  const maxParallel = opts.maxParallel ?? 2;
  const runs = new Map<number, { done: Promise<void>; abort: AbortController }>();
  let task: ScheduledTask | null = null;
  let stopping = false;

  function launch(accountId: number): void {
    const abort = new AbortController();
    const done = runAccountSync(deps, ingestor, accountId, { signal: abort.signal })
      .then(() => undefined)
      .catch((err: unknown) => {
        // the outcome is on the account (status, last_error); only our own bugs are worth a log line here
        if (!isAppError(err)) deps.log.error('external account sync crashed', { account: accountId, err });
      })
      .finally(() => runs.delete(accountId));
    runs.set(accountId, { done, abort });
  }

  return {
    start() {
      if (task || !deps.config.imports.enabled) return;
      task = cron.schedule('* * * * *', () => this.tick().catch((err) => deps.log.error('import tick failed', { err })), { name: 'imap-import', noOverlap: true });
    },
    async stop() {
      stopping = true;
      await task?.stop();
      await task?.destroy();
      task = null;
      for (const r of runs.values()) r.abort.abort();
      // a sync stops after its batch; a server that stalls mid-batch does not hold the shutdown up
      // (the cursor only covers committed batches, so whatever is cut short is read again next time)
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all([...runs.values()].map((r) => r.done)), new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)))]);
      clearTimeout(timer);
    },
    async tick() {
      if (stopping) return;
      for (const id of await dueAccounts(deps.db, deps.clock.now().getTime())) {
        if (runs.size >= maxParallel) break;
        if (!runs.has(id)) launch(id);
      }
    },
    async syncNow(userId, accountId) {
      await getAccount(deps.db, userId, accountId);
      if (stopping) throw new AppError('sync_in_progress', 'the box is stopping');
      if (runs.has(accountId)) throw new AppError('sync_in_progress', 'this account is being synchronised already');
      launch(accountId);
    },
    running: (accountId) => runs.has(accountId),
    settled: async (accountId) => {
      await runs.get(accountId)?.done;
    },
  };
}
