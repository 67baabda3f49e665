/**
 * Saved search tabs, per device (SPEC §3): each device lists its own tabs in its own order; another
 * device's tab looks exactly like a missing one. A tab's query is parsed when saved, so a tab that
 * could never run is refused then rather than failing each time it is opened.
 */
import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { parseSearchQuery } from './search-query.js';

/** A device shows a strip of tabs, not a database of them. */
export const MAX_TABS_PER_DEVICE = 50;
export const MAX_TITLE = 100;

export interface SavedTab {
  id: number;
  title: string;
  query: string;
  position: number;
  created_at: number;
}

export interface Owner {
  userId: number;
  deviceId: number;
}

const COLUMNS = ['id', 'title', 'query', 'position', 'created_at'] as const;

function normalizeTitle(raw: string): string {
  const title = raw.trim().normalize('NFC');
  if (!title || title.length > MAX_TITLE) throw new AppError('validation_failed', `a tab title is 1 to ${MAX_TITLE} characters`);
  return title;
}

export async function listTabs(db: Knex, owner: Owner): Promise<SavedTab[]> {
  return db('saved_tabs').where({ user_id: owner.userId, device_id: owner.deviceId }).orderBy([{ column: 'position' }, { column: 'id' }]).select(...COLUMNS);
}

async function getTab(db: Knex, owner: Owner, id: number): Promise<SavedTab> {
  const tab = await db('saved_tabs').where({ id, user_id: owner.userId, device_id: owner.deviceId }).first(...COLUMNS);
  if (!tab) throw new AppError('tab_not_found', `no tab ${id} on this device`);
  return tab;
}

/** Positions 0..n-1 in the order given: one UPDATE per tab, and a device has at most 50. */
async function renumber(trx: Knex.Transaction, ids: number[]): Promise<void> {
  for (const [position, id] of ids.entries()) await trx('saved_tabs').where({ id }).update({ position });
}

/** A new tab, last in the strip. */
export async function createTab(db: Knex, owner: Owner, input: { title: string; query: string }, now: number): Promise<SavedTab> {
  const title = normalizeTitle(input.title);
  const query = input.query.trim();
  parseSearchQuery(query); // throws invalid_search
  return db.transaction(async (trx) => {
    const tabs = await listTabs(trx, owner);
    if (tabs.length >= MAX_TABS_PER_DEVICE) throw new AppError('validation_failed', `a device keeps at most ${MAX_TABS_PER_DEVICE} tabs`);
    const row = { user_id: owner.userId, device_id: owner.deviceId, title, query, position: tabs.length, created_at: now };
    const [id] = await trx('saved_tabs').insert(row);
    return { id: Number(id), title, query, position: row.position, created_at: now };
  });
}

/** Renames and/or moves a tab; a position past the end moves it last. */
export async function updateTab(db: Knex, owner: Owner, id: number, change: { title?: string; position?: number }): Promise<SavedTab> {
  return db.transaction(async (trx) => {
    await getTab(trx, owner, id);
    if (change.title !== undefined) await trx('saved_tabs').where({ id }).update({ title: normalizeTitle(change.title) });
    if (change.position !== undefined) {
      const others = (await listTabs(trx, owner)).map((t) => t.id).filter((x) => x !== id);
      others.splice(Math.min(change.position, others.length), 0, id);
      await renumber(trx, others);
    }
    return getTab(trx, owner, id);
  });
}

export async function deleteTab(db: Knex, owner: Owner, id: number): Promise<void> {
  await db.transaction(async (trx) => {
    await getTab(trx, owner, id);
    await trx('saved_tabs').where({ id }).delete();
    await renumber(trx, (await listTabs(trx, owner)).map((t) => t.id));
  });
}
