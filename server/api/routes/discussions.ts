/** The timeline and one discussion. */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { getDiscussion, listDiscussions, MAX_LIMIT } from '../../mail/timeline.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { flag, idParams, queryInt } from './params.js';

const listQuery = z.object({
  tag: z.string().min(1).max(64).optional(),
  importance_min: queryInt(-10, 10),
  importance_max: queryInt(-10, 10),
  pi_min: queryInt(0, 100),
  pi_max: queryInt(0, 100),
  include_spam: flag.optional(),
  limit: queryInt(1, MAX_LIMIT),
  before: z.string().max(40).optional(),
});

export function discussionRoutes({ services }: RouteContext): Router<ApiState> {
  const { db } = services.deps;
  const router = protectedRouter();
  router.get('/discussions', async (ctx) => {
    const q = listQuery.parse(ctx.query);
    ctx.body = await listDiscussions(db, authOf(ctx).user.id, {
      tag: q.tag, importanceMin: q.importance_min, importanceMax: q.importance_max, piMin: q.pi_min, piMax: q.pi_max,
      includeSpam: q.include_spam, limit: q.limit, before: q.before,
    });
  });
  router.get('/discussions/:id', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    ctx.body = await getDiscussion(db, authOf(ctx).user.id, id);
  });
  return router;
}
