/**
 * What a contact is called, and the folded keys the contact list sorts and searches by. One rule
 * for the API, the vCard FN and the list order: the display name, else the name in parts, else the
 * organisation, else the first email, else the first phone number.
 */
import { foldText } from '../mail/search-query.js';
import { SYSTEM_TAGS } from '../mail/tags.js';

export interface NameParts {
  display_name?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  additional_names?: string | null;
  name_prefix?: string | null;
  name_suffix?: string | null;
}

/** The name columns of a contacts row: every part present, null when unknown. */
export type NameColumns = { [K in keyof NameParts]-?: string | null };

export interface NameFallbacks {
  emails?: readonly string[];
  organisations?: ReadonlyArray<{ name: string | null }>;
  phones?: readonly string[];
}

/** "Dr Ada M. Lovelace Jr": the parts in reading order, or null when there are none. */
export function composedName(p: NameParts): string | null {
  const parts = [p.name_prefix, p.given_name, p.additional_names, p.family_name, p.name_suffix].filter((s): s is string => !!s);
  return parts.length ? parts.join(' ') : null;
}

/** The name shown for a contact without a display name: composed, organisation, email, phone; '' when nothing. */
export function fallbackName(p: NameParts, f: NameFallbacks): string {
  return composedName(p) ?? f.organisations?.find((o) => o.name)?.name ?? f.emails?.[0] ?? f.phones?.[0] ?? '';
}

export function contactName(p: NameParts, f: NameFallbacks): string {
  return p.display_name || fallbackName(p, f);
}

const MAX_SORT = 200;

/** Folded for comparison; leading quotes and punctuation do not decide the order ('"Bob"' sorts at b). */
export function sortKeyOf(name: string): string {
  return foldText(name).replace(/^[^\p{L}\p{N}]+/u, '').trim().slice(0, MAX_SORT);
}

/**
 * The list keys of a contact: sort_name from its shown name, search_text over its names, emails
 * and organisations (name, department, title), folded like the search box's input.
 */
export function foldedKeys(
  p: NameParts,
  emails: readonly string[],
  organisations: ReadonlyArray<{ name: string | null; department?: string | null; title?: string | null }>,
  phones: readonly string[] = [],
): { sort_name: string; search_text: string } {
  const words = [
    p.display_name, p.name_prefix, p.given_name, p.additional_names, p.family_name, p.name_suffix,
    ...emails, ...organisations.flatMap((o) => [o.name, o.department, o.title]),
  ].filter((s): s is string => !!s);
  return {
    sort_name: sortKeyOf(contactName(p, { emails, organisations, phones })),
    search_text: foldText(words.join(' ')),
  };
}

/** INBOX, SPAM…: tags about messages, not groups of people. */
export function isSystemTagName(name: string): boolean {
  return (SYSTEM_TAGS as readonly string[]).includes(name.trim().toUpperCase());
}
