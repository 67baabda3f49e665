/**
 * Devices ("terminals", SPEC §6): every browser that logs in and names itself. A browser keeps a
 * long-lived random cookie; the database keeps only its sha256 (token_hash), per user, so a copy of
 * the database cannot impersonate a device. Sessions point at their device, and removing a device
 * removes its sessions in the same statement (ON DELETE CASCADE): "ends its sessions at once".
 * device_networks remembers the addresses each device was seen from, for the "known network"
 * signal of the device PI; it goes with the device.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('devices', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('name').notNullable();
    t.string('type').notNullable(); // desktop | laptop | phone | tablet | shared
    // sha256 of the caliopen_device cookie. Unique per user, not globally: two people who share a
    // browser each have their own device row behind the one cookie.
    t.string('token_hash').notNullable();
    t.string('user_agent');
    t.bigInteger('first_seen_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.string('last_ip');
    t.bigInteger('created_at').notNullable();
    t.unique(['user_id', 'token_hash']);
  });

  await db.schema.createTable('device_networks', (t) => {
    t.integer('device_id').notNullable().references('devices.id').onDelete('CASCADE');
    t.string('ip').notNullable();
    t.bigInteger('first_seen_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.primary(['device_id', 'ip']);
    t.index(['ip']);
  });

  // SQLite adds a column with a REFERENCES clause in place when its default is NULL; knex's
  // alterTable would rebuild the sessions table for the foreign key instead.
  await db.raw('ALTER TABLE sessions ADD COLUMN device_id INTEGER NULL REFERENCES devices(id) ON DELETE CASCADE');
  await db.schema.alterTable('sessions', (t) => {
    t.index(['device_id']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('sessions', (t) => {
    t.dropIndex(['device_id']);
  });
  // A column that holds a foreign key cannot be dropped in place: knex rebuilds the table.
  await db.schema.alterTable('sessions', (t) => {
    t.dropColumn('device_id');
  });
  await db.schema.dropTableIfExists('device_networks');
  await db.schema.dropTableIfExists('devices');
}
