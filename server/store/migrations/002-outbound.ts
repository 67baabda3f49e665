/**
 * The sending side: DKIM keys per domain, drafts and their attachments, the outbound queue
 * (one row per message and recipient domain, one row per recipient under it), relay routes with
 * their credentials encrypted by the box secret (see server/secrets.ts), and MTA-STS policies.
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.createTable('dkim_keys', (t) => {
    t.increments('id');
    t.integer('domain_id').notNullable().references('domains.id').onDelete('CASCADE');
    t.string('selector').notNullable();
    t.string('algorithm').notNullable(); // ed25519 | rsa
    t.text('private_key_enc').notNullable(); // PEM, sealed with the box secret
    t.text('public_key').notNullable(); // base64 of the DER SubjectPublicKeyInfo (RSA) or raw key (ed25519), as published in p=
    t.boolean('active').notNullable().defaultTo(true);
    t.bigInteger('created_at').notNullable();
    t.unique(['domain_id', 'selector']);
  });

  await db.schema.createTable('drafts', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.integer('discussion_id').references('discussions.id').onDelete('SET NULL'); // the discussion a reply goes to
    t.integer('parent_message_id').references('messages.id').onDelete('SET NULL');
    t.string('from_address').notNullable();
    t.text('to_json').notNullable().defaultTo('[]');
    t.text('cc_json').notNullable().defaultTo('[]');
    t.text('bcc_json').notNullable().defaultTo('[]');
    t.text('subject').notNullable().defaultTo('');
    t.text('body_text').notNullable().defaultTo('');
    t.string('in_reply_to');
    t.text('references_json').notNullable().defaultTo('[]');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['user_id', 'updated_at']);
  });

  await db.schema.createTable('draft_attachments', (t) => {
    t.increments('id');
    t.integer('draft_id').notNullable().references('drafts.id').onDelete('CASCADE');
    t.string('filename').notNullable();
    t.string('content_type').notNullable();
    t.integer('size').notNullable();
    t.string('blob_hash').notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['draft_id']);
  });

  // One row per message handed to the box for delivery (API send or submission).
  await db.schema.createTable('outbound_messages', (t) => {
    t.increments('id');
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.integer('message_id').references('messages.id').onDelete('SET NULL'); // the Sent copy, once stored
    t.string('blob_hash').notNullable(); // the signed bytes, exactly as delivered
    t.string('header_message_id').notNullable(); // Message-ID without <>
    t.string('mail_from').notNullable();
    t.string('source').notNullable(); // api | submission
    t.bigInteger('created_at').notNullable();
    t.index(['user_id', 'created_at']); // rate limits
    t.index(['header_message_id']); // incoming bounces find what they bounce
  });

  // One row per (message, recipient domain): the unit of delivery and of retry.
  await db.schema.createTable('outbound_queue', (t) => {
    t.increments('id');
    t.integer('outbound_id').notNullable().references('outbound_messages.id').onDelete('CASCADE');
    t.string('domain').notNullable();
    t.string('status').notNullable(); // queued | delivering | delivered | failed | dropped
    t.integer('attempts').notNullable().defaultTo(0);
    t.bigInteger('next_attempt_at').notNullable();
    t.bigInteger('expires_at').notNullable();
    t.text('last_error');
    t.bigInteger('last_attempt_at');
    t.boolean('delay_notified').notNullable().defaultTo(false);
    t.text('tls_json'); // how the last successful delivery travelled: TLS protocol/cipher, MX, MTA-STS
    t.string('route'); // direct | relay:<id>
    t.bigInteger('created_at').notNullable();
    t.index(['status', 'next_attempt_at']);
    t.index(['outbound_id']);
  });

  await db.schema.createTable('outbound_recipients', (t) => {
    t.increments('id');
    t.integer('queue_id').notNullable().references('outbound_queue.id').onDelete('CASCADE');
    t.string('address').notNullable();
    t.string('status').notNullable(); // pending | delivered | failed | bounced
    t.string('code'); // SMTP code + enhanced status, e.g. "550 5.1.1"
    t.text('response');
    t.bigInteger('updated_at').notNullable();
    t.index(['queue_id']);
    t.index(['address']);
  });

  // Smarthost routes: domain '*' is the default; a recipient domain gets its own.
  await db.schema.createTable('relay_routes', (t) => {
    t.increments('id');
    t.string('domain').notNullable().unique(); // '*' or a recipient domain
    t.string('host').notNullable();
    t.integer('port').notNullable();
    t.string('security').notNullable(); // tls (implicit) | starttls | none
    t.string('username');
    t.text('password_enc'); // sealed with the box secret
    t.bigInteger('created_at').notNullable();
  });

  await db.schema.createTable('mta_sts_policies', (t) => {
    t.string('domain').primary();
    t.string('policy_id').notNullable();
    t.string('mode').notNullable(); // enforce | testing | none
    t.text('mx_json').notNullable();
    t.integer('max_age').notNullable();
    t.bigInteger('fetched_at').notNullable();
  });
}

export async function down(db: Knex): Promise<void> {
  for (const t of ['mta_sts_policies', 'relay_routes', 'outbound_recipients', 'outbound_queue', 'outbound_messages', 'draft_attachments', 'drafts', 'dkim_keys']) {
    await db.schema.dropTableIfExists(t);
  }
}
