/**
 * The first schema. Timestamps are epoch milliseconds in `*_at` integer columns.
 * Raw messages live in content-addressed files (see store/blobs.ts); rows point at them by hash.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('domains', (t) => {
    t.increments('id');
    t.string('name').notNullable().unique();
    t.bigInteger('created_at').notNullable();
  });

  await db.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('username').notNullable().unique();
    t.string('display_name');
    t.string('password_hash').notNullable();
    t.boolean('is_admin').notNullable().defaultTo(false);
    t.string('lang').notNullable().defaultTo('en');
    t.string('timezone').notNullable().defaultTo('UTC');
    t.text('settings_json').notNullable().defaultTo('{}');
    t.bigInteger('created_at').notNullable();
  });

  // Every address the box receives for: a user's primary address and its aliases.
  await db.schema.createTable('addresses', (t) => {
    t.increments('id');
    t.string('address').notNullable().unique(); // lower-cased local@domain
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.integer('domain_id').notNullable().references('domains.id').onDelete('CASCADE');
    t.boolean('is_primary').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.index(['user_id']);
  });

  await db.schema.createTable('sessions', (t) => {
    t.string('id').primary(); // sha256 of the cookie token: a stolen database does not give sessions away
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('csrf_token').notNullable();
    t.string('ip');
    t.string('user_agent');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_seen_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['user_id']);
  });

  await db.schema.createTable('contacts', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('display_name');
    t.string('status').notNullable().defaultTo('suggested'); // suggested | known
    t.text('notes');
    t.integer('sent_count').notNullable().defaultTo(0); // messages the user wrote to this contact
    t.integer('received_count').notNullable().defaultTo(0);
    t.bigInteger('last_exchange_at');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['user_id']);
  });

  await db.schema.createTable('contact_emails', (t) => {
    t.increments('id');
    t.integer('contact_id').notNullable().references('contacts.id').onDelete('CASCADE');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('address').notNullable();
    t.unique(['user_id', 'address']); // one address belongs to one contact
    t.index(['contact_id']);
  });

  await db.schema.createTable('discussions', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('key').notNullable(); // participant set ("p:…") or mailing list ("l:…")
    t.string('list_id');
    t.string('subject');
    t.text('excerpt');
    t.string('last_from');
    t.bigInteger('first_message_at').notNullable();
    t.bigInteger('last_message_at').notNullable();
    t.integer('message_count').notNullable().defaultTo(0);
    t.integer('unread_count').notNullable().defaultTo(0);
    t.integer('spam_count').notNullable().defaultTo(0);
    t.integer('attachment_count').notNullable().defaultTo(0);
    t.integer('importance').notNullable().defaultTo(0);
    t.integer('pi_score');
    t.string('pi_letter');
    t.unique(['user_id', 'key']);
    t.index(['user_id', 'last_message_at']);
  });

  await db.schema.createTable('messages', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.integer('discussion_id').notNullable().references('discussions.id').onDelete('CASCADE');
    t.string('blob_hash').notNullable();
    t.integer('size').notNullable();
    t.string('source').notNullable(); // smtp | mbox | maildir | imap | sent
    t.string('message_id'); // Message-ID header without <>
    t.string('content_hash').notNullable(); // sha256 of the message without trace headers
    t.string('in_reply_to');
    t.text('references_json').notNullable().defaultTo('[]');
    t.string('list_id');
    t.text('subject');
    t.string('from_address');
    t.string('from_name');
    t.text('excerpt');
    t.bigInteger('date').notNullable(); // Date header, else reception time
    t.bigInteger('received_at').notNullable();
    t.integer('attachment_count').notNullable().defaultTo(0);
    t.boolean('is_read').notNullable().defaultTo(false);
    t.boolean('is_spam').notNullable().defaultTo(false);
    t.boolean('is_encrypted').notNullable().defaultTo(false);
    t.boolean('is_signed').notNullable().defaultTo(false);
    t.float('spam_score').notNullable().defaultTo(0);
    t.string('spam_trained'); // null | spam | ham: what the learning filter was last taught with this message
    t.integer('importance').notNullable().defaultTo(0); // -10..10
    t.integer('pi_score');
    t.string('pi_letter');
    t.text('auth_json'); // SPF/DKIM/DMARC/ARC verdicts
    t.text('transport_json'); // TLS protocol/cipher, client IP, HELO of the delivering session
    t.text('envelope_json'); // MAIL FROM, RCPT TO
    t.text('signals_json'); // privacy and spam signals
    t.bigInteger('created_at').notNullable();
    t.unique(['user_id', 'content_hash']);
    t.index(['user_id', 'message_id']);
    t.index(['user_id', 'date']);
    t.index(['user_id', 'from_address']);
    t.index(['discussion_id', 'date']);
    t.index(['blob_hash']);
  });

  await db.raw("CREATE INDEX messages_sender_spam ON messages (user_id, from_address) WHERE spam_trained = 'spam'");

  await db.schema.createTable('participants', (t) => {
    t.increments('id');
    t.integer('message_id').notNullable().references('messages.id').onDelete('CASCADE');
    t.integer('user_id').notNullable();
    t.string('role').notNullable(); // from | to | cc | bcc | reply_to
    t.string('address').notNullable();
    t.string('name');
    t.integer('contact_id').references('contacts.id').onDelete('SET NULL');
    t.index(['message_id']);
    t.index(['user_id', 'address']);
  });

  await db.schema.createTable('tags', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('name').notNullable();
    t.string('color');
    t.boolean('is_system').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.unique(['user_id', 'name']);
  });

  await db.schema.createTable('message_tags', (t) => {
    t.integer('message_id').notNullable().references('messages.id').onDelete('CASCADE');
    t.integer('tag_id').notNullable().references('tags.id').onDelete('CASCADE');
    t.primary(['message_id', 'tag_id']);
    t.index(['tag_id', 'message_id']);
  });

  // Per-user learning filter: token counts from the user's own SPAM / not-SPAM decisions.
  // WITHOUT ROWID: the primary key is the table, so a token lookup is one B-tree descent.
  await db.raw(`CREATE TABLE spam_tokens (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token TEXT NOT NULL,
    spam INTEGER NOT NULL DEFAULT 0,
    ham INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, token)
  ) WITHOUT ROWID`);
  await db.schema.createTable('spam_stats', (t) => {
    t.integer('user_id').primary().references('users.id').onDelete('CASCADE');
    t.integer('spam_messages').notNullable().defaultTo(0);
    t.integer('ham_messages').notNullable().defaultTo(0);
  });

  // Every PI ever computed, so its history can be drawn; the latest per object is the current one.
  await db.schema.createTable('pi_reports', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.string('object_type').notNullable(); // message | discussion | contact | device | account
    t.integer('object_id').notNullable();
    t.integer('score').notNullable();
    t.string('letter').notNullable();
    t.text('axes_json').notNullable();
    t.text('reasons_json').notNullable();
    t.bigInteger('computed_at').notNullable();
    t.index(['object_type', 'object_id', 'computed_at']);
  });

  await db.schema.createTable('settings', (t) => {
    t.string('key').primary();
    t.text('value').notNullable();
  });

  // Contentless full-text index; rowid = messages.id.
  await db.raw(
    `CREATE VIRTUAL TABLE messages_fts USING fts5(subject, body, participants, attachments,
       content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`,
  );
}

export async function down(db: Knex): Promise<void> {
  await db.raw('DROP TABLE IF EXISTS messages_fts');
  for (const t of ['settings', 'pi_reports', 'spam_stats', 'spam_tokens', 'message_tags', 'tags', 'participants', 'messages', 'discussions', 'contact_emails', 'contacts', 'sessions', 'addresses', 'users', 'domains']) {
    await db.schema.dropTableIfExists(t);
  }
}
