/**
 * GET /help/pi?lang=en|fr: the Privacy Index help page's content, from the server's own tables.
 * Public on purpose: it is the same for everyone, says nothing about any user (the tables are in
 * the open source anyway), and the login and new-device screens link to it before anyone is in.
 * Without ?lang the logged-in user's language is used, else English.
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { piHelp } from '../../help/pi.js';
import { langOf } from '../presenters.js';
import type { ApiState } from '../types.js';
import { publicRouter } from './context.js';

const helpQuery = z.object({ lang: z.enum(['en', 'fr']).optional() });

export function helpRoutes(): Router<ApiState> {
  const router = publicRouter();
  router.get('/help/pi', async (ctx) => {
    const { lang } = helpQuery.parse(ctx.query);
    const auth = ctx.state.auth;
    ctx.body = piHelp(lang ?? (auth ? langOf(auth.user) : 'en'));
    ctx.set('Cache-Control', 'no-cache');
  });
  return router;
}
