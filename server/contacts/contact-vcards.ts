/**
 * vCard files in and out of the address book. Import merges each card into the contact that has
 * its UID or one of its emails (one address belongs to one contact), else creates a known contact:
 * names and notes the card gives replace the stored ones, emails/phones/addresses/organisations
 * and CATEGORIES (→ tags) are added to what is there; a card that brings nothing new is skipped.
 * So import → export → import changes nothing. Export writes the known contacts (by default), sorted
 * by name, in vCard 4.0 or 3.0. Cards are written in transactions of 100, so a large import does
 * not hold the writer (and the mail it commits) for long.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError, isAppError } from '../errors.js';
import { userAddresses } from '../accounts/users.js';
import { tagIds } from '../mail/tags.js';
import { normalizeCard, normalizeEmail, NAME_FIELDS, type CardFields, type CardInput, type CardPatch } from './contact-input.js';
import { changeContactTagIds, insertContact, loadCards, writeCard, type StoredCard } from './contact-store.js';
import { contactName, fallbackName, isSystemTagName } from './names.js';
import { parseVCards, serializeVCard, type VCard } from './vcard.js';

export interface ImportReport {
  created: number;
  updated: number;
  skipped: number;
  /** cards not imported, by their 0-based position in the file */
  errors: Array<{ index: number; message: string }>;
  /** values left out of cards that were imported (an email the box cannot write to, a system tag) */
  warnings: Array<{ index: number; message: string }>;
}

export const MAX_VCARD_BYTES = 10 * 1024 * 1024;
const BATCH = 100;

interface Incoming { fields: CardPatch; uid: string | null; tags: string[] }

/** A parsed card as the contact fields it gives; what cannot be kept goes to `warn`. */
function fromVCard(card: VCard, own: Set<string>, warn: (m: string) => void): Incoming {
  const emails: NonNullable<CardInput['emails']> = [];
  for (const e of card.emails) {
    try {
      const address = normalizeEmail(e.address);
      if (own.has(address)) warn(`${address} is your own address: left out`);
      else if (!emails.some((x) => typeof x !== 'string' && x.address === address)) emails.push({ ...e, address });
    } catch {
      warn(`"${e.address.slice(0, 100)}" is not an email address: left out`);
    }
  }
  const parts = { given_name: card.n?.given, family_name: card.n?.family, additional_names: card.n?.additional, name_prefix: card.n?.prefix, name_suffix: card.n?.suffix };
  const fallback = fallbackName(parts, { emails: emails.map((e) => (typeof e === 'string' ? e : e.address)), organisations: card.organisations, phones: card.phones.map((p) => p.number) });
  // FN that only repeats what the card already says (the name in parts, the first email) is not a display name of its own
  const display = card.fn && card.fn.toLowerCase() !== fallback.toLowerCase() ? card.fn : null;
  const tags = card.categories.filter((t) => {
    const bad = isSystemTagName(t) ? 'is a system tag' : t.length > 64 || /[\x00-\x1f\x7f]/.test(t) ? 'is not a tag name' : null;
    if (bad) warn(`category "${t.slice(0, 64)}" ${bad}: left out`);
    return !bad;
  });
  const fields = normalizeCard({ ...parts, display_name: display, notes: card.note, emails, phones: card.phones, addresses: card.addresses, organisations: card.organisations });
  return { fields, uid: card.uid, tags };
}

const digits = (n: string) => n.replace(/[^\d+]/g, '');
const same = (a: object, b: object) => JSON.stringify(a) === JSON.stringify(b);

/** What the card changes on a stored contact: replaced names and notes, added list items. */
function mergeInto(stored: StoredCard, inc: CardPatch): CardPatch {
  const patch: CardPatch = {};
  for (const f of [...NAME_FIELDS, 'notes'] as const) if (inc[f] && inc[f] !== stored[f]) patch[f] = inc[f];
  const emails = stored.emails.map((e) => ({ ...e }));
  const preferred = inc.emails?.find((e) => e.preferred)?.address;
  for (const e of inc.emails ?? []) {
    const have = emails.find((x) => x.address === e.address);
    if (!have) emails.push({ ...e, preferred: false });
    else if (e.type && !have.type) have.type = e.type;
  }
  if (preferred) for (const e of emails) e.preferred = e.address === preferred;
  if (!same(emails, stored.emails)) patch.emails = emails;
  const phones = [...stored.phones, ...(inc.phones ?? []).filter((p) => !stored.phones.some((s) => digits(s.number) === digits(p.number)))];
  if (phones.length !== stored.phones.length) patch.phones = phones;
  const addresses = [...stored.addresses, ...(inc.addresses ?? []).filter((a) => !stored.addresses.some((s) => same(s, a)))];
  if (addresses.length !== stored.addresses.length) patch.addresses = addresses;
  const organisations = [...stored.organisations, ...(inc.organisations ?? []).filter((o) => !stored.organisations.some((s) => same(s, o)))];
  if (organisations.length !== stored.organisations.length) patch.organisations = organisations;
  return patch;
}

function isEmpty(f: CardPatch): boolean {
  return !NAME_FIELDS.some((n) => f[n]) && !f.notes && !f.emails?.length && !f.phones?.length && !f.addresses?.length && !f.organisations?.length;
}

/** The contacts this card designates: by UID, and by each email. More than one is a conflict. */
async function matches(trx: Knex, userId: number, inc: Incoming): Promise<number[]> {
  const ids = new Set<number>();
  if (inc.uid) {
    const byUid = await trx('contacts').where({ user_id: userId, uid: inc.uid }).first('id');
    if (byUid) ids.add(byUid.id);
  }
  const addresses = (inc.fields.emails ?? []).map((e) => e.address);
  if (addresses.length) for (const r of await trx('contact_emails').where({ user_id: userId }).whereIn('address', addresses).distinct('contact_id')) ids.add(r.contact_id);
  return [...ids];
}

/** Tag ids by name for one import: a file of thousands of cards names the same few groups again and again. */
type TagCache = Map<string, number>;

async function tagIdsCached(trx: Knex, userId: number, names: string[], now: number, cache: TagCache): Promise<number[]> {
  const missing = names.filter((n) => !cache.has(n));
  const ids = await tagIds(trx, userId, missing, now);
  missing.forEach((n, i) => cache.set(n, ids[i]!));
  return [...new Set(names.map((n) => cache.get(n)!))];
}

async function importOne(trx: Knex, userId: number, inc: Incoming, now: number, cache: TagCache): Promise<'created' | 'updated' | 'skipped'> {
  const found = await matches(trx, userId, inc);
  if (found.length > 1) throw new AppError('contact_exists', `its addresses belong to ${found.length} different contacts (${found.join(', ')})`);
  const tags = await tagIdsCached(trx, userId, inc.tags, now, cache);
  if (!found.length) {
    const id = await insertContact(trx, userId, inc.fields, 'known', inc.uid ?? `urn:uuid:${randomUUID()}`, now);
    await changeContactTagIds(trx, id, tags, []);
    return 'created';
  }
  const [stored] = await loadCards(trx, userId, found);
  const patch = mergeInto(stored!, inc.fields);
  const newTags = tags.filter((t) => !stored!.tags.some((s) => s.id === t));
  const extra = { ...(stored!.row.status !== 'known' ? { status: 'known' as const } : {}), ...(inc.uid && !stored!.row.uid ? { uid: inc.uid } : {}) };
  if (!Object.keys(patch).length && !newTags.length && !Object.keys(extra).length) return 'skipped';
  await writeCard(trx, userId, stored!.row.id, patch, now, extra);
  await changeContactTagIds(trx, stored!.row.id, newTags, []);
  return 'updated';
}

export async function importVCards(db: Knex, userId: number, body: Buffer, opts: { charset?: string; now: number }): Promise<ImportReport> {
  const cards = parseVCards(body, { charset: opts.charset });
  if (!cards.length) throw new AppError('invalid_vcard', 'no vCard found: the file has no BEGIN:VCARD … END:VCARD');
  const own = new Set(await userAddresses(db, userId));
  const report: ImportReport = { created: 0, updated: 0, skipped: 0, errors: [], warnings: [] };
  const tags: TagCache = new Map();
  for (let i = 0; i < cards.length; i += BATCH) {
    await db.transaction(async (trx) => {
      for (const entry of cards.slice(i, i + BATCH)) {
        if ('error' in entry) {
          report.errors.push({ index: entry.index, message: entry.error });
          continue;
        }
        const warnings: string[] = [];
        try {
          const inc = fromVCard(entry.card, own, (m) => warnings.push(m));
          if (isEmpty(inc.fields)) throw new AppError('invalid_vcard', 'the card has no name, email, phone, address, organisation or note');
          report[await trx.transaction((sp) => importOne(sp, userId, inc, opts.now, tags))]++;
          for (const message of warnings) report.warnings.push({ index: entry.index, message });
        } catch (err) {
          if (!isAppError(err)) throw err;
          tags.clear(); // a tag this card created went with its rolled-back savepoint
          report.errors.push({ index: entry.index, message: err.message });
        }
      }
    });
  }
  return report;
}

function toVCard(c: StoredCard): VCard {
  const fields: CardFields = c;
  return {
    uid: c.row.uid,
    fn: contactName(fields, { emails: c.emails.map((e) => e.address), organisations: c.organisations, phones: c.phones.map((p) => p.number) }),
    n: { family: c.family_name, given: c.given_name, additional: c.additional_names, prefix: c.name_prefix, suffix: c.name_suffix },
    emails: c.emails,
    phones: c.phones,
    addresses: c.addresses,
    organisations: c.organisations,
    note: c.notes,
    categories: c.tags.map((t) => t.name),
  };
}

export type ExportStatus = 'known' | 'suggested' | 'all';

/** Contacts as one vCard file, sorted by name; `ids` narrows it to those contacts (one card's download). */
export async function exportVCards(db: Knex, userId: number, opts: { version: '3.0' | '4.0'; status?: ExportStatus; ids?: number[] }): Promise<string> {
  const q = db('contacts').where({ user_id: userId }).orderBy(['sort_name', 'id']);
  if (opts.ids) q.whereIn('id', opts.ids);
  else if ((opts.status ?? 'known') !== 'all') q.andWhere('status', opts.status ?? 'known');
  const ids = (await q.select('id')).map((r: { id: number }) => r.id);
  const cards = await loadCards(db, userId, ids);
  return cards.map((c) => serializeVCard(toVCard(c), opts.version)).join('');
}

/** One contact's card. */
export async function exportContactVCard(db: Knex, userId: number, id: number, version: '3.0' | '4.0'): Promise<string> {
  const text = await exportVCards(db, userId, { version, ids: [id] });
  if (!text) throw new AppError('contact_not_found', `no contact ${id}`);
  return text;
}
