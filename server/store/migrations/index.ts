/** Migrations are TypeScript modules listed here, in order; knex records which ran. */
import type { Knex } from 'knex';
import * as m001 from './001-initial.js';
import * as m002 from './002-outbound.js';
import * as m003 from './003-devices.js';
import * as m004 from './004-contacts.js';
import * as m005 from './005-tabs.js';
import * as m006 from './006-imap-accounts.js';
import * as m007 from './007-openpgp.js';
import * as m008 from './008-image-senders.js';
import * as m009 from './009-send-as.js';

interface Migration {
  up(db: Knex): Promise<void>;
  down(db: Knex): Promise<void>;
}

const migrations: Record<string, Migration> = {
  '001-initial': m001,
  '002-outbound': m002,
  '003-devices': m003,
  '004-contacts': m004,
  '005-tabs': m005,
  '006-imap-accounts': m006,
  '007-openpgp': m007,
  '008-image-senders': m008,
  '009-send-as': m009,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
