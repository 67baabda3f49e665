/**
 * What a user changes about their own account: profile, language, time zone, display preferences,
 * and their password. Display preferences are stored as JSON (users.settings_json) and always read
 * back merged over the defaults, so a preference added later has a value for every existing user.
 */
import { z } from 'zod';
import type { Deps } from '../deps.js';
import type { Throttle } from './sessions.js';
import { AppError } from '../errors.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { getUser, validatePassword, type User } from './users.js';

/** The display preferences, their allowed values and defaults; unknown keys are refused. */
export const displaySettings = z.strictObject({
  /** how tight the timeline is */
  density: z.enum(['comfortable', 'compact']),
  theme: z.enum(['system', 'light', 'dark']),
  /** remote images in mail: never, ask per message (the "show once / always for this sender" bar), always */
  show_images: z.enum(['never', 'ask', 'always']),
  /** j/k, r, c, / in the timeline */
  keyboard_shortcuts: z.boolean(),
  /** messages of a discussion, oldest or newest first */
  message_order: z.enum(['oldest_first', 'newest_first']),
  /** a desktop notification when new mail arrives (the browser asks for permission) */
  notifications: z.boolean(),
});
export type DisplaySettings = z.infer<typeof displaySettings>;

export const DEFAULT_SETTINGS: DisplaySettings = {
  density: 'comfortable',
  theme: 'system',
  show_images: 'ask',
  keyboard_shortcuts: true,
  message_order: 'oldest_first',
  notifications: false,
};

/** Stored preferences over the defaults; a stored value that no longer validates falls back to its default. */
export function settingsOf(user: Pick<User, 'settings_json'>): DisplaySettings {
  let stored: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(user.settings_json || '{}');
    if (parsed && typeof parsed === 'object') stored = parsed as Record<string, unknown>;
  } catch {
    // a damaged column shows the defaults rather than breaking the account page
  }
  const out = { ...DEFAULT_SETTINGS } as Record<string, unknown>;
  const shape = displaySettings.shape as Record<string, z.ZodType>;
  for (const key of Object.keys(shape)) {
    if (key in stored && shape[key]!.safeParse(stored[key]).success) out[key] = stored[key];
  }
  return out as DisplaySettings;
}

/** An IANA zone name as Intl knows it, in its canonical spelling ("europe/paris" → "Europe/Paris"). */
export function canonicalTimeZone(zone: string): string {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new AppError('validation_failed', `unknown time zone: ${zone} (use an IANA name such as Europe/Paris)`);
  }
}

export interface ProfileChange {
  display_name?: string | null;
  lang?: 'en' | 'fr';
  timezone?: string;
  settings?: Partial<DisplaySettings>;
}

/** Changes only the fields given; settings are merged key by key into the stored ones. */
export async function updateProfile(deps: Deps, userId: number, change: ProfileChange): Promise<User> {
  return deps.db.transaction(async (trx) => {
    const user = await getUser(trx, userId);
    const patch: Partial<Pick<User, 'display_name' | 'lang' | 'timezone' | 'settings_json'>> = {};
    if (change.display_name !== undefined) patch.display_name = change.display_name?.trim() || null;
    if (change.lang !== undefined) patch.lang = change.lang;
    if (change.timezone !== undefined) patch.timezone = canonicalTimeZone(change.timezone);
    if (change.settings !== undefined) patch.settings_json = JSON.stringify({ ...settingsOf(user), ...change.settings });
    if (Object.keys(patch).length) await trx('users').where({ id: userId }).update(patch);
    return { ...user, ...patch };
  });
}

/**
 * Checks the current password (throttled per user: a stolen session must not become a way to guess
 * it), stores the new one hashed, and ends every other session of the user: whoever else was logged
 * in with the old password is out. The session making the change stays.
 */
export async function changePassword(
  deps: Deps,
  throttle: Throttle,
  userId: number,
  currentSessionId: string,
  input: { current: string; next: string },
): Promise<{ sessionsEnded: number }> {
  const key = `password-change\n${userId}`;
  throttle.assertAllowed(key);
  const user = await getUser(deps.db, userId);
  if (!(await verifyPassword(input.current, user.password_hash))) {
    throttle.fail(key);
    throw new AppError('wrong_password', 'the current password is not right');
  }
  throttle.reset(key);
  validatePassword(input.next);
  if (input.next === input.current) throw new AppError('validation_failed', 'the new password is the same as the current one');
  const hash = await hashPassword(input.next);
  return deps.db.transaction(async (trx) => {
    await trx('users').where({ id: userId }).update({ password_hash: hash });
    const ended = await trx('sessions').where({ user_id: userId }).whereNot({ id: currentSessionId }).delete();
    return { sessionsEnded: Number(ended) };
  });
}
