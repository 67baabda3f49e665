/**
 * The database handle: knex over sqlite3 in WAL mode with foreign keys on and synchronous=FULL,
 * because an SMTP 250 depends on the commit being on disk (a home box loses power).
 * One connection: SQLite serialises writers anyway, and one connection keeps PRAGMAs simple.
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from './migrations/index.js';

export type Db = Knex;

export async function openDb(dataDir: string): Promise<Db> {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = knexFactory({
    client: 'sqlite3',
    connection: { filename: path.join(dataDir, 'caliopen.sqlite') },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (conn: { run: (sql: string, cb: (err: Error | null) => void) => void }, done: (err: Error | null, conn: unknown) => void) => {
        const pragmas = [
          'PRAGMA journal_mode = WAL',
          'PRAGMA synchronous = FULL',
          'PRAGMA foreign_keys = ON',
          'PRAGMA busy_timeout = 5000',
          'PRAGMA temp_store = MEMORY',
          'PRAGMA cache_size = -32000',
        ];
        const next = (i: number): void => {
          if (i === pragmas.length) return done(null, conn);
          conn.run(pragmas[i]!, (err) => (err ? done(err, conn) : next(i + 1)));
        };
        next(0);
      },
    },
  });
  await db.migrate.latest({ migrationSource });
  return db;
}

export async function closeDb(db: Db): Promise<void> {
  await db.destroy();
}
