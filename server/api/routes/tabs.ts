/**
 * Saved search tabs of the device this session belongs to: GET /tabs, POST /tabs {title, query},
 * PATCH /tabs/:id {title?, position?}, DELETE /tabs/:id. A session opened without a device (an
 * API client, a session from before devices) has no tabs to keep: 409 no_device.
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { AppError } from '../../errors.js';
import { createTab, deleteTab, listTabs, updateTab, type Owner } from '../../mail/saved-tabs.js';
import { authOf, type ApiContext, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { idParams } from './params.js';

const newTab = z.strictObject({ title: z.string().max(1000), query: z.string().min(1).max(2000) });
const tabPatch = z.strictObject({ title: z.string().max(1000).optional(), position: z.number().int().min(0).max(10_000).optional() });

function ownerOf(ctx: ApiContext): Owner {
  const { user, session } = authOf(ctx);
  const deviceId = session.device_id;
  if (deviceId === null) throw new AppError('no_device', 'this session has no device: log in from the web app to keep tabs');
  return { userId: user.id, deviceId };
}

export function tabRoutes({ services }: RouteContext): Router<ApiState> {
  const { db, clock } = services.deps;
  const router = protectedRouter();
  router.get('/tabs', async (ctx) => {
    ctx.body = { items: await listTabs(db, ownerOf(ctx)) };
  });
  router.post('/tabs', async (ctx) => {
    const input = newTab.parse(ctx.state.body ?? {});
    ctx.status = 201;
    ctx.body = await createTab(db, ownerOf(ctx), input, clock.now().getTime());
  });
  router.patch('/tabs/:id', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    ctx.body = await updateTab(db, ownerOf(ctx), id, tabPatch.parse(ctx.state.body ?? {}));
  });
  router.delete('/tabs/:id', async (ctx) => {
    await deleteTab(db, ownerOf(ctx), idParams.parse(ctx.params).id);
    ctx.status = 204;
  });
  return router;
}
