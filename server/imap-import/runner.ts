/**
 * Runs one sync of one account from start to end, for the scheduler, "sync now" and the CLI
 * alike: the lease (one sync per account), the connection, the sync, and what the outcome means
 * for the account. Authentication and TLS failures need the user: the account is marked "needs
 * attention" with the reason and is not polled until they fix it. Anything else is transient: it
 * is retried with a growing delay, and after `imports.pauseAfterHours` (72 h) of failures polling
 * pauses and the account says so.
 */
import type { ImapFlow } from 'imapflow';
import type { Deps } from '../deps.js';
import type { Ingestor } from '../mail/ingest.js';
import { AppError, type ErrorCode } from '../errors.js';
import { openAccount, setAccountState, type AccountSecrets } from './account-store.js';
import { classifyImapError, imapClient } from './connect.js';
import { acquireLease, leaseOwner, releaseLease, renewLease } from './lease.js';
import { progressTracker, type ImportProgressEvent } from './progress.js';
import { syncAccount, type SyncLimits, type SyncSummary } from './sync.js';

/** the whole of deps: a message the other server filed as junk is marked spam through message-tags (blobs, filter) */
export type RunDeps = Deps;

export interface RunOptions {
  onProgress?: (p: ImportProgressEvent) => void;
  signal?: AbortSignal;
  limits?: Partial<SyncLimits>;
}

/** Failures only the user can fix (wrong password, a certificate to trust). */
const NEEDS_USER: ReadonlySet<ErrorCode> = new Set(['imap_auth_failed', 'imap_tls_failed', 'plain_imap_not_loopback', 'invalid_secret']);

const MINUTE = 60_000;
/** 1, 2, 4 … minutes after each consecutive failure, at most an hour. */
export function retryDelayMs(failures: number): number {
  return Math.min(60 * MINUTE, 2 ** Math.max(0, failures - 1) * MINUTE);
}

export async function runAccountSync(deps: RunDeps, ingestor: Ingestor, accountId: number, opts: RunOptions = {}): Promise<SyncSummary> {
  const owner = leaseOwner();
  await acquireLease(deps.db, accountId, owner, deps.clock.now().getTime());
  let account: AccountSecrets | null = null;
  const tracker = progressTracker(deps, { userId: 0, accountId, address: '' }, opts.onProgress);
  let imap: ImapFlow | null = null;
  try {
    account = await openAccount(deps.db, deps.secrets, accountId);
    Object.assign(tracker.current, { userId: account.userId, address: account.address });
    await setAccountState(deps.db, accountId, { status: 'syncing', last_sync_at: deps.clock.now().getTime() });
    tracker.update({ state: 'connecting' }, true);
    const cfg = deps.config.imports;
    imap = imapClient(account, cfg.connectTimeoutMs, deps.dns);
    // imapflow reports a dropped socket as an 'error' event too; the awaited command rejects with it
    imap.on('error', (err: Error) => deps.log.debug('imap connection error', { account: accountId, err: err.message }));
    await imap.connect();
    const summary = await syncAccount({
      deps, ingestor, client: imap, account, progress: tracker, signal: opts.signal,
      limits: { batchMessages: cfg.batchMessages, batchBytes: cfg.batchBytes, concurrency: cfg.concurrency, ...opts.limits },
      onBatch: () => renewLease(deps.db, accountId, owner, deps.clock.now().getTime()),
    });
    const now = deps.clock.now().getTime();
    await setAccountState(deps.db, accountId, {
      status: 'idle', last_error: null, last_error_code: null, needs_attention: false, paused: false, failures: 0, failing_since: null,
      // stopped between batches (the box is shutting down): due again as soon as it is back
      last_success_at: now, next_sync_at: opts.signal?.aborted ? now : now + account.intervalMinutes * MINUTE,
    });
    await endRun(deps, imap, accountId, owner);
    // said once the run is over for everyone (lease released): a screen reloading on this event sees the outcome
    tracker.update({ state: 'done' }, true);
    return summary;
  } catch (err) {
    const appErr = await classifyImapError(err, account ?? { host: '?', port: 0, tls: 'implicit' }, deps.dns);
    if (account) await recordFailure(deps, account, appErr).catch((e: unknown) => deps.log.error('sync failure not recorded', { account: accountId, err: e }));
    await endRun(deps, imap, accountId, owner);
    tracker.update({ state: 'failed', error: { code: appErr.code, message: appErr.message } }, true);
    throw appErr;
  }
}

/** Logs out and gives the lease back; never throws (it runs on the way out, success or failure). */
async function endRun(deps: RunDeps, imap: ImapFlow | null, accountId: number, owner: string): Promise<void> {
  if (imap?.usable) await imap.logout().catch(() => undefined);
  imap?.close();
  await releaseLease(deps.db, accountId, owner).catch((err: unknown) => deps.log.warn('sync lease not released', { account: accountId, err }));
}

async function recordFailure(deps: RunDeps, account: AccountSecrets, err: AppError): Promise<void> {
  const now = deps.clock.now().getTime();
  const fresh = await deps.db('external_accounts').where({ id: account.id }).first('failures', 'failing_since');
  const failures = Number(fresh?.failures ?? 0) + 1;
  const failingSince = fresh?.failing_since ? Number(fresh.failing_since) : now;
  const state: Record<string, unknown> = { last_error: err.message, last_error_code: err.code, failures, failing_since: failingSince };
  if (NEEDS_USER.has(err.code)) {
    Object.assign(state, { status: 'needs_attention', needs_attention: true });
  } else if (now - failingSince >= deps.config.imports.pauseAfterHours * 60 * MINUTE) {
    const hours = Math.round((now - failingSince) / (60 * MINUTE));
    Object.assign(state, { status: 'paused', paused: true, last_error: `${err.message} (failing for ${hours} h: polling paused until you sync again or change the settings)` });
  } else {
    Object.assign(state, { status: 'error', next_sync_at: now + retryDelayMs(failures) });
  }
  await setAccountState(deps.db, account.id, state);
  deps.log.warn('external account sync failed', { account: account.id, code: err.code, failures });
}
