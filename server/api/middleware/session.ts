/**
 * Sessions at the HTTP edge: the cookie is read once per request (loadSession); routes behind
 * requireAuth get a user or a 401, and every state-changing request must also carry the session's
 * CSRF token in X-CSRF-Token (SameSite=Strict is the first wall, this the second).
 */
import type { Context, Middleware } from 'koa';
import type { Services } from '../../app.js';
import { AppError } from '../../errors.js';
import { csrfMatches, findSession } from '../../accounts/sessions.js';
import type { ApiState } from '../types.js';

export const SESSION_COOKIE = 'caliopen_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function loadSession(services: Services): Middleware<ApiState> {
  return async (ctx, next) => {
    const token = ctx.cookies.get(SESSION_COOKIE);
    const found = token ? await findSession(services.deps, token, { ip: ctx.ip || null, userAgent: null }) : null;
    if (found && token) ctx.state.auth = { ...found, token };
    await next();
  };
}

export function requireAuth(): Middleware<ApiState> {
  return async (ctx, next) => {
    const auth = ctx.state.auth;
    if (!auth) throw new AppError('unauthorized', 'log in first');
    if (!SAFE_METHODS.has(ctx.method) && !csrfMatches(ctx.get('X-CSRF-Token') || undefined, auth.session.csrf_token)) {
      throw new AppError('csrf_failed', 'missing or wrong X-CSRF-Token header');
    }
    await next();
  };
}

/**
 * Written by hand rather than through ctx.cookies: Koa refuses Secure cookies on a plain-HTTP
 * socket, yet behind a TLS-terminating proxy that is exactly the case where Secure is wanted.
 */
export function setSessionCookie(ctx: Context, token: string, expiresAt: number, now: number, secure: boolean): void {
  const parts = [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    `Expires=${new Date(expiresAt).toUTCString()}`,
    // Max-Age wins over Expires in browsers and does not depend on the client's clock.
    `Max-Age=${Math.max(0, Math.floor((expiresAt - now) / 1000))}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}

export function clearSessionCookie(ctx: Context, secure: boolean): void {
  const parts = [`${SESSION_COOKIE}=`, 'Path=/', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'Max-Age=0', 'HttpOnly', 'SameSite=Strict'];
  if (secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}
