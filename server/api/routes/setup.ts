/** The first-run wizard's API: is set-up needed, and claiming the box with the console code. */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { claimBox, setupNeeded } from '../../setup/claim.js';
import { userAddresses } from '../../accounts/users.js';
import { setSessionCookie } from '../middleware/session.js';
import { presentUser } from '../presenters.js';
import type { ApiState } from '../types.js';
import { publicRouter, type RouteContext } from './context.js';

const setupBody = z.object({
  code: z.string().min(1).max(64),
  domain: z.string().min(1).max(253),
  admin: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  lang: z.enum(['en', 'fr']).default('en'),
});

export function setupRoutes({ services, throttle }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const router = publicRouter();
  router.get('/setup', async (ctx) => {
    ctx.body = { needed: await setupNeeded(deps, services.setup) };
  });
  router.post('/setup', async (ctx) => {
    const input = setupBody.parse(ctx.state.body ?? {});
    const client = { ip: ctx.ip || null, userAgent: ctx.get('User-Agent') || null };
    const { user, session } = await claimBox(deps, services.setup, throttle, input, client);
    setSessionCookie(ctx, session.token, session.expiresAt, deps.clock.now().getTime(), deps.config.http.secureCookies);
    ctx.body = { user: presentUser(user, await userAddresses(deps.db, user.id)), csrfToken: session.csrfToken };
  });
  return router;
}
