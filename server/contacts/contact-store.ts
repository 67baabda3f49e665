/**
 * Contact rows in and out of the database: whole cards loaded in batches (emails, phones, postal
 * addresses, organisations, tags: one query each per 500 contacts), and a card's changes written in
 * the caller's transaction with the list keys (names.ts) kept in step. One address belongs to one
 * contact (SPEC §4): a taken address is refused with `contact_exists` naming the contact that has it.
 * An email that stays keeps its row, so the contact's first address, which stands for it in
 * discussion keys (mail/discussions.ts), only changes when that address is removed.
 */
import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { NAME_FIELDS, type CardFields, type CardPatch } from './contact-input.js';
import { foldedKeys, type NameColumns } from './names.js';

export interface ContactRow extends NameColumns {
  id: number;
  user_id: number;
  uid: string | null;
  status: 'known' | 'suggested';
  notes: string | null;
  sent_count: number;
  received_count: number;
  last_exchange_at: number | null;
  pi_score: number | null;
  pi_letter: string | null;
  created_at: number;
  updated_at: number;
}

export interface TagRef { id: number; name: string; color: string | null }

export interface StoredCard extends CardFields {
  row: ContactRow;
  tags: TagRef[];
}

const ROW_COLUMNS = ['id', 'user_id', 'uid', 'status', ...NAME_FIELDS, 'notes', 'sent_count', 'received_count', 'last_exchange_at', 'pi_score', 'pi_letter', 'created_at', 'updated_at'];
const CHUNK = 500;

export async function findContactRow(db: Knex, userId: number, id: number): Promise<ContactRow> {
  const row = await db('contacts').where({ id, user_id: userId }).first(ROW_COLUMNS);
  if (!row) throw new AppError('contact_not_found', `no contact ${id}`);
  return row as ContactRow;
}

function group<T extends { contact_id: number }>(rows: T[]): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const r of rows) out.set(r.contact_id, [...(out.get(r.contact_id) ?? []), r]);
  return out;
}

/** Whole cards of these contacts of the user, in the order of `ids` (missing ones left out). */
export async function loadCards(db: Knex, userId: number, ids: number[]): Promise<StoredCard[]> {
  const out: StoredCard[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const [rows, emails, phones, addresses, organisations, tags] = await Promise.all([
      db('contacts').where({ user_id: userId }).whereIn('id', chunk).select(ROW_COLUMNS) as Promise<ContactRow[]>,
      db('contact_emails').whereIn('contact_id', chunk).orderBy('id').select('contact_id', 'address', 'type', 'is_preferred'),
      db('contact_phones').whereIn('contact_id', chunk).orderBy('id').select('contact_id', 'number', 'type'),
      db('contact_addresses').whereIn('contact_id', chunk).orderBy('id').select('contact_id', 'type', 'street', 'city', 'region', 'postcode', 'country'),
      db('contact_organisations').whereIn('contact_id', chunk).orderBy('id').select('contact_id', 'name', 'department', 'title'),
      db('contact_tags as ct').join('tags as t', 't.id', 'ct.tag_id').whereIn('ct.contact_id', chunk).orderBy('t.name').select('ct.contact_id', 't.id', 't.name', 't.color'),
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const [e, p, a, o, t] = [group(emails), group(phones), group(addresses), group(organisations), group(tags)];
    for (const id of chunk) {
      const row = byId.get(id);
      if (!row) continue;
      out.push({
        row,
        ...Object.fromEntries(NAME_FIELDS.map((f) => [f, row[f]])) as Pick<CardFields, (typeof NAME_FIELDS)[number]>,
        notes: row.notes,
        emails: (e.get(id) ?? []).map((x) => ({ address: x.address, type: x.type, preferred: !!x.is_preferred })),
        phones: (p.get(id) ?? []).map((x) => ({ number: x.number, type: x.type })),
        addresses: (a.get(id) ?? []).map(({ contact_id: _, ...x }) => x),
        organisations: (o.get(id) ?? []).map(({ contact_id: _, ...x }) => x),
        tags: (t.get(id) ?? []).map(({ contact_id: _, ...x }) => x),
      });
    }
  }
  return out;
}

/** Throws contact_exists when one of these addresses already belongs to another contact of the user. */
export async function assertEmailsFree(db: Knex, userId: number, addresses: string[], exceptContactId?: number): Promise<void> {
  if (!addresses.length) return;
  const taken = await db('contact_emails').where({ user_id: userId }).whereIn('address', addresses)
    .modify((q) => { if (exceptContactId !== undefined) q.whereNot('contact_id', exceptContactId); })
    .first('contact_id', 'address');
  if (taken) throw new AppError('contact_exists', `${taken.address} already belongs to contact ${taken.contact_id}`, { contact_id: taken.contact_id, address: taken.address });
}

async function replaceEmails(trx: Knex, userId: number, contactId: number, emails: CardFields['emails']): Promise<void> {
  await assertEmailsFree(trx, userId, emails.map((e) => e.address), contactId);
  const current: Array<{ id: number; address: string }> = await trx('contact_emails').where({ contact_id: contactId }).select('id', 'address');
  const keep = new Set(emails.map((e) => e.address));
  const gone = current.filter((c) => !keep.has(c.address)).map((c) => c.id);
  if (gone.length) await trx('contact_emails').whereIn('id', gone).delete();
  for (const e of emails) {
    const row = current.find((c) => c.address === e.address);
    if (row) await trx('contact_emails').where({ id: row.id }).update({ type: e.type, is_preferred: e.preferred });
    else await trx('contact_emails').insert({ contact_id: contactId, user_id: userId, address: e.address, type: e.type, is_preferred: e.preferred });
  }
}

async function replaceRows(trx: Knex, table: string, contactId: number, rows: object[]): Promise<void> {
  await trx(table).where({ contact_id: contactId }).delete();
  if (rows.length) await trx(table).insert(rows.map((r) => ({ ...r, contact_id: contactId })));
}

/** Writes the fields present in `patch` and refreshes the contact's list keys. */
export async function writeCard(trx: Knex, userId: number, contactId: number, patch: CardPatch, now: number, extra: Partial<Pick<ContactRow, 'status' | 'uid'>> = {}): Promise<void> {
  const scalars: Record<string, unknown> = { ...extra, updated_at: now };
  for (const f of [...NAME_FIELDS, 'notes'] as const) if (patch[f] !== undefined) scalars[f] = patch[f];
  if (patch.emails) await replaceEmails(trx, userId, contactId, patch.emails);
  if (patch.phones) await replaceRows(trx, 'contact_phones', contactId, patch.phones);
  if (patch.addresses) await replaceRows(trx, 'contact_addresses', contactId, patch.addresses);
  if (patch.organisations) await replaceRows(trx, 'contact_organisations', contactId, patch.organisations);
  const [card] = await loadCards(trx, userId, [contactId]);
  const merged = { ...card!, ...scalars } as unknown as CardFields;
  const keys = foldedKeys(merged, card!.emails.map((e) => e.address), card!.organisations, card!.phones.map((p) => p.number));
  await trx('contacts').where({ id: contactId, user_id: userId }).update({ ...scalars, ...keys });
}

/** A new contact with these fields, in one insert per table (imports add thousands); the caller has checked that its addresses are free. */
export async function insertContact(trx: Knex, userId: number, fields: CardPatch, status: ContactRow['status'], uid: string | null, now: number): Promise<number> {
  const emails = fields.emails ?? [];
  const phones = fields.phones ?? [];
  const organisations = fields.organisations ?? [];
  const names = Object.fromEntries(NAME_FIELDS.map((f) => [f, fields[f] ?? null]));
  const keys = foldedKeys(names, emails.map((e) => e.address), organisations, phones.map((p) => p.number));
  const [raw] = await trx('contacts').insert({ user_id: userId, status, uid, ...names, notes: fields.notes ?? null, ...keys, created_at: now, updated_at: now });
  const id = Number(raw);
  if (emails.length) await trx('contact_emails').insert(emails.map((e) => ({ contact_id: id, user_id: userId, address: e.address, type: e.type, is_preferred: e.preferred })));
  for (const [table, rows] of [['contact_phones', phones], ['contact_addresses', fields.addresses ?? []], ['contact_organisations', organisations]] as const) {
    if (rows.length) await trx(table).insert(rows.map((r) => ({ ...r, contact_id: id })));
  }
  return id;
}

/** Adds and removes tags on a contact (ids of the user's tags). */
export async function changeContactTagIds(trx: Knex, contactId: number, add: number[], remove: number[]): Promise<void> {
  if (add.length) await trx('contact_tags').insert(add.map((tag_id) => ({ contact_id: contactId, tag_id }))).onConflict(['contact_id', 'tag_id']).ignore();
  if (remove.length) await trx('contact_tags').where({ contact_id: contactId }).whereIn('tag_id', remove).delete();
}
