/** Logging in and out. Login is public (and throttled); logout needs the session and its CSRF token. */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { deleteSession, login } from '../../accounts/sessions.js';
import { userAddresses } from '../../accounts/users.js';
import { clearSessionCookie, setSessionCookie } from '../middleware/session.js';
import { presentUser } from '../presenters.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, publicRouter, type RouteContext } from './context.js';

const loginBody = z.object({ username: z.string().min(1).max(320), password: z.string().min(1).max(1024) });

export function authRoutes({ services, throttle }: RouteContext): Router<ApiState>[] {
  const { deps } = services;
  const secure = deps.config.http.secureCookies;
  const open = publicRouter();
  open.post('/auth/login', async (ctx) => {
    const input = loginBody.parse(ctx.state.body ?? {});
    const client = { ip: ctx.ip || null, userAgent: ctx.get('User-Agent') || null };
    const { user, session } = await login(deps, throttle, { ...input, ...client });
    setSessionCookie(ctx, session.token, session.expiresAt, deps.clock.now().getTime(), secure);
    ctx.body = { user: presentUser(user, await userAddresses(deps.db, user.id)), csrfToken: session.csrfToken };
  });

  const closed = protectedRouter();
  closed.post('/auth/logout', async (ctx) => {
    await deleteSession(deps.db, authOf(ctx).token);
    clearSessionCookie(ctx, secure);
    ctx.body = { ok: true };
  });
  return [open, closed];
}
