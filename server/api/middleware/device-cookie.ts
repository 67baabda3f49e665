/**
 * The device cookie (caliopen_device): a random value that lets the box recognise a browser it has
 * already named as a device (accounts/devices.ts). httpOnly and SameSite=Strict like the session
 * cookie; it lives 400 days and is renewed at each login from that device. Written by hand for
 * the same reason as the session cookie (Secure behind a TLS-terminating proxy).
 */
import type { Context } from 'koa';
import { DEVICE_COOKIE_TTL_MS } from '../../accounts/devices.js';

export const DEVICE_COOKIE = 'caliopen_device';

export function readDeviceCookie(ctx: Context): string | undefined {
  return ctx.cookies.get(DEVICE_COOKIE) || undefined;
}

export function setDeviceCookie(ctx: Context, token: string, now: number, secure: boolean): void {
  const parts = [
    `${DEVICE_COOKIE}=${token}`,
    'Path=/',
    `Expires=${new Date(now + DEVICE_COOKIE_TTL_MS).toUTCString()}`,
    `Max-Age=${Math.floor(DEVICE_COOKIE_TTL_MS / 1000)}`,
    'HttpOnly',
    'SameSite=Strict',
  ];
  if (secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}

export function clearDeviceCookie(ctx: Context, secure: boolean): void {
  const parts = [`${DEVICE_COOKIE}=`, 'Path=/', 'Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'Max-Age=0', 'HttpOnly', 'SameSite=Strict'];
  if (secure) parts.push('Secure');
  ctx.append('Set-Cookie', parts.join('; '));
}
