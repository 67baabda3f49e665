/** GET /healthz: the process answers and the database does too (for systemd, Docker, balancers). */
import { Router } from '@koa/router';
import type { Services } from '../../app.js';
import type { ApiState } from '../types.js';

export function healthRoutes(services: Services): Router<ApiState> {
  const router = new Router<ApiState>();
  router.get('/healthz', async (ctx) => {
    const db = await services.deps.db.raw('select 1 as ok').then(() => true, () => false);
    ctx.status = db ? 200 : 503;
    ctx.body = { ok: db, db };
  });
  return router;
}
