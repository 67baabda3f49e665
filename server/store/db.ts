/**
 * The database handles: knex over sqlite3 in WAL mode with foreign keys on and synchronous=FULL,
 * because an SMTP 250 depends on the commit being on disk (a home box loses power).
 * One writer connection (SQLite serialises writers anyway; one writer in this process means our
 * own transactions never collide) and a small pool of read-only connections: in WAL mode readers
 * do not wait for the writer, so the ingest's look-ups and the API's reads go on during a commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { migrationSource } from './migrations/index.js';

export type Db = Knex;

type Conn = { run: (sql: string, cb: (err: Error | null) => void) => void };

function connectionSetup(pragmas: string[]) {
  return (conn: Conn, done: (err: Error | null, conn: unknown) => void) => {
    const next = (i: number): void => {
      if (i === pragmas.length) return done(null, conn);
      conn.run(pragmas[i]!, (err) => (err ? done(err, conn) : next(i + 1)));
    };
    next(0);
  };
}

// 8 MB of page cache per connection (four connections): the box may be a Raspberry Pi, and the
// OS page cache keeps the hot pages anyway.
const COMMON_PRAGMAS = ['PRAGMA busy_timeout = 5000', 'PRAGMA temp_store = MEMORY', 'PRAGMA cache_size = -8000'];

/** Read-only connections to the same file (open it with openDb first: it runs the migrations). */
export function openReadDb(dataDir: string, connections = 3): Db {
  return knexFactory({
    client: 'sqlite3',
    connection: { filename: path.join(dataDir, 'caliopen.sqlite') },
    useNullAsDefault: true,
    pool: { min: 1, max: connections, afterCreate: connectionSetup([...COMMON_PRAGMAS, 'PRAGMA query_only = ON']) },
  });
}

export async function openDb(dataDir: string): Promise<Db> {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = knexFactory({
    client: 'sqlite3',
    connection: { filename: path.join(dataDir, 'caliopen.sqlite') },
    useNullAsDefault: true,
    pool: {
      min: 1,
      max: 1,
      afterCreate: connectionSetup([
        'PRAGMA journal_mode = WAL',
        'PRAGMA synchronous = FULL',
        'PRAGMA foreign_keys = ON',
        ...COMMON_PRAGMAS,
      ]),
    },
  });
  await db.migrate.latest({ migrationSource });
  return db;
}

export async function closeDb(db: Db): Promise<void> {
  await db.destroy();
}
