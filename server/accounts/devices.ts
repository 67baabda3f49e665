/**
 * Devices ("terminals", SPEC §6): a browser that logged in and was named by its user. The browser
 * keeps a long-lived random cookie (caliopen_device); the database keeps its sha256 per user. At
 * login a cookie that matches one of the user's devices binds the new session to it; otherwise the
 * session starts without a device and the web app asks for a name and a type (registerDevice).
 * Removing a device removes its sessions in the same statement (sessions.device_id cascades).
 * Not in charge of: cookies and HTTP (api/routes/devices.ts), the device PI (device-pi.ts),
 * verification and signing keys (later issues).
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from '../store/db.js';
import { AppError } from '../errors.js';
import { sha256 } from '../store/blobs.js';

export const DEVICE_TYPES = ['desktop', 'laptop', 'phone', 'tablet', 'shared'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** Browsers cap a cookie's lifetime at 400 days (RFC 6265bis); the cookie is renewed at each login. */
export const DEVICE_COOKIE_TTL_MS = 400 * 24 * 3600_000;
export const MAX_DEVICE_NAME = 64;
/** The addresses kept per device for the "known network" signal: enough for home, work, phone data. */
const MAX_NETWORKS_PER_DEVICE = 20;

export interface DeviceRow {
  id: number;
  user_id: number;
  name: string;
  type: DeviceType;
  token_hash: string;
  user_agent: string | null;
  first_seen_at: number;
  last_seen_at: number;
  last_ip: string | null;
  created_at: number;
}

/** 32 random bytes in base64url: the value of the device cookie, never stored as is. */
export function newDeviceToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** A cookie value we could have issued; anything else is ignored rather than hashed and looked up. */
export function isDeviceToken(value: string | undefined | null): value is string {
  return !!value && /^[A-Za-z0-9_-]{43}$/.test(value);
}

/** Trimmed, NFC, 1–64 characters, no control characters. */
export function normalizeDeviceName(raw: string): string {
  const name = raw.trim().normalize('NFC');
  if (!name || name.length > MAX_DEVICE_NAME) throw new AppError('validation_failed', `device names are 1 to ${MAX_DEVICE_NAME} characters`);
  if (/\p{Cc}/u.test(name)) throw new AppError('validation_failed', 'device names cannot hold control characters');
  return name;
}

export async function findDeviceByToken(db: Knex, userId: number, token: string | undefined | null): Promise<DeviceRow | null> {
  if (!isDeviceToken(token)) return null;
  return (await db<DeviceRow>('devices').where({ user_id: userId, token_hash: sha256(token) }).first()) ?? null;
}

/**
 * Records that the device was seen now from ip: last seen, last IP, and the address in its
 * networks (the oldest beyond MAX_NETWORKS_PER_DEVICE are forgotten). Callers limit how often
 * (sessions.ts: at most once a minute per session).
 */
export async function touchDevice(db: Knex, deviceId: number, ip: string | null, now: number): Promise<void> {
  const addr = ip?.slice(0, 64) || null;
  await db('devices').where({ id: deviceId }).update(addr ? { last_seen_at: now, last_ip: addr } : { last_seen_at: now });
  if (!addr) return;
  await db('device_networks')
    .insert({ device_id: deviceId, ip: addr, first_seen_at: now, last_seen_at: now })
    .onConflict(['device_id', 'ip'])
    .merge({ last_seen_at: now });
  const kept = db('device_networks').where({ device_id: deviceId }).orderBy('last_seen_at', 'desc').limit(MAX_NETWORKS_PER_DEVICE).select('ip');
  await db('device_networks').where({ device_id: deviceId }).whereNotIn('ip', kept).delete();
}

export interface NewDevice {
  userId: number;
  /** the session to bind: the one that named the device */
  sessionId: string;
  name: string;
  type: DeviceType;
  /** the browser's device cookie, if it has one (another user's device on a shared browser) */
  token: string | null | undefined;
  ip: string | null;
  userAgent: string | null;
  now: number;
}

/**
 * Names this browser as a device of the user and binds the session to it. A browser that already
 * carries a device cookie keeps its value (two people sharing one browser each get their device
 * behind the same cookie); if that cookie already names a device of this user, the session is
 * bound to it unchanged. A session that already has a device is refused: rename it instead.
 */
export async function registerDevice(db: Db, input: NewDevice): Promise<{ device: DeviceRow; token: string }> {
  const name = normalizeDeviceName(input.name);
  return db.transaction(async (trx) => {
    const session = await trx('sessions').where({ id: input.sessionId, user_id: input.userId }).first('device_id');
    if (!session) throw new AppError('unauthorized', 'log in first');
    if (session.device_id) throw new AppError('bad_request', 'this session already has a device: rename it with PATCH /devices/:id');
    const token = isDeviceToken(input.token) ? input.token : newDeviceToken();
    let device = await findDeviceByToken(trx, input.userId, token);
    if (!device) {
      const [id] = await trx('devices').insert({
        user_id: input.userId,
        name,
        type: input.type,
        token_hash: sha256(token),
        user_agent: input.userAgent?.slice(0, 300) ?? null,
        first_seen_at: input.now,
        last_seen_at: input.now,
        last_ip: input.ip?.slice(0, 64) ?? null,
        created_at: input.now,
      });
      device = await getDevice(trx, input.userId, Number(id));
    }
    await trx('sessions').where({ id: input.sessionId }).update({ device_id: device.id });
    await touchDevice(trx, device.id, input.ip, input.now);
    return { device: await getDevice(trx, input.userId, device.id), token };
  });
}

export async function getDevice(db: Knex, userId: number, id: number): Promise<DeviceRow> {
  const row = await db<DeviceRow>('devices').where({ id, user_id: userId }).first();
  if (!row) throw new AppError('device_not_found', `no device ${id}`);
  return row;
}

/** The user's devices, most recently seen first. */
export async function listDevices(db: Knex, userId: number): Promise<DeviceRow[]> {
  return db<DeviceRow>('devices').where({ user_id: userId }).orderBy([{ column: 'last_seen_at', order: 'desc' }, { column: 'id', order: 'desc' }]);
}

/** Live sessions of the user bound to no device: API clients, or a browser that was never named. */
export async function countUnboundSessions(db: Knex, userId: number, now: number): Promise<number> {
  const row = await db('sessions').where({ user_id: userId }).whereNull('device_id').andWhere('expires_at', '>', now).first(db.raw('count(*) as n'));
  return Number(row?.n ?? 0);
}

export async function updateDevice(db: Db, userId: number, id: number, change: { name?: string; type?: DeviceType }): Promise<DeviceRow> {
  const patch: Partial<Pick<DeviceRow, 'name' | 'type'>> = {};
  if (change.name !== undefined) patch.name = normalizeDeviceName(change.name);
  if (change.type !== undefined) patch.type = change.type;
  return db.transaction(async (trx) => {
    await getDevice(trx, userId, id);
    if (Object.keys(patch).length) await trx('devices').where({ id, user_id: userId }).update(patch);
    return getDevice(trx, userId, id);
  });
}

/** Removes the device; its sessions go with it (foreign key cascade), counted for the answer. */
export async function removeDevice(db: Db, userId: number, id: number): Promise<{ sessionsEnded: number }> {
  return db.transaction(async (trx) => {
    await getDevice(trx, userId, id);
    const row = await trx('sessions').where({ device_id: id }).first(trx.raw('count(*) as n'));
    await trx('devices').where({ id, user_id: userId }).delete();
    return { sessionsEnded: Number(row?.n ?? 0) };
  });
}
