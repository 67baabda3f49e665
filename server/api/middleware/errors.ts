/**
 * The one place where errors become HTTP responses: `{error: {code, message}}` with the status of
 * the code. An AppError says what went wrong in words meant for the client; a zod failure lists the
 * fields; anything else is our bug, logged here and answered with a bare 500, because its message
 * may carry paths, SQL or private data.
 */
import type { Middleware } from 'koa';
import { ZodError } from 'zod';
import type { Logger } from '../../log.js';
import { isAppError } from '../../errors.js';
import type { ApiState } from '../types.js';

interface ErrorBody {
  error: { code: string; message: string; fields?: Array<{ path: string; message: string }>; details?: unknown };
}

function zodFields(err: ZodError): Array<{ path: string; message: string }> {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } | null {
  // An AppError's details are facts for the client, such as the contact that already has an address.
  if (isAppError(err)) return { status: err.status, body: { error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } } };
  if (err instanceof ZodError) {
    const fields = zodFields(err);
    const message = 'invalid input: ' + fields.map((f) => `${f.path} (${f.message})`).join(', ');
    return { status: 400, body: { error: { code: 'validation_failed', message, fields } } };
  }
  return null;
}

export function errorHandler(log: Logger): Middleware<ApiState> {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const known = toErrorResponse(err);
      if (!known) log.error('request failed', { method: ctx.method, path: ctx.path, err: err as Error, stack: (err as Error)?.stack });
      const { status, body } = known ?? { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
      ctx.status = status;
      ctx.type = 'application/json';
      ctx.body = body;
      // Errors thrown after a download started may have set these; they must not apply to the JSON.
      ctx.remove('Content-Disposition');
    }
  };
}
