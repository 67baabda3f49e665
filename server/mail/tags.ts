/**
 * Tags replace folders. System tags exist for every user and are never renamed or deleted; user tags
 * carry a colour. A user's tag names are unique compared the way search compares them (case and
 * accents folded, search-query.ts foldText): two tags `tag:été` could not tell apart would be one.
 */
import type { Knex } from 'knex';
import { AppError } from '../errors.js';
import { foldText } from './search-query.js';

export const SYSTEM_TAGS = ['INBOX', 'SPAM', 'IMPORTANT', 'SENT', 'DRAFT', 'ENCRYPTED'] as const;
export type SystemTag = (typeof SYSTEM_TAGS)[number];

export async function ensureSystemTags(db: Knex, userId: number, now: number): Promise<void> {
  await db('tags')
    .insert(SYSTEM_TAGS.map((name) => ({ user_id: userId, name, is_system: true, created_at: now })))
    .onConflict(['user_id', 'name'])
    .ignore();
}

export const MAX_TAG_NAME = 64;
const COLOR_RE = /^#[0-9a-f]{6}$/i;

function isSystemName(name: string): boolean {
  return (SYSTEM_TAGS as readonly string[]).includes(name.toUpperCase());
}

/** Trimmed, NFC, 1–64 characters; system tag names in capitals whatever the case given. */
export function normalizeTagName(raw: string): string {
  const name = raw.trim().normalize('NFC');
  if (name.length === 0 || name.length > MAX_TAG_NAME) throw new AppError('validation_failed', `tag names are 1 to ${MAX_TAG_NAME} characters`);
  if (/[\p{Cc}]/u.test(name)) throw new AppError('validation_failed', 'tag names cannot hold control characters');
  return isSystemName(name) ? name.toUpperCase() : name;
}

/** #rrggbb, stored lower-case; null clears the colour. */
export function normalizeTagColor(color: string | null): string | null {
  if (color === null) return null;
  if (!COLOR_RE.test(color)) throw new AppError('validation_failed', 'a tag colour is #rrggbb');
  return color.toLowerCase();
}

/**
 * The user's tag with this name. The exact (ASCII case-insensitive) match is one indexed look-up,
 * enough on the ingest path; only a miss reads the user's tags to compare folded names.
 */
async function findByName(db: Knex, userId: number, name: string): Promise<{ id: number; name: string } | undefined> {
  const exact = await db('tags').where({ user_id: userId }).whereRaw('lower(name) = lower(?)', [name]).first('id', 'name');
  if (exact) return exact;
  const folded = foldText(name);
  const rows: Array<{ id: number; name: string }> = await db('tags').where({ user_id: userId }).select('id', 'name');
  return rows.find((r) => foldText(r.name) === folded);
}

/** Tag ids by name, creating user tags that do not exist yet. Names are matched as search matches them. */
export async function tagIds(db: Knex, userId: number, names: string[], now: number): Promise<number[]> {
  const ids: number[] = [];
  for (const raw of new Set(names.map((n) => n.trim()).filter(Boolean))) {
    const name = normalizeTagName(raw);
    let row = await findByName(db, userId, name);
    if (!row) {
      const [id] = await db('tags').insert({ user_id: userId, name, is_system: false, created_at: now });
      row = { id: Number(id), name };
    }
    ids.push(Number(row.id));
  }
  return ids;
}

export async function findTag(db: Knex, userId: number, name: string): Promise<{ id: number; name: string } | undefined> {
  return findByName(db, userId, name.trim().normalize('NFC'));
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

export interface TagView {
  id: number;
  name: string;
  color: string | null;
  is_system: boolean;
}

async function getTag(db: Knex, userId: number, id: number): Promise<TagView> {
  const row = await db('tags').where({ id, user_id: userId }).first('id', 'name', 'color', 'is_system');
  if (!row) throw new AppError('tag_not_found', `no tag ${id}`);
  return { ...row, is_system: !!row.is_system };
}

async function assertNameFree(db: Knex, userId: number, name: string, exceptId?: number): Promise<void> {
  const other = await findByName(db, userId, name);
  if (other && other.id !== exceptId) throw new AppError('tag_exists', `a tag named "${other.name}" already exists`);
}

/** A new user tag; a name equal to an existing one (case and accents aside, system tags included) is refused. */
export async function createTag(db: Knex, userId: number, input: { name: string; color?: string | null }, now: number): Promise<TagView> {
  const name = normalizeTagName(input.name);
  const color = normalizeTagColor(input.color ?? null);
  return db.transaction(async (trx) => {
    await assertNameFree(trx, userId, name);
    const [id] = await trx('tags').insert({ user_id: userId, name, color, is_system: false, created_at: now });
    return { id: Number(id), name, color, is_system: false };
  });
}

/**
 * Rename and/or recolour. System tags keep their names (ingest and search rely on them) but may
 * take a colour.
 */
export async function updateTag(db: Knex, userId: number, id: number, change: { name?: string; color?: string | null }): Promise<TagView> {
  return db.transaction(async (trx) => {
    const tag = await getTag(trx, userId, id);
    const patch: { name?: string; color?: string | null } = {};
    if (change.name !== undefined) {
      const name = normalizeTagName(change.name);
      if (tag.is_system && name !== tag.name) throw new AppError('system_tag', `${tag.name} is a system tag: it cannot be renamed`);
      if (name !== tag.name) await assertNameFree(trx, userId, name, id);
      patch.name = name;
    }
    if (change.color !== undefined) patch.color = normalizeTagColor(change.color);
    if (Object.keys(patch).length) await trx('tags').where({ id }).update(patch);
    return { ...tag, ...patch };
  });
}

/** Deletes a user tag; its rows in message_tags (and any other *_tags table) go with it by cascade. */
export async function deleteTag(db: Knex, userId: number, id: number): Promise<void> {
  const tag = await getTag(db, userId, id);
  if (tag.is_system) throw new AppError('system_tag', `${tag.name} is a system tag: it cannot be deleted`);
  await db('tags').where({ id, user_id: userId }).delete();
}
