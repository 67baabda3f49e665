/**
 * GET /events: live updates for the logged-in user as server-sent events, so new mail and sending
 * progress appear without a reload.
 *   event: message   {id, discussionId, tags, subject, from, date, is_spam, pi}   a new message was stored
 *   event: delivery  {queueId, messageId, domain, status}                         an outbound attempt ended
 *   event: import-progress {accountId, address, state, folder, folderDone, folderTotal, done, total,
 *                           imported, duplicates, rate, etaSeconds, error?}             an external account's sync moved
 *   event: resync    {}                                                           events were dropped: reload
 *   event: ended     {}                                                           this session was ended (its device
 *                                                                                 removed, the password changed): log in again
 * Only the user's own events; the domain events' listeners go when the client does, and every
 * stream ends when the app stops ('shutdown'). New messages
 * are looked up in batches (an import emits thousands at once), on the read pool.
 */
import type { Router } from '@koa/router';
import type { Deps, DeliveryEvent } from '../../deps.js';
import type { ImportProgressEvent } from '../../imap-import/progress.js';
import { messageTagNames, piBadge } from '../../mail/timeline.js';
import { openEventStream, type EventStream, type EventStreamOptions } from '../event-stream.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';

type MessageEvent = { userId: number; messageId: number; discussionId: number };

/** Looks up new messages' summaries once per tick, whatever their number. */
function messageBatcher(deps: Deps, userId: number, stream: EventStream): (e: MessageEvent) => void {
  let pending: MessageEvent[] = [];
  const flush = async () => {
    const batch = pending;
    pending = [];
    const ids = batch.map((e) => e.messageId);
    const rows: Array<{ id: number; subject: string | null; from_address: string | null; from_name: string | null; date: number; is_spam: number; pi_score: number | null; pi_letter: string | null }> =
      await deps.readDb('messages').whereIn('id', ids).andWhere('user_id', userId)
        .select('id', 'subject', 'from_address', 'from_name', 'date', 'is_spam', 'pi_score', 'pi_letter');
    const tags = await messageTagNames(deps.readDb, ids);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const e of batch) {
      const r = byId.get(e.messageId);
      if (!r) continue; // already deleted
      stream.send('message', {
        id: r.id, discussionId: e.discussionId, tags: tags.get(r.id) ?? [], subject: r.subject,
        from: { address: r.from_address, name: r.from_name }, date: r.date, is_spam: !!r.is_spam, pi: piBadge(r.pi_score, r.pi_letter),
      });
    }
  };
  return (e) => {
    if (e.userId !== userId || stream.closed) return;
    if (pending.push(e) === 1) {
      setImmediate(() => flush().catch((err) => deps.log.warn('live message event not sent', { err })));
    }
  };
}

export function eventRoutes({ services }: RouteContext, opts: EventStreamOptions = {}): Router<ApiState> {
  const { deps } = services;
  const router = protectedRouter();
  router.get('/events', async (ctx) => {
    const { user, session } = authOf(ctx);
    const userId = user.id;
    const stream = openEventStream(ctx, opts);
    const onMessage = messageBatcher(deps, userId, stream);
    const onDelivery = (e: DeliveryEvent) => {
      if (e.userId === userId) stream.send('delivery', { queueId: e.queueId, messageId: e.messageId, domain: e.domain, status: e.status });
    };
    const onShutdown = () => stream.close();
    // Ended elsewhere: say so now rather than at this browser's next call.
    const onSessionsEnded = (e: { userId: number }) => {
      if (e.userId !== userId || stream.closed) return;
      deps.readDb('sessions').where({ id: session.id }).first('id').then((alive) => {
        if (alive || stream.closed) return;
        stream.send('ended', {});
        stream.close();
      }).catch((err) => deps.log.warn('session check failed', { err }));
    };
    const onImport = ({ userId: owner, ...progress }: ImportProgressEvent) => {
      if (owner === userId) stream.send('import-progress', progress);
    };
    deps.events.on('message', onMessage);
    deps.events.on('delivery', onDelivery);
    deps.events.on('import-progress', onImport);
    // app.stop() emits it: the HTTP server cannot close while a stream is open
    deps.events.on('shutdown', onShutdown);
    deps.events.on('sessions-ended', onSessionsEnded);
    stream.onClose(() => {
      deps.events.off('sessions-ended', onSessionsEnded);
      deps.events.off('message', onMessage);
      deps.events.off('delivery', onDelivery);
      deps.events.off('import-progress', onImport);
      deps.events.off('shutdown', onShutdown);
    });
  });
  return router;
}
