/** Tags replace folders. System tags exist for every user; user tags carry a colour. */
import type { Knex } from 'knex';
import { AppError } from '../errors.js';

export const SYSTEM_TAGS = ['INBOX', 'SPAM', 'IMPORTANT', 'SENT', 'DRAFT', 'ENCRYPTED'] as const;
export type SystemTag = (typeof SYSTEM_TAGS)[number];

export async function ensureSystemTags(db: Knex, userId: number, now: number): Promise<void> {
  await db('tags')
    .insert(SYSTEM_TAGS.map((name) => ({ user_id: userId, name, is_system: true, created_at: now })))
    .onConflict(['user_id', 'name'])
    .ignore();
}

/** Tag ids by name, creating user tags that do not exist yet. Names are matched case-insensitively. */
export async function tagIds(db: Knex, userId: number, names: string[], now: number): Promise<number[]> {
  const ids: number[] = [];
  for (const raw of new Set(names.map((n) => n.trim()).filter(Boolean))) {
    const name = (SYSTEM_TAGS as readonly string[]).includes(raw.toUpperCase()) ? raw.toUpperCase() : raw;
    if (name.length > 64) throw new AppError('validation_failed', 'tag names are at most 64 characters');
    let row = await db('tags').where({ user_id: userId }).whereRaw('lower(name) = lower(?)', [name]).first('id');
    if (!row) {
      const [id] = await db('tags').insert({ user_id: userId, name, is_system: false, created_at: now });
      row = { id };
    }
    ids.push(Number(row.id));
  }
  return ids;
}

export async function findTag(db: Knex, userId: number, name: string): Promise<{ id: number; name: string } | undefined> {
  return db('tags').where({ user_id: userId }).whereRaw('lower(name) = lower(?)', [name]).first('id', 'name');
}

export async function listTags(db: Knex, userId: number) {
  return db('tags').where({ user_id: userId }).orderBy([{ column: 'is_system', order: 'desc' }, 'name']).select('id', 'name', 'color', 'is_system');
}

/**
 * tagIds with the ids of system tags remembered: they exist from the user's creation and are never
 * renamed or deleted, so the ingest hot path need not look them up for every message.
 */
export function createTagResolver(): (db: Knex, userId: number, names: string[], now: number) => Promise<number[]> {
  const systemIds = new Map<string, number>();
  return async (db, userId, names, now) => {
    const ids: number[] = [];
    const rest: string[] = [];
    for (const name of names) {
      const id = systemIds.get(`${userId}:${name.toUpperCase()}`);
      if (id !== undefined) ids.push(id);
      else rest.push(name);
    }
    const found = await tagIds(db, userId, rest, now);
    rest.forEach((name, i) => {
      const upper = name.trim().toUpperCase();
      if ((SYSTEM_TAGS as readonly string[]).includes(upper) && found[i] !== undefined) systemIds.set(`${userId}:${upper}`, found[i]!);
    });
    return [...new Set([...ids, ...found])];
  };
}
