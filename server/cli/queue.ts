/**
 * `caliopen queue list [--all]`, `queue retry ID`, `queue drop ID`: the outbound queue for an admin
 * on the box's console. list shows what is waiting (or everything with --all), newest first.
 * retry makes a row due now; a running appliance picks it up within a minute (its worker sleeps
 * until the next due row, at most a minute).
 */
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { listQueue, retryQueueItem, dropQueueItem } from '../delivery/queue.js';

type Out = (line: string) => void;

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export async function queueCmd(deps: Deps, [sub, idArg]: string[], opts: { all?: boolean }, out: Out): Promise<void> {
  const now = deps.clock.now().getTime();
  if (sub === 'list') {
    const rows = await listQueue(deps.db, { status: opts.all ? undefined : 'active', limit: 1000 });
    if (!rows.length) return out(opts.all ? 'the queue is empty' : 'nothing waiting (queue list --all shows delivered and failed messages)');
    out('ID\tSTATUS\tTRIES\tNEXT TRY\tUSER\tRECIPIENTS\tLAST ERROR');
    for (const r of rows) {
      const next = r.status === 'queued' ? when(r.nextAttemptAt) : '-';
      const rcpts = r.recipients.map((x) => `${x.address}(${x.status})`).join(' ');
      out([r.id, r.status, r.attempts, next, r.user, rcpts, r.lastError ?? ''].join('\t'));
    }
    return;
  }
  const id = Number(idArg);
  if ((sub === 'retry' || sub === 'drop') && Number.isInteger(id) && id > 0) {
    if (sub === 'retry') await retryQueueItem(deps.db, id, now);
    else await dropQueueItem(deps.db, id, now);
    return out(sub === 'retry' ? `queue item ${id} is due now` : `queue item ${id} dropped`);
  }
  throw new AppError('bad_request', 'usage: caliopen queue list [--all] | queue retry ID | queue drop ID');
}
