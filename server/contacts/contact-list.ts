/**
 * The contact list: known contacts and suggestions from exchanges, sorted by name, searched over
 * names, emails and organisations, filtered by tag (tags are the groups) and status. A page is one
 * range scan of the (user_id, sort_name, id) index from the cursor that stops after `limit` matches;
 * search terms are substring tests on the folded `search_text` of the rows scanned, so the cost
 * stays that of a scan of one user's rows at worst (10,000 contacts: a few ms). The page's emails,
 * organisations and tags come in one batched query each; its PI badges from the cache, refreshed
 * for the contacts whose cache is stale (contact-pi-facts.ts).
 */
import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { foldText } from '../mail/search-query.js';
import { findTag } from '../mail/tags.js';
import { piBadge, type PiBadge } from '../mail/timeline.js';
import { refreshContactPis } from './contact-pi-facts.js';
import { contactName, type NameColumns } from './names.js';

export interface ContactListQuery {
  q?: string;
  tag?: string;
  status?: 'known' | 'suggested';
  limit?: number;
  cursor?: string;
}

export interface ContactListItem {
  id: number;
  name: string;
  status: 'known' | 'suggested';
  emails: string[];
  organisation: string | null;
  tags: string[];
  pi: PiBadge | null;
  last_exchange_at: number | null;
}

export const MAX_CONTACTS_PAGE = 100;
const DEFAULT_LIMIT = 50;

export function encodeContactCursor(row: { sort_name: string; id: number }): string {
  return `${row.id}.${Buffer.from(row.sort_name, 'utf8').toString('base64url')}`;
}

export function decodeContactCursor(cursor: string): { sortName: string; id: number } {
  const m = /^(\d{1,12})\.([A-Za-z0-9_-]{0,400})$/.exec(cursor);
  if (!m) throw new AppError('validation_failed', 'cursor: not a cursor from this API');
  return { id: Number(m[1]), sortName: Buffer.from(m[2]!, 'base64url').toString('utf8') };
}

const likeTerm = (term: string) => `%${term.replace(/[\\%_]/g, (c) => '\\' + c)}%`;

interface PageRow extends NameColumns {
  id: number;
  status: 'known' | 'suggested';
  sort_name: string;
  pi_score: number | null;
  pi_letter: string | null;
  last_exchange_at: number | null;
}

async function pageRows(db: Knex, userId: number, q: ContactListQuery, limit: number): Promise<PageRow[] | null> {
  const query = db('contacts as c').where('c.user_id', userId);
  if (q.status) query.andWhere('c.status', q.status);
  if (q.tag !== undefined) {
    const tag = await findTag(db, userId, q.tag);
    if (!tag) return null; // an unknown tag groups nobody
    query.whereExists(db('contact_tags as ct').whereRaw('ct.contact_id = c.id').andWhere('ct.tag_id', tag.id).select(db.raw('1')));
  }
  for (const term of foldText(q.q ?? '').split(/\s+/).filter(Boolean).slice(0, 10)) {
    query.whereRaw("c.search_text LIKE ? ESCAPE '\\'", [likeTerm(term)]);
  }
  if (q.cursor !== undefined) {
    const c = decodeContactCursor(q.cursor);
    query.whereRaw('(c.sort_name, c.id) > (?, ?)', [c.sortName, c.id]);
  }
  return query
    .orderBy([{ column: 'c.sort_name', order: 'asc' }, { column: 'c.id', order: 'asc' }])
    .limit(limit + 1)
    .select('c.id', 'c.status', 'c.display_name', 'c.given_name', 'c.family_name', 'c.additional_names', 'c.name_prefix',
      'c.name_suffix', 'c.sort_name', 'c.pi_score', 'c.pi_letter', 'c.last_exchange_at');
}

async function pageDetails(db: Knex, ids: number[]) {
  const list = JSON.stringify(ids);
  const [emails, orgs, tags, phones] = await Promise.all([
    db('contact_emails').whereRaw('contact_id IN (SELECT value FROM json_each(?))', [list]).orderBy('id').select('contact_id', 'address'),
    db('contact_organisations').whereRaw('contact_id IN (SELECT value FROM json_each(?))', [list]).orderBy('id').select('contact_id', 'name'),
    db('contact_tags as ct').join('tags as t', 't.id', 'ct.tag_id').whereRaw('ct.contact_id IN (SELECT value FROM json_each(?))', [list]).orderBy('t.name').select('ct.contact_id', 't.name'),
    db('contact_phones').whereRaw('contact_id IN (SELECT value FROM json_each(?))', [list]).orderBy('id').select('contact_id', 'number'),
  ]);
  const collect = (rows: Array<{ contact_id: number }>, key: string) => {
    const out = new Map<number, string[]>();
    for (const r of rows as Array<{ contact_id: number } & Record<string, string | null>>) {
      const v = r[key];
      if (v) out.set(r.contact_id, [...(out.get(r.contact_id) ?? []), v]);
    }
    return out;
  };
  return { emails: collect(emails, 'address'), orgs: collect(orgs, 'name'), tags: collect(tags, 'name'), phones: collect(phones, 'number') };
}

export async function listContacts(db: Knex, userId: number, q: ContactListQuery, now: number): Promise<{ items: ContactListItem[]; next: string | null }> {
  const limit = Math.min(Math.max(Math.trunc(q.limit ?? DEFAULT_LIMIT), 1), MAX_CONTACTS_PAGE);
  const rows = await pageRows(db, userId, q, limit);
  if (!rows) return { items: [], next: null };
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.id);
  const [details, fresh] = await Promise.all([pageDetails(db, ids), refreshContactPis(db, userId, ids, now)]);
  const items = page.map((r): ContactListItem => {
    const emails = details.emails.get(r.id) ?? [];
    const orgs = details.orgs.get(r.id) ?? [];
    const pi = fresh.get(r.id)?.report;
    return {
      id: r.id,
      name: contactName(r, { emails, organisations: orgs.map((name) => ({ name })), phones: details.phones.get(r.id) }),
      status: r.status,
      emails,
      organisation: orgs[0] ?? null,
      tags: details.tags.get(r.id) ?? [],
      pi: pi ? piBadge(pi.score, pi.letter) : piBadge(r.pi_score, r.pi_letter),
      last_exchange_at: r.last_exchange_at,
    };
  });
  const last = page[page.length - 1];
  return { items, next: rows.length > limit && last ? encodeContactCursor(last) : null };
}
