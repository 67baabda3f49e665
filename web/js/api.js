// The JSON API client: same-origin fetch, the session's CSRF token on every state-changing
// request, errors as ApiError {status, code, message}. A 401 while a session was open means the
// session ended (logged out elsewhere, device removed, expired): the shell is told once.
const API = '/api/v1';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let csrf = null;
let sessionEnded = () => {};

/**
 * GETs started before the app's modules are loaded (app.js): the first api() call for the same
 * path, within a few seconds, takes the answer instead of asking again (once).
 */
const early = new Map();
const EARLY_MS = 10_000;

/** Starts a GET now; resolves to whether it succeeded (2xx). */
export function prefetch(path) {
  const res = fetch(API + path, { credentials: 'same-origin' }).catch(() => null);
  early.set(path, { at: Date.now(), res });
  return res.then((r) => !!r?.ok);
}

async function takeEarly(path) {
  const e = early.get(path);
  if (!e) return null;
  early.delete(path);
  return Date.now() - e.at < EARLY_MS ? e.res : null;
}

/** The token returned by login, setup or GET /me; null once logged out. */
export function setCsrf(token) {
  csrf = token;
}

export function onSessionEnd(callback) {
  sessionEnded = callback;
}

/** body is sent as JSON; raw (a File or Blob, e.g. a vCard import) is sent as is with rawType. */
export async function api(method, path, { body, raw, rawType } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (raw !== undefined) headers['Content-Type'] = rawType || raw.type || 'application/octet-stream';
  if (csrf && UNSAFE.has(method)) headers['X-CSRF-Token'] = csrf;
  let res = method === 'GET' ? await takeEarly(path) : null;
  try {
    res ??= await fetch(API + path, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', '');
  }
  const data = (res.headers.get('content-type') || '').includes('application/json') ? await res.json() : null;
  if (res.ok) return data;
  const err = new ApiError(res.status, data?.error?.code ?? 'other', data?.error?.message ?? String(res.status), data?.error?.details ?? null);
  if (res.status === 401 && csrf) {
    csrf = null;
    sessionEnded(err);
  }
  throw err;
}
