/** GET /me: who is logged in, the CSRF token for this session, and the account's PI with reasons. */
import type { Router } from '@koa/router';
import { userAddresses } from '../../accounts/users.js';
import { computeAccountPi } from '../../accounts/account-pi.js';
import { langOf, presentUser } from '../presenters.js';
import { authOf, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';

export function meRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const router = protectedRouter();
  router.get('/me', async (ctx) => {
    const { user, session } = authOf(ctx);
    const [addresses, pi] = await Promise.all([
      userAddresses(deps.db, user.id),
      computeAccountPi(deps.db, user.id, deps.clock.now().getTime(), langOf(user)),
    ]);
    ctx.body = { user: presentUser(user, addresses), csrfToken: session.csrf_token, pi };
  });
  return router;
}
