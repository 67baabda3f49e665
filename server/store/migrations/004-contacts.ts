/**
 * The contact card (SPEC §4): names in parts, typed emails with a preferred one, phones, postal
 * addresses, organisations, and tags as groups (contact_tags → tags, so deleting a tag ungroups).
 * `sort_name` and `search_text` are folded (case and accents) copies of what the list sorts and
 * searches by, kept by contacts/names.ts on every write, so the list is one index range scan
 * (user_id, sort_name, id) whatever the size of the address book. `uid` is the vCard UID, so a card
 * with no email can still be merged on re-import. The contact PI's latest score is cached for the
 * list (history in pi_reports). OpenPGP keys get their own table with the OpenPGP issue.
 */
import type { Knex } from 'knex';
import { foldedKeys } from '../../contacts/names.js';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('contacts', (t) => {
    t.string('uid');
    t.string('given_name');
    t.string('family_name');
    t.string('additional_names');
    t.string('name_prefix');
    t.string('name_suffix');
    t.string('sort_name').notNullable().defaultTo('');
    t.text('search_text').notNullable().defaultTo('');
    t.integer('pi_score');
    t.string('pi_letter');
    t.bigInteger('pi_computed_at');
  });
  await db.raw('CREATE INDEX contacts_user_sort ON contacts (user_id, sort_name, id)');
  await db.raw('CREATE UNIQUE INDEX contacts_user_uid ON contacts (user_id, uid) WHERE uid IS NOT NULL');

  await db.schema.alterTable('contact_emails', (t) => {
    t.string('type'); // home | work | other
    t.boolean('is_preferred').notNullable().defaultTo(false);
  });

  await db.schema.createTable('contact_phones', (t) => {
    t.increments('id');
    t.integer('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
    t.string('type'); // vCard TYPE values, comma-separated: cell, home, work, fax…
    t.string('number').notNullable();
    t.index(['contact_id']);
  });

  await db.schema.createTable('contact_addresses', (t) => {
    t.increments('id');
    t.integer('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
    t.string('type'); // home | work | other
    t.text('street'); // with the P.O. box and extended address, one per line
    t.string('city');
    t.string('region');
    t.string('postcode');
    t.string('country');
    t.index(['contact_id']);
  });

  await db.schema.createTable('contact_organisations', (t) => {
    t.increments('id');
    t.integer('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
    t.string('name');
    t.string('department');
    t.string('title');
    t.index(['contact_id']);
  });

  await db.schema.createTable('contact_tags', (t) => {
    t.integer('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
    t.integer('tag_id').notNullable().references('tags.id').onDelete('CASCADE');
    t.primary(['contact_id', 'tag_id']);
    t.index(['tag_id', 'contact_id']);
  });

  // Contacts collected before this migration: their list keys from their name and addresses.
  const rows: Array<{ id: number; display_name: string | null; emails: string | null }> = await db.raw(
    `SELECT c.id, c.display_name, (SELECT json_group_array(address) FROM (SELECT address FROM contact_emails e WHERE e.contact_id = c.id ORDER BY e.id)) AS emails
     FROM contacts c`,
  );
  for (const r of rows) {
    const emails = JSON.parse(r.emails ?? '[]') as string[];
    await db('contacts').where({ id: r.id }).update(foldedKeys({ display_name: r.display_name }, emails, []));
  }
}

export async function down(db: Knex): Promise<void> {
  for (const t of ['contact_tags', 'contact_organisations', 'contact_addresses', 'contact_phones']) await db.schema.dropTableIfExists(t);
  await db.raw('DROP INDEX IF EXISTS contacts_user_sort');
  await db.raw('DROP INDEX IF EXISTS contacts_user_uid');
  // SQLite's own DROP COLUMN (3.35+): knex would rebuild the tables, and dropping the old contacts
  // table with foreign keys on deletes every contact_emails row through ON DELETE CASCADE.
  for (const c of ['type', 'is_preferred']) await db.raw(`ALTER TABLE contact_emails DROP COLUMN ${c}`);
  for (const c of ['uid', 'given_name', 'family_name', 'additional_names', 'name_prefix', 'name_suffix', 'sort_name', 'search_text', 'pi_score', 'pi_letter', 'pi_computed_at']) {
    await db.raw(`ALTER TABLE contacts DROP COLUMN ${c}`);
  }
}
