/**
 * Logging in and out. Login is public (and throttled); logout needs the session and its CSRF token.
 * Login answers needsDevice: true when the browser's device cookie names none of the user's
 * devices: the web app then names it with POST /devices/current (routes/devices.ts).
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { deleteSession, login } from '../../accounts/sessions.js';
import { userAddresses } from '../../accounts/users.js';
import { clearSessionCookie, setSessionCookie } from '../middleware/session.js';
import { readDeviceCookie, setDeviceCookie } from '../middleware/device-cookie.js';
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
    const deviceToken = readDeviceCookie(ctx);
    const { user, session, device } = await login(deps, throttle, { ...input, ...client, deviceToken });
    const now = deps.clock.now().getTime();
    setSessionCookie(ctx, session.token, session.expiresAt, now, secure);
    if (device && deviceToken) setDeviceCookie(ctx, deviceToken, now, secure); // renewed: 400 days from the last login
    ctx.body = {
      user: presentUser(user, await userAddresses(deps.db, user.id)),
      csrfToken: session.csrfToken,
      needsDevice: !device,
      device: device ? { id: device.id, name: device.name, type: device.type } : null,
    };
  });

  const closed = protectedRouter();
  closed.post('/auth/logout', async (ctx) => {
    await deleteSession(deps.db, authOf(ctx).token);
    clearSessionCookie(ctx, secure);
    ctx.body = { ok: true };
  });
  return [open, closed];
}
