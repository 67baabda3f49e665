/**
 * Telling the sender: a final failure (refused, or still failing when the message expired) or a
 * delay becomes a DSN (RFC 3464, dsn.ts) in the sender's language, stored in the sender's mailbox
 * in the discussion of the message it is about — through ingest, like any mail.
 */
import type { Deps } from '../deps.js';
import type { Ingestor } from '../mail/ingest.js';
import type { RecipientResult } from './types.js';
import type { ClaimedItem } from './queue.js';
import type { DeliveryNotices } from './worker.js';
import { getUser } from '../accounts/users.js';
import { buildDsn } from './dsn.js';
import { normalizeStatus } from './status-codes.js';

/** "550 5.1.1" → "5.1.1"; without an enhanced code, the class of the failure. */
function statusOf(r: RecipientResult, expired: boolean): string {
  const enhanced = normalizeStatus(r.code);
  if (expired) return enhanced?.startsWith('4') || !enhanced ? '4.4.7' : enhanced;
  if (enhanced) return enhanced;
  if (r.status === 'perm_fail') return '5.0.0';
  return '4.4.1';
}

export function createNotices(deps: Deps, ingestor: Ingestor): DeliveryNotices {
  async function notify(item: ClaimedItem, recipients: RecipientResult[], action: 'failed' | 'delayed', expired: boolean, retryUntil?: Date): Promise<void> {
    if (!item.mailFrom) return; // never a DSN about a DSN (null reverse-path, RFC 3464 §2)
    const [user, original, sentCopy] = await Promise.all([
      getUser(deps.readDb, item.userId),
      deps.blobs.get(item.blobHash),
      deps.readDb('outbound_messages as o').join('messages as m', 'm.id', 'o.message_id').where('o.id', item.outboundId).first('m.discussion_id'),
    ]);
    const now = deps.clock.now();
    const raw = buildDsn({
      lang: user.lang === 'fr' ? 'fr' : 'en',
      reportingMta: deps.config.hostname,
      arrivalDate: new Date(item.createdAt),
      postmaster: `MAILER-DAEMON@${deps.config.hostname}`,
      to: item.mailFrom,
      original,
      recipients: recipients.map((r) => ({
        address: r.address, action, status: statusOf(r, expired), code: r.code,
        diagnostic: expired && action === 'failed' ? `${r.response} (gave up after ${Math.round((item.expiresAt - item.createdAt) / 86_400_000)} days of retries)` : r.response,
        willRetryUntil: retryUntil,
      })),
      now,
    });
    await ingestor.ingest({
      source: 'local', raw, userIds: [item.userId], transport: { tls: null, local: true }, receivedAt: now,
      discussionId: (sentCopy as { discussion_id: number } | undefined)?.discussion_id,
    });
  }
  return {
    failed: (item, failures, expired) => notify(item, failures, 'failed', expired),
    delayed: (item, waiting, retryUntil) => notify(item, waiting, 'delayed', false, retryUntil),
  };
}
