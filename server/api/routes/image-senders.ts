/** The senders whose remote images the user always shows ("always for this sender"). */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { distrustImageSender, listImageSenders, trustImageSender } from '../../mail/remote-content.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';

const senderBody = z.object({ address: z.string().trim().min(3).max(320) });
const senderParams = z.object({ address: z.string().min(3).max(320) });

export function imageSenderRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const router = protectedRouter();
  router.get('/image-senders', async (ctx) => {
    ctx.body = { senders: await listImageSenders(deps.db, authOf(ctx).user.id) };
  });
  router.post('/image-senders', async (ctx) => {
    const { address } = senderBody.parse(ctx.state.body ?? {});
    ctx.body = { address: await trustImageSender(deps, authOf(ctx).user.id, address) };
  });
  router.delete('/image-senders/:address', async (ctx) => {
    const { address } = senderParams.parse(ctx.params);
    await distrustImageSender(deps, authOf(ctx).user.id, address);
    ctx.status = 204;
  });
  return router;
}
