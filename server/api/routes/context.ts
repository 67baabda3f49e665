/** What every route factory receives: the services of the app and the login throttle. */
import { Router } from '@koa/router';
import type { Services } from '../../app.js';
import type { Throttle } from '../../accounts/sessions.js';
import { requireAuth } from '../middleware/session.js';
import type { ApiState } from '../types.js';

export interface RouteContext {
  services: Services;
  throttle: Throttle;
}

export const API_PREFIX = '/api/v1';

/** A router for /api/v1 routes open to anyone (login, setup). */
export function publicRouter(): Router<ApiState> {
  return new Router<ApiState>({ prefix: API_PREFIX });
}

/** A router whose every route needs a session, and the CSRF header on state-changing methods. */
export function protectedRouter(): Router<ApiState> {
  const router = new Router<ApiState>({ prefix: API_PREFIX });
  router.use(requireAuth());
  return router;
}
