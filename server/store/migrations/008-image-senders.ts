/**
 * Senders whose remote images a user chose to always show ("always for this sender" in the
 * message view). One row per user and address, lower-cased; gone with the user.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('image_senders', (t) => {
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('address').notNullable();
    t.bigInteger('created_at').notNullable();
    t.primary(['user_id', 'address']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('image_senders');
}
