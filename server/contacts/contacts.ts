/**
 * The address book (SPEC §4): a contact card to read, add by hand, edit, delete, accept (a
 * suggestion collected from exchanges becomes known), group with tags, and the discussions held
 * with it. Every function works on one user's contacts; another user's contact does not exist.
 * Not in charge of: collecting suggestions during ingest (linkage.ts), the list (contact-list.ts),
 * vCard files (contact-vcards.ts), the PI rule (contact-pi.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { userAddresses } from '../accounts/users.js';
import { findTag, tagIds } from '../mail/tags.js';
import { listDiscussions, type TimelinePage } from '../mail/timeline.js';
import { normalizeCard, type CardInput, type CardPatch } from './contact-input.js';
import { presentContactPi, type Lang } from './contact-pi.js';
import { refreshContactPis } from './contact-pi-facts.js';
import { changeContactTagIds, findContactRow, insertContact, loadCards, writeCard, assertEmailsFree, type StoredCard, type TagRef } from './contact-store.js';
import { contactName, isSystemTagName } from './names.js';

export interface ViewContext {
  now: number;
  lang: Lang;
}

function present(card: StoredCard, pi: ReturnType<typeof presentContactPi>, counts: { messages: number; encrypted: number; discussions: number }) {
  const { row } = card;
  return {
    id: row.id,
    uid: row.uid,
    status: row.status,
    name: contactName(card, { emails: card.emails.map((e) => e.address), organisations: card.organisations, phones: card.phones.map((p) => p.number) }),
    display_name: card.display_name,
    given_name: card.given_name,
    family_name: card.family_name,
    additional_names: card.additional_names,
    name_prefix: card.name_prefix,
    name_suffix: card.name_suffix,
    emails: card.emails,
    phones: card.phones,
    addresses: card.addresses,
    organisations: card.organisations,
    notes: card.notes,
    tags: card.tags,
    /** filled by the OpenPGP issue: fingerprints and their verification state */
    keys: [] as unknown[],
    pi,
    counts: { ...counts, sent: row.sent_count, received: row.received_count },
    last_exchange_at: row.last_exchange_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export type ContactView = ReturnType<typeof present>;

/** The card with its PI (recomputed, history kept when it changed) and its counts. */
export async function getContact(db: Knex, userId: number, id: number, ctx: ViewContext): Promise<ContactView> {
  const [card] = await loadCards(db, userId, [id]);
  if (!card) throw new AppError('contact_not_found', `no contact ${id}`);
  const { report, facts } = (await refreshContactPis(db, userId, [id], ctx.now, true)).get(id)!;
  return present(card, presentContactPi(report, ctx.lang), { messages: facts.messages, encrypted: facts.encrypted, discussions: facts.discussions });
}

/** The user's own addresses are not contacts (ingest never makes them suggestions either). */
async function assertNotOwn(db: Knex, userId: number, patch: CardPatch): Promise<void> {
  if (!patch.emails?.length) return;
  const own = new Set(await userAddresses(db, userId));
  const mine = patch.emails.find((e) => own.has(e.address));
  if (mine) throw new AppError('validation_failed', `${mine.address} is your own address`);
}

/** A contact added by hand: known at once, with at least one email that no contact has yet. */
export async function createContact(db: Knex, userId: number, input: CardInput, ctx: ViewContext): Promise<ContactView> {
  const fields = normalizeCard(input);
  if (!fields.emails?.length) throw new AppError('validation_failed', 'emails: a contact added by hand needs an email address');
  await assertNotOwn(db, userId, fields);
  const id = await db.transaction(async (trx) => {
    await assertEmailsFree(trx, userId, fields.emails!.map((e) => e.address));
    return insertContact(trx, userId, fields, 'known', `urn:uuid:${randomUUID()}`, ctx.now);
  });
  return getContact(db, userId, id, ctx);
}

export async function updateContact(db: Knex, userId: number, id: number, input: CardInput, ctx: ViewContext): Promise<ContactView> {
  const patch = normalizeCard(input);
  await assertNotOwn(db, userId, patch);
  await db.transaction(async (trx) => {
    await findContactRow(trx, userId, id);
    await writeCard(trx, userId, id, patch, ctx.now);
  });
  return getContact(db, userId, id, ctx);
}

/** Removes the card and its PI history; its messages stay, their participants just lose the link. */
export async function deleteContact(db: Knex, userId: number, id: number): Promise<void> {
  await db.transaction(async (trx) => {
    await findContactRow(trx, userId, id);
    await trx('contacts').where({ id, user_id: userId }).delete();
    await trx('pi_reports').where({ user_id: userId, object_type: 'contact', object_id: id }).delete();
  });
}

/** A suggestion becomes a known contact; accepting a known contact changes nothing. */
export async function acceptContact(db: Knex, userId: number, id: number, ctx: ViewContext): Promise<ContactView> {
  const row = await findContactRow(db, userId, id);
  if (row.status !== 'known') await db('contacts').where({ id, user_id: userId }).update({ status: 'known', updated_at: ctx.now });
  return getContact(db, userId, id, ctx);
}

/** Tags are the groups; system tags (INBOX, SPAM…) are about messages and are refused. Unknown names are created. */
export async function changeContactTags(db: Knex, userId: number, id: number, change: { add?: string[]; remove?: string[] }, now: number): Promise<{ tags: TagRef[] }> {
  const add = change.add ?? [];
  const system = add.find(isSystemTagName);
  if (system) throw new AppError('system_tag', `${system.trim().toUpperCase()} is a system tag: contacts are grouped with your own tags`);
  await db.transaction(async (trx) => {
    await findContactRow(trx, userId, id);
    const addIds = await tagIds(trx, userId, add, now);
    const removeIds: number[] = [];
    for (const name of change.remove ?? []) {
      const tag = await findTag(trx, userId, name);
      if (tag) removeIds.push(tag.id);
    }
    await changeContactTagIds(trx, id, addIds, removeIds);
  });
  const [card] = await loadCards(db, userId, [id]);
  return { tags: card!.tags };
}

/** Discussions with any of the contact's addresses, newest first, shaped and paged like the timeline. */
export async function contactDiscussions(db: Knex, userId: number, id: number, page: { limit?: number; before?: string }): Promise<TimelinePage> {
  await findContactRow(db, userId, id);
  const rows: Array<{ discussion_id: number }> = await db.raw(
    `SELECT DISTINCT m.discussion_id FROM contact_emails ce
     JOIN participants p ON p.user_id = ce.user_id AND p.address = ce.address AND p.role IN ('from', 'to', 'cc', 'bcc')
     JOIN messages m ON m.id = p.message_id
     WHERE ce.contact_id = ? AND ce.user_id = ?`,
    [id, userId],
  );
  return listDiscussions(db, userId, { ...page, discussionIds: rows.map((r) => r.discussion_id) });
}
