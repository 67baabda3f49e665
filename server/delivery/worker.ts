/**
 * The delivery worker (not cron): claims due queue rows, hands them to the SMTP transport (remote
 * domains) or to ingest (the box's own domains), records each attempt in a group commit, and tells
 * the sender when a message fails for good or waits too long (notices.ts).
 *
 * It sleeps until the earliest next_attempt_at (at most a minute) or until kick() — called when a
 * message is queued. Tests drive it with runOnce() and an injected clock instead of sleeping.
 */
import type { Deps } from '../deps.js';
import type { Ingestor } from '../mail/ingest.js';
import type { DeliveryJob, RecipientResult, Transport, TravelInfo } from './types.js';
import type { ResolvedRelay } from './relay-routes.js';
import { claimDue, claimSentAppend, recordAttempts, recoverInFlight, settleSentAppend, unfinishedSentAppends, type AttemptOutcome, type ClaimedItem } from './queue.js';
import { nextAttemptAt, isDelayNoticeDue } from './schedule.js';
import { applyTravels, sentCopiesOf } from './sent-pi.js';
import { createCommitQueue } from '../mail/commit-queue.js';
import { resolveRecipients } from '../accounts/users.js';

/** What the sender is told: a final failure (rejected or expired) or a delay. */
export interface DeliveryNotices {
  failed(item: ClaimedItem, failures: RecipientResult[], expired: boolean): Promise<void>;
  delayed(item: ClaimedItem, waiting: RecipientResult[], retryUntil: Date): Promise<void>;
}

export interface DeliveryWorker {
  start(): Promise<void>;
  /** a message was queued: look now */
  kick(): void;
  /** delivers everything due now, waits for the results to be committed; returns attempts made */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Messages sent "as" an external address: the account's server to leave through, its Sent folder to copy to. */
export interface SendAsHooks {
  /** null: the account is gone or has no sending server any more */
  relay(accountId: number): Promise<ResolvedRelay | null>;
  /** appends the delivered message to the account's Sent folder; returns the folder's name */
  appendToSent(accountId: number, raw: Buffer, at: Date): Promise<string>;
}

export interface WorkerOptions {
  transport: Transport;
  sendAs?: SendAsHooks;
  ingestor: Ingestor;
  notices: DeliveryNotices;
  /** jobs in flight at once (raw messages held in memory); default twice delivery.concurrency */
  maxInFlight?: number;
  claimBatch?: number;
}

const MAX_SLEEP_MS = 60_000;

export function createDeliveryWorker(deps: Deps, o: WorkerOptions): DeliveryWorker {
  // Claim about what the connections can carry: a claimed row is 'delivering' (and would be sent
  // again after a crash), so claiming far more than can be in flight only inflates that edge.
  const maxInFlight = o.maxInFlight ?? deps.config.delivery.concurrency * 2;
  const claimBatch = o.claimBatch ?? maxInFlight;
  const log = deps.log.child({ component: 'delivery' });
  const cfg = deps.config.delivery;
  const now = () => deps.clock.now().getTime();
  const blobs = blobCache(deps);
  const results = createCommitQueue(deps.db, async (trx, outcomes: Array<AttemptOutcome & { travel: TravelInfo | null }>) => {
    const statuses = await recordAttempts(trx, outcomes);
    const travelled = outcomes.filter((x) => x.travel);
    if (travelled.length) {
      // read now, not at claim time: the Sent copy may have been stored while the attempt ran
      const copies = await sentCopiesOf(trx, travelled.map((x) => x.item.outboundId));
      const deliveries = travelled.flatMap((x) => (copies.has(x.item.outboundId) ? [{ messageId: copies.get(x.item.outboundId)!, travel: x.travel! }] : []));
      await applyTravels(trx, deliveries, Math.max(...travelled.map((x) => x.now)));
    }
    return statuses;
  }, 500);

  let stopped = false;
  let loop: Promise<void> | null = null;
  let resumedAppends: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;
  let kicked = false;

  async function attempt(item: ClaimedItem): Promise<void> {
    const started = now();
    let report: { recipients: RecipientResult[]; travel: TravelInfo | null };
    try {
      report = item.local ? await deliverLocally(item) : await deliverRemotely(item);
    } catch (err) {
      // our own bug or a vanished raw file: keep the message and try again later
      log.error('delivery attempt failed', { queueId: item.queueId, error: (err as Error).message });
      report = { recipients: item.recipients.map((address) => ({ address, status: 'temp_fail', code: null, response: 'local error while delivering; will retry' })), travel: null };
    }
    const waiting = report.recipients.filter((r) => r.status === 'temp_fail');
    const next = waiting.length ? nextAttemptAt(item.attempts + 1, started, item.expiresAt) : null;
    const notifyDelay = waiting.length > 0 && next !== null && isDelayNoticeDue(item.createdAt, started, cfg.delayNoticeHours * 3_600_000, item.delayNotified);
    const status = await results.submit({
      item, results: report.recipients, now: started, nextAttemptAt: next, travel: report.travel,
      travelJson: report.travel ? JSON.stringify(report.travel) : null, delayNotified: item.delayNotified || notifyDelay,
    });
    const failedNow = report.recipients.filter((r) => r.status === 'perm_fail');
    const expired = waiting.length > 0 && next === null;
    if (failedNow.length || expired) await o.notices.failed(item, [...failedNow, ...(expired ? waiting : [])], expired).catch((err) => log.error('could not notify sender', { queueId: item.queueId, error: (err as Error).message }));
    if (notifyDelay) await o.notices.delayed(item, waiting, new Date(item.expiresAt)).catch((err) => log.error('could not send delay notice', { queueId: item.queueId, error: (err as Error).message }));
    if (item.viaAccountId && report.recipients.some((r) => r.status === 'delivered')) await copyToSent(item.outboundId, item.viaAccountId, item.blobHash, item.createdAt);
    deps.events.emit('delivery', { userId: item.userId, messageId: item.messageId, queueId: item.queueId, domain: item.domain, status });
    log.info('delivery attempt', { queueId: item.queueId, domain: item.domain, status, delivered: report.recipients.length - waiting.length - failedNow.length, waiting: waiting.length, failed: failedNow.length });
  }

  async function deliverRemotely(item: ClaimedItem): Promise<{ recipients: RecipientResult[]; travel: TravelInfo | null }> {
    const job: DeliveryJob = { domain: item.domain, mailFrom: item.mailFrom, recipients: item.recipients, raw: await blobs.get(item.blobHash) };
    if (item.viaAccountId) {
      const via = o.sendAs ? await o.sendAs.relay(item.viaAccountId) : null;
      if (!via) {
        const response = `the external account ${item.mailFrom} sends through was removed, or its sending server was: send the message again from another address`;
        return { recipients: item.recipients.map((address) => ({ address, status: 'perm_fail', code: null, response })), travel: null };
      }
      job.via = via;
    }
    return o.transport.deliver(job);
  }

  /** Once per message, after its first delivery: a failure is recorded (and logged), never retried into a duplicate. */
  async function copyToSent(outboundId: number, accountId: number, blobHash: string, createdAt: number): Promise<void> {
    if (!o.sendAs || !(await claimSentAppend(deps.db, outboundId))) return;
    try {
      const folder = await o.sendAs.appendToSent(accountId, await blobs.get(blobHash), new Date(createdAt));
      await settleSentAppend(deps.db, outboundId, null);
      log.info('sent copy appended to the external account', { outboundId, account: accountId, folder });
    } catch (err) {
      const why = (err as Error).message || String(err);
      await settleSentAppend(deps.db, outboundId, why.slice(0, 500));
      log.warn('could not append the sent copy to the external account', { outboundId, account: accountId, error: why });
    }
  }

  async function deliverLocally(item: ClaimedItem): Promise<{ recipients: RecipientResult[]; travel: TravelInfo | null }> {
    const raw = await blobs.get(item.blobHash);
    const userIds = await resolveRecipients(deps.readDb, item.recipients);
    const known = new Set((await deps.readDb('addresses').whereIn('address', item.recipients).select('address')).map((r: { address: string }) => r.address));
    if (userIds.length) {
      await o.ingestor.ingest({ source: 'local', raw, stored: { hash: item.blobHash, size: raw.length }, userIds, envelope: { mailFrom: item.mailFrom, rcptTo: item.recipients }, transport: { tls: null, local: true }, receivedAt: deps.clock.now() });
    }
    const recipients = item.recipients.map((address): RecipientResult =>
      known.has(address) || (userIds.length && address.startsWith('postmaster@'))
        ? { address, status: 'delivered', code: '250 2.0.0', response: 'delivered inside this box' }
        : { address, status: 'perm_fail', code: '550 5.1.1', response: `there is no mailbox ${address} on this box` },
    );
    return { recipients, travel: recipients.some((r) => r.status === 'delivered') ? { host: deps.config.hostname, tls: null, mtaSts: false, route: 'direct' } : null };
  }

  async function runOnce(): Promise<number> {
    const inFlight = new Set<Promise<void>>();
    let count = 0;
    while (!stopped) {
      if (maxInFlight - inFlight.size < Math.min(claimBatch, maxInFlight) / 2) {
        await Promise.race(inFlight);
        continue;
      }
      const items = await claimDue(deps.db, now(), Math.min(claimBatch, maxInFlight - inFlight.size));
      if (!items.length) break;
      count += items.length;
      for (const item of items) {
        const p = attempt(item).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    }
    await Promise.all(inFlight);
    return count;
  }

  async function sleepUntilDue(): Promise<void> {
    if (kicked) {
      kicked = false;
      return;
    }
    const row = (await deps.readDb('outbound_queue').where({ status: 'queued' }).min({ at: 'next_attempt_at' }).first()) as { at: number | null } | undefined;
    const wait = row?.at == null ? MAX_SLEEP_MS : Math.max(0, Math.min(MAX_SLEEP_MS, row.at - now()));
    if (wait === 0 || stopped) return;
    await new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, wait);
    });
    wake = null;
    kicked = false;
  }

  async function run(): Promise<void> {
    while (!stopped) {
      try {
        await runOnce();
        await sleepUntilDue();
      } catch (err) {
        log.error('delivery loop error', { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  return {
    async start() {
      const back = await recoverInFlight(deps.db, now());
      if (back) log.warn('messages in flight at the last stop are queued again (at-least-once)', { count: back });
      // in the background: an external server slow to answer must not hold up the start
      if (o.sendAs) {
        resumedAppends = unfinishedSentAppends(deps.db)
          .then(async (list) => {
            for (const u of list) await copyToSent(u.outboundId, u.accountId, u.blobHash, u.createdAt);
          })
          .catch((err: unknown) => log.error('could not resume Sent-folder copies', { error: (err as Error).message }));
      }
      loop = run();
    },
    kick() {
      kicked = true;
      if (timer) clearTimeout(timer);
      wake?.();
    },
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
      await resumedAppends;
      await results.drain();
      await o.transport.close();
    },
  };
}

/** The same raw file goes to several domains: keep the last few in memory. */
function blobCache(deps: Deps, max = 64) {
  const cache = new Map<string, Promise<Buffer>>();
  return {
    get(hash: string): Promise<Buffer> {
      let hit = cache.get(hash);
      if (!hit) {
        hit = deps.blobs.get(hash);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(hash, hit);
        hit.catch(() => cache.delete(hash));
      }
      return hit;
    },
  };
}
