/** Shapes shared by the API's middleware and routes. */
import type { ParameterizedContext } from 'koa';
import type { Router } from '@koa/router';
import type { SessionRow } from '../accounts/sessions.js';
import type { User } from '../accounts/users.js';
import { AppError } from '../errors.js';

export interface AuthState {
  session: SessionRow;
  user: User;
  token: string;
}

export interface ApiState {
  /** set by loadSession when the cookie names a live session */
  auth?: AuthState;
  /** the parsed JSON body of the request, if any (middleware/json-body.ts) */
  body?: unknown;
}

export type ApiContext = ParameterizedContext<ApiState>;
export type ApiRouter = Router<ApiState>;

/** The authenticated user of a route mounted behind requireAuth. */
export function authOf(ctx: { state: ApiState }): AuthState {
  if (!ctx.state.auth) throw new AppError('unauthorized', 'log in first');
  return ctx.state.auth;
}
