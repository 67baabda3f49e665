/**
 * External accounts (SPEC §6, issue 6): a user's mailboxes elsewhere, imported over IMAP on a
 * schedule. The password is sealed with the box secret (secrets.ts), never stored in clear.
 * A folder's cursor is (uidvalidity, last_uid): every UID up to last_uid is durably ingested; a
 * new UIDVALIDITY means the cursor is void and the folder is read again (de-dup keeps it clean).
 * The lease (lock_owner, lock_until) keeps one sync per account across processes (the server's
 * scheduler and `caliopen import imap`).
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('external_accounts', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('address').notNullable();
    t.string('host').notNullable();
    t.integer('port').notNullable();
    t.string('tls').notNullable(); // implicit | starttls | plain (loopback only)
    t.string('username').notNullable();
    t.text('password_sealed').notNullable();
    t.string('trusted_fingerprint'); // SHA-256 of a certificate the user chose to trust
    t.text('trusted_cert_pem');
    t.integer('interval_minutes').notNullable().defaultTo(15);
    t.boolean('delete_after_import').notNullable().defaultTo(false);
    t.string('status').notNullable().defaultTo('new'); // new | idle | syncing | error | needs_attention | paused
    t.text('last_error');
    t.string('last_error_code');
    t.boolean('needs_attention').notNullable().defaultTo(false);
    t.boolean('paused').notNullable().defaultTo(false);
    t.integer('failures').notNullable().defaultTo(0);
    t.bigInteger('failing_since');
    t.bigInteger('last_sync_at');
    t.bigInteger('last_success_at');
    t.bigInteger('next_sync_at');
    t.string('lock_owner');
    t.bigInteger('lock_until');
    t.integer('imported_count').notNullable().defaultTo(0);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.unique(['user_id', 'address']);
    t.index(['next_sync_at']);
  });
  await db.schema.createTable('external_folders', (t) => {
    t.increments('id');
    t.integer('account_id').notNullable().references('external_accounts.id').onDelete('CASCADE');
    t.string('path').notNullable(); // decoded (UTF-8) mailbox name, as imapflow gives it
    t.string('delimiter');
    t.string('special_use'); // \Inbox \Sent \Junk \Drafts \Trash \Archive \All \Flagged
    t.boolean('selected').notNullable().defaultTo(true);
    t.string('uidvalidity'); // a 32-bit unsigned value, kept as text (imapflow gives a bigint)
    t.integer('last_uid').notNullable().defaultTo(0);
    t.integer('total').notNullable().defaultTo(0);
    t.integer('done').notNullable().defaultTo(0);
    t.boolean('exists_remote').notNullable().defaultTo(true);
    t.bigInteger('last_sync_at');
    t.unique(['account_id', 'path']);
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.dropTableIfExists('external_folders');
  await db.schema.dropTableIfExists('external_accounts');
}
