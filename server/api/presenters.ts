/** What the API shows of domain objects: never a password hash, never another user's data. */
import type { User } from '../accounts/users.js';

export type Lang = 'en' | 'fr';

export function langOf(user: Pick<User, 'lang'>): Lang {
  return user.lang === 'fr' ? 'fr' : 'en';
}

export function presentUser(user: User, addresses: string[]) {
  return {
    id: user.id,
    username: user.username,
    display_name: user.display_name,
    addresses,
    lang: langOf(user),
    timezone: user.timezone,
    is_admin: !!user.is_admin,
  };
}
