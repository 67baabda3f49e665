/** GET /tags: the user's tags, system tags first. */
import type { Router } from '@koa/router';
import { listTags } from '../../mail/tags.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';

export function tagRoutes({ services }: RouteContext): Router<ApiState> {
  const router = protectedRouter();
  router.get('/tags', async (ctx) => {
    const rows = await listTags(services.deps.db, authOf(ctx).user.id);
    ctx.body = { items: rows.map((t: { id: number; name: string; color: string | null; is_system: number }) => ({ ...t, is_system: !!t.is_system })) };
  });
  return router;
}
