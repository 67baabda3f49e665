/**
 * Whether a message's remote images load. They are the tracking channel of mail, so they stay
 * blocked unless the user asked for them for this view ("show images"), trusts the sender ("always
 * for this sender": image_senders), or chose to always show them (display setting show_images).
 * "never" in the settings only hides the offer in the web app; an explicit ask still counts.
 */
import type { Knex } from 'knex';
import type { Deps } from '../deps.js';
import { settingsOf } from '../accounts/settings.js';
import type { User } from '../accounts/users.js';
import { AppError } from '../errors.js';
import { isEmailAddress } from './address-syntax.js';

/** why remote images are shown; null = blocked */
export type RemoteImages = 'asked' | 'sender' | 'setting' | null;

export async function remoteImagesFor(db: Knex, user: User, sender: string | null, asked: boolean): Promise<RemoteImages> {
  if (settingsOf(user).show_images === 'always') return 'setting';
  if (sender && (await db('image_senders').where({ user_id: user.id, address: sender.toLowerCase() }).first('address'))) return 'sender';
  return asked ? 'asked' : null;
}

export async function listImageSenders(db: Knex, userId: number): Promise<string[]> {
  const rows = await db('image_senders').where({ user_id: userId }).orderBy('address').select<{ address: string }[]>('address');
  return rows.map((r) => r.address);
}

function normalized(address: string): string {
  const a = address.trim().toLowerCase();
  if (!isEmailAddress(a)) throw new AppError('validation_failed', `not an email address: ${address}`);
  return a;
}

export async function trustImageSender(deps: Deps, userId: number, address: string): Promise<string> {
  const a = normalized(address);
  await deps.db('image_senders').insert({ user_id: userId, address: a, created_at: deps.clock.now().getTime() }).onConflict(['user_id', 'address']).ignore();
  return a;
}

export async function distrustImageSender(deps: Deps, userId: number, address: string): Promise<void> {
  await deps.db('image_senders').where({ user_id: userId, address: normalized(address) }).delete();
}
