/**
 * The HTTP side of the box: the JSON API under /api/v1, /healthz, and the web app's static files.
 * Middleware order matters and reads top-down: security headers on everything (errors included),
 * then the error mapper, static files, the JSON body, the session; routers last, each area its own
 * file (routes/), every authenticated one behind requireAuth + CSRF. Routes are thin: validate,
 * call the domain once, present.
 */
import Koa from 'koa';
import type { Services } from '../app.js';
import { createThrottle } from '../accounts/sessions.js';
import { AppError } from '../errors.js';
import { errorHandler } from './middleware/errors.js';
import { securityHeaders } from './middleware/security-headers.js';
import { jsonBody } from './middleware/json-body.js';
import { loadSession } from './middleware/session.js';
import { serveWeb } from './middleware/static.js';
import type { ApiState } from './types.js';
import type { RouteContext } from './routes/context.js';
import { healthRoutes } from './routes/health.js';
import { authRoutes } from './routes/auth.js';
import { setupRoutes } from './routes/setup.js';
import { meRoutes } from './routes/me.js';
import { discussionRoutes } from './routes/discussions.js';
import { messageRoutes } from './routes/messages.js';
import { tagRoutes } from './routes/tags.js';
import { searchRoutes } from './routes/search.js';
import { queueRoutes } from './routes/queue.js';
import { draftRoutes } from './routes/drafts.js';
import { deviceRoutes } from './routes/devices.js';
import { tabRoutes } from './routes/tabs.js';
import { eventRoutes } from './routes/events.js';
import { helpRoutes } from './routes/help.js';
import { contactRoutes } from './routes/contacts.js';
import { externalAccountRoutes } from './routes/external-accounts.js';
import { keyRoutes } from './routes/keys.js';
import { imageSenderRoutes } from './routes/image-senders.js';

export function createApi(services: Services): Koa<ApiState> {
  const app = new Koa<ApiState>();
  // The box is reached directly, not through a proxy we know: client-sent X-Forwarded-* is not trusted.
  app.proxy = false;
  app.silent = true; // errors are logged once, by errorHandler
  const rc: RouteContext = { services, throttle: createThrottle(services.deps.clock) };
  app.use(securityHeaders());
  app.use(errorHandler(services.deps.log.child({ component: 'api' })));
  app.use(serveWeb());
  app.use(jsonBody());
  app.use(loadSession(services));
  const routers = [
    healthRoutes(services),
    setupRoutes(rc),
    ...authRoutes(rc),
    meRoutes(rc),
    discussionRoutes(rc),
    messageRoutes(rc),
    tagRoutes(rc),
    searchRoutes(rc),
    queueRoutes(rc),
    draftRoutes(rc),
    deviceRoutes(rc),
    tabRoutes(rc),
    eventRoutes(rc),
    helpRoutes(),
    contactRoutes(rc),
    externalAccountRoutes(rc),
    ...keyRoutes(rc),
    imageSenderRoutes(rc),
  ];
  for (const r of routers) app.use(r.routes());
  app.use(async (ctx) => {
    if (ctx.path.startsWith('/api/')) throw new AppError('not_found', `no route ${ctx.method} ${ctx.path}`);
    ctx.status = 404;
    ctx.type = 'text/plain';
    ctx.body = 'Not found';
  });
  return app;
}
