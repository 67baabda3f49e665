/** POST /search {q}: the search language of SPEC §3 over the user's messages. */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { parseSearchQuery } from '../../mail/search-query.js';
import { searchMessages, type MessageHit } from '../../mail/search.js';
import { messageTagNames, piBadge } from '../../mail/timeline.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';

const searchBody = z.object({
  q: z.string().min(1).max(2000),
  limit: z.number().int().min(1).max(200).optional(),
  offset: z.number().int().min(0).max(100_000).optional(),
  include_spam: z.boolean().optional(),
});

function presentHit(h: MessageHit, tags: string[]) {
  return {
    id: h.id, discussion_id: h.discussionId, subject: h.subject, from: { address: h.fromAddress, name: h.fromName },
    date: h.date, excerpt: h.excerpt, is_read: h.isRead, has_attachments: h.attachmentCount > 0, importance: h.importance,
    pi: piBadge(h.piScore, h.piLetter), tags,
  };
}

export function searchRoutes({ services }: RouteContext): Router<ApiState> {
  const router = protectedRouter();
  router.post('/search', async (ctx) => {
    const body = searchBody.parse(ctx.state.body ?? {});
    const { user } = authOf(ctx);
    const result = await searchMessages(services.deps.db, user.id, parseSearchQuery(body.q), {
      limit: body.limit, offset: body.offset, includeSpam: body.include_spam, timeZone: user.timezone,
    });
    const tags = await messageTagNames(services.deps.db, result.messages.map((m) => m.id));
    ctx.body = { total: result.total, total_capped: result.totalCapped, items: result.messages.map((h) => presentHit(h, tags.get(h.id) ?? [])) };
  });
  return router;
}
