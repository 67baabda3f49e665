/**
 * Browser sessions and logging in. The cookie carries a random 32-byte token; the database keeps
 * only its sha256, so a copy of the database does not hand out live sessions. Each session has its
 * own CSRF token, sent back by the web app in a header on every state-changing request.
 * Login failures are throttled per (ip, username) so a password cannot be guessed online.
 * A session may belong to a device (devices.ts): login binds it when the browser's device cookie
 * names one of the user's devices; a session without one (an API client, or a browser not named
 * yet) works the same until the web app names it.
 */
import crypto from 'node:crypto';
import type { Deps } from '../deps.js';
import type { Clock } from '../clock.js';
import type { Db } from '../store/db.js';
import { AppError } from '../errors.js';
import { sha256 } from '../store/blobs.js';
import { findUserByLogin, getUser, type User } from './users.js';
import { dummyPasswordHash, verifyPassword } from './passwords.js';
import { findDeviceByToken, touchDevice, type DeviceRow } from './devices.js';

export const SESSION_TTL_MS = 30 * 24 * 3600_000;
/** last_seen_at is informative: writing it on every request would turn every read into a write. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

export interface SessionRow {
  id: string;
  user_id: number;
  csrf_token: string;
  ip: string | null;
  user_agent: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  /** the device this session belongs to; null until the browser is named (or for API clients) */
  device_id: number | null;
}

export interface NewSession {
  /** the cookie value: shown once, never stored */
  token: string;
  csrfToken: string;
  expiresAt: number;
}

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export async function createSession(deps: Deps, userId: number, client: ClientInfo, deviceId: number | null = null): Promise<NewSession> {
  const token = crypto.randomBytes(32).toString('base64url');
  const csrfToken = crypto.randomBytes(32).toString('base64url');
  const now = deps.clock.now().getTime();
  const expiresAt = now + SESSION_TTL_MS;
  await deps.db('sessions').insert({
    id: sha256(token),
    user_id: userId,
    csrf_token: csrfToken,
    ip: client.ip?.slice(0, 64) ?? null,
    user_agent: client.userAgent?.slice(0, 300) ?? null,
    created_at: now,
    last_seen_at: now,
    expires_at: expiresAt,
    device_id: deviceId,
  });
  return { token, csrfToken, expiresAt };
}

/**
 * The live session behind a cookie token, with its user; expired sessions are removed on sight.
 * At most once a minute the session's last_seen_at, and its device's last seen time and address
 * (from client), are written.
 */
export async function findSession(deps: Deps, token: string | undefined, client?: ClientInfo): Promise<{ session: SessionRow; user: User } | null> {
  if (!token || token.length > 100) return null;
  const id = sha256(token);
  const session = await deps.db<SessionRow>('sessions').where({ id }).first();
  if (!session) return null;
  const now = deps.clock.now().getTime();
  if (session.expires_at <= now) {
    await deps.db('sessions').where({ id }).delete();
    return null;
  }
  if (now - session.last_seen_at >= LAST_SEEN_RESOLUTION_MS) {
    await deps.db('sessions').where({ id }).update({ last_seen_at: now });
    session.last_seen_at = now;
    if (session.device_id) await touchDevice(deps.db, session.device_id, client?.ip ?? null, now);
  }
  const user = await getUser(deps.db, session.user_id).catch(() => null);
  return user ? { session, user } : null;
}

export async function deleteSession(db: Db, token: string | undefined): Promise<void> {
  if (!token) return;
  await db('sessions').where({ id: sha256(token) }).delete();
}

export function csrfMatches(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export const MAX_FAILURES = 5;
export const FAILURE_WINDOW_MS = 15 * 60_000;

/**
 * Failed attempts per key within a sliding window. In memory: it resets on restart and is per
 * process, which is enough for one box; several processes behind a balancer would need a shared
 * table (see ARCHITECTURE "Scale beyond one box").
 */
export interface Throttle {
  assertAllowed(key: string): void;
  fail(key: string): void;
  reset(key: string): void;
}

export function createThrottle(clock: Clock, max = MAX_FAILURES, windowMs = FAILURE_WINDOW_MS): Throttle {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => (failures.get(key) ?? []).filter((t) => now - t < windowMs);
  const prune = (now: number) => {
    // Bounded memory under a spray of distinct keys: drop keys whose window has passed.
    if (failures.size < 10_000) return;
    for (const [k, list] of failures) if (list.every((t) => now - t >= windowMs)) failures.delete(k);
  };
  return {
    assertAllowed(key) {
      if (recent(key, clock.now().getTime()).length >= max) {
        throw new AppError('too_many_attempts', 'too many failed attempts; try again later');
      }
    },
    fail(key) {
      const now = clock.now().getTime();
      prune(now);
      failures.set(key, [...recent(key, now), now]);
    },
    reset(key) {
      failures.delete(key);
    },
  };
}

export interface LoginInput extends ClientInfo {
  username: string;
  password: string;
  /** the browser's device cookie, if any */
  deviceToken?: string | null;
}

/** The user whose login (name or address) and password these are; same time spent whether or not the user exists. */
export async function verifyLogin(db: Db, username: string, password: string): Promise<User | null> {
  const user = await findUserByLogin(db, username);
  const ok = await verifyPassword(password, user?.password_hash ?? (await dummyPasswordHash()));
  return user && ok ? user : null;
}

/**
 * Checks the password (in constant time whether or not the user exists) and opens a session, bound
 * to the device the browser's cookie names when it is one of this user's (device null otherwise).
 */
export async function login(deps: Deps, throttle: Throttle, input: LoginInput): Promise<{ user: User; session: NewSession; device: DeviceRow | null }> {
  const key = `${input.ip ?? '?'}\n${input.username.trim().toLowerCase()}`;
  throttle.assertAllowed(key);
  const user = await verifyLogin(deps.db, input.username, input.password);
  if (!user) {
    throttle.fail(key);
    throw new AppError('invalid_credentials', 'wrong username or password');
  }
  throttle.reset(key);
  const device = await findDeviceByToken(deps.db, user.id, input.deviceToken);
  const session = await createSession(deps, user.id, input, device?.id ?? null);
  if (device) await touchDevice(deps.db, device.id, input.ip, deps.clock.now().getTime());
  return { user, session, device };
}
