/**
 * Sending "as" an external address (issue 6): an external account may carry the settings of its
 * own submission server, password sealed like the IMAP one. A message from that address leaves
 * through that server (outbound_messages.via_account_id) and its copy is then appended to the
 * account's Sent folder (sent_append: pending → done | failed, with the reason).
 */
import type { Knex } from 'knex';

export async function up(db: Knex): Promise<void> {
  await db.schema.alterTable('external_accounts', (t) => {
    t.string('smtp_host');
    t.integer('smtp_port');
    t.string('smtp_tls'); // implicit | starttls | plain (loopback only)
    t.string('smtp_username');
    t.text('smtp_password_sealed');
    t.string('smtp_trusted_fingerprint');
    t.text('smtp_trusted_cert_pem');
  });
  await db.schema.alterTable('outbound_messages', (t) => {
    t.integer('via_account_id'); // no foreign key: a removed account fails the delivery with a clear reason
    t.string('sent_append'); // null (not sent as) | pending | appending | done | failed
    t.text('sent_append_error');
  });
}

export async function down(db: Knex): Promise<void> {
  await db.schema.alterTable('outbound_messages', (t) => {
    t.dropColumn('via_account_id');
    t.dropColumn('sent_append');
    t.dropColumn('sent_append_error');
  });
  await db.schema.alterTable('external_accounts', (t) => {
    for (const c of ['smtp_host', 'smtp_port', 'smtp_tls', 'smtp_username', 'smtp_password_sealed', 'smtp_trusted_fingerprint', 'smtp_trusted_cert_pem']) t.dropColumn(c);
  });
}
