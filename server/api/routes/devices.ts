/**
 * The user's devices: list with PI, name this browser (binds the session), rename, remove (ends
 * the device's sessions; removing the current one logs out and clears both cookies).
 *
 * The login flow: POST /auth/login answers `needsDevice: true` when the browser's device cookie
 * names none of the user's devices; the session works, and POST /devices/current {name, type}
 * names the browser, binds the session and sets the device cookie. The next login from that
 * browser is bound to the device at once (`needsDevice: false`).
 */
import { z } from 'zod';
import type { Router } from '@koa/router';
import { DEVICE_TYPES, getDevice, registerDevice, removeDevice, updateDevice, type DeviceRow } from '../../accounts/devices.js';
import { devicesWithPi, type DevicePi } from '../../accounts/device-pi.js';
import { clearSessionCookie } from '../middleware/session.js';
import { clearDeviceCookie, readDeviceCookie, setDeviceCookie } from '../middleware/device-cookie.js';
import { langOf } from '../presenters.js';
import { authOf, type ApiContext, type ApiState } from '../types.js';
import { protectedRouter, type RouteContext } from './context.js';
import { idParams } from './params.js';

// The domain trims and bounds names (devices.ts normalizeDeviceName); zod bounds the input.
const deviceType = z.enum(DEVICE_TYPES);
const newDeviceBody = z.strictObject({ name: z.string().max(1000), type: deviceType });
const devicePatch = z.strictObject({ name: z.string().max(1000).optional(), type: deviceType.optional() });

export function presentDevice(d: DeviceRow, current: boolean, pi?: DevicePi) {
  return {
    id: d.id,
    name: d.name,
    type: d.type,
    user_agent: d.user_agent,
    first_seen_at: d.first_seen_at,
    last_seen_at: d.last_seen_at,
    last_ip: d.last_ip,
    current,
    ...(pi ? { pi } : {}),
  };
}

export function deviceRoutes({ services }: RouteContext): Router<ApiState> {
  const { deps } = services;
  const secureCookies = deps.config.http.secureCookies;
  const router = protectedRouter();
  const now = () => deps.clock.now().getTime();
  const options = (ctx: ApiContext) => {
    const { user, session } = authOf(ctx);
    return { now: now(), lang: langOf(user), currentId: session.device_id, secureCookies, requestSecure: ctx.secure };
  };

  router.get('/devices', async (ctx) => {
    const { user, session } = authOf(ctx);
    const { devices, unboundSessions } = await devicesWithPi(deps.db, user.id, options(ctx));
    ctx.body = { items: devices.map(({ device, pi }) => presentDevice(device, device.id === session.device_id, pi)), unbound_sessions: unboundSessions };
  });
  router.get('/devices/current', async (ctx) => {
    const { user, session } = authOf(ctx);
    ctx.body = { device: session.device_id ? presentDevice(await getDevice(deps.db, user.id, session.device_id), true) : null };
  });
  router.post('/devices/current', async (ctx) => {
    const input = newDeviceBody.parse(ctx.state.body ?? {});
    const { user, session } = authOf(ctx);
    const client = { ip: ctx.ip || null, userAgent: ctx.get('User-Agent') || null };
    const { device, token } = await registerDevice(deps.db, { ...input, ...client, userId: user.id, sessionId: session.id, token: readDeviceCookie(ctx), now: now() });
    setDeviceCookie(ctx, token, now(), secureCookies);
    ctx.status = 201;
    ctx.body = { device: presentDevice(device, true) };
  });
  router.patch('/devices/:id', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    const { user, session } = authOf(ctx);
    ctx.body = { device: presentDevice(await updateDevice(deps.db, user.id, id, devicePatch.parse(ctx.state.body ?? {})), id === session.device_id) };
  });
  router.delete('/devices/:id', async (ctx) => {
    const { id } = idParams.parse(ctx.params);
    const { user, session } = authOf(ctx);
    const { sessionsEnded } = await removeDevice(deps.db, user.id, id);
    if (sessionsEnded > 0) deps.events.emit('sessions-ended', { userId: user.id });
    const current = id === session.device_id;
    if (current) {
      clearSessionCookie(ctx, secureCookies);
      clearDeviceCookie(ctx, secureCookies);
    }
    ctx.body = { ok: true, current, sessions_ended: sessionsEnded };
  });
  return router;
}
