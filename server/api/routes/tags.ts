/**
 * Tags: list, create, rename / recolour, delete (system tags keep their names and cannot go), and a
 * change applied to every message of a discussion (SPAM trains the filter as on one message).
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { createTag, deleteTag, listTags, updateTag } from '../../mail/tags.js';
import { changeDiscussionTags } from '../../mail/message-tags.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { idParams } from './params.js';

// Trimming and the 1–64 rule are the domain's (tags.ts normalizeTagName); zod bounds the input.
const name = z.string().max(1000);
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour is #rrggbb');
const newTag = z.strictObject({ name, color: color.nullish() });
const tagPatch = z.strictObject({ name: name.optional(), color: color.nullable().optional() });
const tagName = z.string().trim().min(1).max(64);
const tagsBody = z.strictObject({ add: z.array(tagName).max(50).optional(), remove: z.array(tagName).max(50).optional() });

export function tagRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const router = protectedRouter();
  router.get('/tags', async (ctx) => {
    const rows = await listTags(deps.db, authOf(ctx).user.id);
    ctx.body = { items: rows.map((t: { id: number; name: string; color: string | null; is_system: number }) => ({ ...t, is_system: !!t.is_system })) };
  });
  router.post('/tags', async (ctx) => {
    const input = newTag.parse(ctx.state.body ?? {});
    ctx.status = 201;
    ctx.body = await createTag(deps.db, authOf(ctx).user.id, input, deps.clock.now().getTime());
  });
  router.patch('/tags/:id', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    ctx.body = await updateTag(deps.db, authOf(ctx).user.id, id, tagPatch.parse(ctx.state.body ?? {}));
  });
  router.delete('/tags/:id', async (ctx) => {
    await deleteTag(deps.db, authOf(ctx).user.id, idParams.parse(ctx.params).id);
    ctx.status = 204;
  });
  router.post('/discussions/:id/tags', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    ctx.body = await changeDiscussionTags(deps, authOf(ctx).user.id, id, tagsBody.parse(ctx.state.body ?? {}));
  });
  return router;
}
