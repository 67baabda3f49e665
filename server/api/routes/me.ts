/**
 * The logged-in user's own account: GET /me (who, the CSRF token of this session, display settings,
 * the account's PI with reasons, this browser's device or null), PATCH /me (profile, language, time zone, display settings) and
 * POST /me/password (ends the user's other sessions).
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { userAddresses, type User } from '../../accounts/users.js';
import { computeAccountPi } from '../../accounts/account-pi.js';
import { changePassword, displaySettings, settingsOf, updateProfile } from '../../accounts/settings.js';
import { getDevice } from '../../accounts/devices.js';
import { sendAsAddresses } from '../../imap-import/account-store.js';
import { langOf, presentUser } from '../presenters.js';
import { presentDevice } from './devices.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';

const profileBody = z.strictObject({
  display_name: z.string().max(200).nullable().optional(),
  lang: z.enum(['en', 'fr']).optional(),
  timezone: z.string().min(1).max(64).optional(),
  settings: displaySettings.partial().optional(),
});
const passwordBody = z.strictObject({ current: z.string().min(1).max(1024), next: z.string().max(1024) });

export function meRoutes({ services, throttle }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const router = protectedRouter();
  // send_as: addresses of external accounts with their own sending server (a From choice in the composer)
  const present = async (user: User) => ({
    ...presentUser(user, await userAddresses(deps.db, user.id)), send_as: [...(await sendAsAddresses(deps.db, user.id)).keys()], settings: settingsOf(user),
  });
  router.get('/me', async (ctx) => {
    const { user, session } = authOf(ctx);
    const [shown, pi, device] = await Promise.all([
      present(user),
      computeAccountPi(deps.db, user.id, deps.clock.now().getTime(), langOf(user)),
      session.device_id ? getDevice(deps.db, user.id, session.device_id) : null,
    ]);
    // the device too, so that the app's first screen needs one call, not two
    // and the box's time: a key made in the browser is dated no later than it (see web/js/screens/keys.js)
    ctx.body = { user: shown, csrfToken: session.csrf_token, pi, device: device ? presentDevice(device, true) : null, server_time: deps.clock.now().getTime() };
  });
  router.patch('/me', async (ctx) => {
    const change = profileBody.parse(ctx.state.body ?? {});
    ctx.body = { user: await present(await updateProfile(deps, authOf(ctx).user.id, change)) };
  });
  router.post('/me/password', async (ctx) => {
    const input = passwordBody.parse(ctx.state.body ?? {});
    const { user, session } = authOf(ctx);
    const { sessionsEnded } = await changePassword(deps, throttle, user.id, session.id, input);
    if (sessionsEnded > 0) deps.events.emit('sessions-ended', { userId: user.id });
    ctx.body = { ok: true, sessions_ended: sessionsEnded };
  });
  return router;
}
