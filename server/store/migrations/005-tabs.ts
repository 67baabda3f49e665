/**
 * Saved search tabs (SPEC §3): a search, or a tag clicked, opens a results tab that can be saved,
 * and saved tabs belong to one device: the phone keeps "Family", the office desktop "Association".
 * A tab goes with its device (ON DELETE CASCADE) and with its user.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('saved_tabs', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.integer('device_id').notNullable().references('devices.id').onDelete('CASCADE');
    t.string('title').notNullable();
    t.text('query').notNullable(); // the search language of mail/search-query.ts
    t.integer('position').notNullable(); // 0-based, dense per device
    t.bigInteger('created_at').notNullable();
    t.index(['device_id', 'position']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('saved_tabs');
}
