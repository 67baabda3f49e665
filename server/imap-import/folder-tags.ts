/**
 * Folders and flags become tags (tags replace folders, SPEC §2): a special-use folder is a system
 * tag (\Inbox → INBOX, \Sent → SENT, \Junk → SPAM, \Drafts → DRAFT, \Flagged → IMPORTANT), any
 * other folder is a user tag named by its path; flags \Flagged → IMPORTANT, \Junk / $Junk → SPAM,
 * keywords → user tags; \Seen marks the message read. Pure functions.
 */
import type { ListResponse } from 'imapflow';
import { MAX_TAG_NAME } from '../mail/tags.js';

/** RFC 6154 special-use attributes we recognise (and \Inbox, which imapflow adds for INBOX). */
const SPECIAL_TAGS: Record<string, string | null> = {
  '\\Inbox': 'INBOX',
  '\\Sent': 'SENT',
  '\\Junk': 'SPAM',
  '\\Drafts': 'DRAFT',
  '\\Flagged': 'IMPORTANT',
  // these keep their (translated) name as a user tag
  '\\Archive': null,
  '\\Trash': null,
  '\\All': null,
};

export interface RemoteFolder {
  path: string;
  delimiter: string | null;
  specialUse: string | null;
}

/**
 * The folders worth importing, with their special use as the server declares it (RFC 6154).
 * imapflow also guesses special use from common names ("Sent Items", "Spam"); the guess is kept,
 * since that is what a user means by those names. \Noselect folders hold no mail.
 */
export function remoteFolders(list: ListResponse[]): RemoteFolder[] {
  return list
    .filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'))
    .map((f) => ({ path: f.path, delimiter: f.delimiter ?? null, specialUse: f.specialUse && f.specialUse in SPECIAL_TAGS ? f.specialUse : null }));
}

/** A user tag from a folder path: "Projects/2024" stays as is (trimmed to the tag length). */
function folderTag(path: string): string | null {
  const name = path.replace(/[\p{Cc}]/gu, ' ').trim().slice(0, MAX_TAG_NAME).trim();
  return name || null;
}

export function tagsOfFolder(f: { path: string; specialUse: string | null }): string[] {
  if (f.specialUse && SPECIAL_TAGS[f.specialUse]) return [SPECIAL_TAGS[f.specialUse]!];
  if (f.path.toUpperCase() === 'INBOX') return ['INBOX'];
  const tag = folderTag(f.path);
  return tag ? [tag] : [];
}

const FLAG_TAGS: Record<string, string> = { '\\flagged': 'IMPORTANT', '\\junk': 'SPAM', $junk: 'SPAM' };
/** Keywords that are client bookkeeping, not the user's labels. */
const IGNORED_KEYWORDS = new Set(['$notjunk', 'notjunk', '$mdnsent', '$forwarded', '$submitpending', '$submitted', '$phishing', 'nonjunk', '$hasattachment', '$hasnoattachment', '$recent']);

export function tagsOfFlags(flags: Set<string> | undefined): { read: boolean; tags: string[] } {
  const tags: string[] = [];
  let read = false;
  for (const flag of flags ?? []) {
    const lower = flag.toLowerCase();
    if (lower === '\\seen') read = true;
    else if (FLAG_TAGS[lower]) tags.push(FLAG_TAGS[lower]);
    else if (flag.startsWith('\\') || IGNORED_KEYWORDS.has(lower) || lower.startsWith('$label')) continue;
    else {
      const tag = folderTag(flag);
      if (tag) tags.push(tag);
    }
  }
  return { read, tags };
}
