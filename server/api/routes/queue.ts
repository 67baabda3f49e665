/**
 * The outbound queue as its owner sees it (an admin may ask for everyone's with ?all=1):
 * GET /queue[?status=active|queued|delivered|failed|dropped], POST /queue/:id/retry, DELETE /queue/:id.
 */
import type { Router } from '@koa/router';
import { z } from 'zod';
import { listQueue, retryQueueItem, dropQueueItem } from '../../delivery/queue.js';
import { AppError } from '../../errors.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { flag, idParams } from './params.js';

const listQuery = z.object({
  status: z.enum(['active', 'queued', 'delivering', 'delivered', 'failed', 'dropped']).optional(),
  all: flag.optional(),
});

export function queueRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const router = protectedRouter();
  const owner = (ctx: Parameters<typeof authOf>[0], all = false) => {
    const { user } = authOf(ctx);
    if (all && !user.is_admin) throw new AppError('forbidden', 'only an admin sees the whole queue');
    return all ? undefined : user.id;
  };
  router.get('/queue', async (ctx) => {
    const q = listQuery.parse(ctx.query);
    const rows = await listQueue(deps.readDb, { userId: owner(ctx, q.all), status: q.status });
    ctx.body = { items: rows.map((r) => ({ ...r, nextAttemptAt: new Date(r.nextAttemptAt).toISOString(), expiresAt: new Date(r.expiresAt).toISOString(), createdAt: new Date(r.createdAt).toISOString() })) };
  });
  router.post('/queue/:id/retry', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    const { user } = authOf(ctx);
    await retryQueueItem(deps.db, id, deps.clock.now().getTime(), user.is_admin ? undefined : user.id);
    services.delivery.kick();
    ctx.body = { ok: true };
  });
  router.delete('/queue/:id', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    const { user } = authOf(ctx);
    await dropQueueItem(deps.db, id, deps.clock.now().getTime(), user.is_admin ? undefined : user.id);
    ctx.body = { ok: true };
  });
  return router;
}
