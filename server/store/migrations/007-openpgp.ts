/**
 * OpenPGP (SPEC §5). `user_keys`: each user's key pairs, the private key only ever stored
 * passphrase-encrypted (the server checks it on upload); the newest one not revoked is the
 * current key, published by WKD and in Autocrypt headers. `contact_keys`: public keys of
 * correspondents, by address (not by contact: an address moved to another contact keeps its keys;
 * contact views join through contact_emails), one row per address and key, with where it came
 * from and whether the user verified its fingerprint. `pgp_peers`: Autocrypt Level 1 peer state
 * (§5.1) per address — last_seen, autocrypt_timestamp and key, prefer_encrypt, gossip_timestamp
 * and key — and when WKD was last asked. Kept apart from the keys because it is per address, not
 * per key. `pgp_settings`: the per-user choice to let the box index decrypted text (off by default).
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('user_keys', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('fingerprint').notNullable(); // upper-case hex
    t.text('public_armored').notNullable();
    t.text('private_armored').notNullable(); // passphrase-encrypted, never plaintext
    t.string('algorithm').notNullable();
    t.integer('bits');
    t.bigInteger('key_created_at').notNullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.bigInteger('revoked_at');
    t.unique(['user_id', 'fingerprint']);
  });

  await db.schema.createTable('contact_keys', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('address').notNullable(); // lower-cased
    t.string('fingerprint').notNullable();
    t.text('armored').notNullable();
    t.string('algorithm').notNullable();
    t.integer('bits');
    t.string('source').notNullable(); // pasted | autocrypt | gossip | attachment | wkd
    t.boolean('verified').notNullable().defaultTo(false);
    t.bigInteger('key_created_at');
    t.bigInteger('expires_at');
    t.boolean('revoked').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.unique(['user_id', 'address', 'fingerprint']);
    t.index(['user_id', 'fingerprint']);
  });

  await db.schema.createTable('pgp_peers', (t) => {
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('address').notNullable();
    t.bigInteger('last_seen');
    t.bigInteger('autocrypt_timestamp');
    t.integer('autocrypt_key_id').references('contact_keys.id').onDelete('SET NULL');
    t.string('prefer_encrypt'); // mutual | nopreference
    t.bigInteger('gossip_timestamp');
    t.integer('gossip_key_id').references('contact_keys.id').onDelete('SET NULL');
    t.bigInteger('wkd_checked_at');
    t.primary(['user_id', 'address']);
  });

  await db.schema.createTable('pgp_settings', (t) => {
    t.integer('user_id').primary().references('users.id').onDelete('CASCADE');
    t.boolean('index_decrypted').notNullable().defaultTo(false);
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  for (const t of ['pgp_settings', 'pgp_peers', 'contact_keys', 'user_keys']) await db.schema.dropTableIfExists(t);
}
