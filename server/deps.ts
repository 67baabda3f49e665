/**
 * Everything from the outside world that the domain needs, injected, never global:
 * tests build their own with a fake clock, a zone resolver and a temporary data dir.
 */
import { EventEmitter } from 'node:events';
import type { Config } from './config.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import type { DnsResolver } from './dns.js';
import { createDnsResolver } from './dns.js';
import type { Logger } from './log.js';
import { createLogger } from './log.js';
import type { Db } from './store/db.js';
import { openDb, openReadDb } from './store/db.js';
import type { BlobStore } from './store/blobs.js';
import { createSecretBox, loadBoxKey, type SecretBox } from './secrets.js';
import type { HttpsFetcher } from './delivery/types.js';
import { httpsFetch } from './https-fetch.js';
import { createBlobStore } from './store/blobs.js';

/** One delivery attempt finished: the web app shows sending progress with it. */
export interface DeliveryEvent {
  userId: number;
  messageId: number | null;
  queueId: number;
  domain: string;
  status: 'queued' | 'delivering' | 'delivered' | 'failed' | 'dropped';
}

/** Domain events for live updates (server-sent events) and workers. */
export interface DomainEvents {
  on(event: 'message', listener: (e: { userId: number; messageId: number; discussionId: number }) => void): this;
  emit(event: 'message', e: { userId: number; messageId: number; discussionId: number }): boolean;
  on(event: 'delivery', listener: (e: DeliveryEvent) => void): this;
  emit(event: 'delivery', e: DeliveryEvent): boolean;
  /** some sessions of this user were deleted (a device removed, the password changed) */
  on(event: 'sessions-ended', listener: (e: { userId: number }) => void): this;
  emit(event: 'sessions-ended', e: { userId: number }): boolean;
  /** the user's spam filter learnt from their sorting (its totals changed) */
  on(event: 'spam-trained', listener: (e: { userId: number }) => void): this;
  emit(event: 'spam-trained', e: { userId: number }): boolean;
}

export interface Deps {
  config: Config;
  /** the writer: every change goes through it */
  db: Db;
  /** read-only pool for look-ups that must not wait behind a commit */
  readDb: Db;
  blobs: BlobStore;
  clock: Clock;
  dns: DnsResolver;
  log: Logger;
  events: DomainEvents & EventEmitter;
  /** seals secrets stored in the database (relay passwords, DKIM private keys) */
  secrets: SecretBox;
  /** outgoing HTTPS (MTA-STS policies, WKD): injected so tests answer from loopback */
  fetch: HttpsFetcher;
}

export async function createDeps(config: Config, overrides: Partial<Deps> = {}): Promise<Deps> {
  const db = overrides.db ?? (await openDb(config.dataDir));
  return {
    config,
    db,
    readDb: overrides.readDb ?? openReadDb(config.dataDir),
    blobs: overrides.blobs ?? createBlobStore(config.dataDir),
    clock: overrides.clock ?? systemClock,
    dns: overrides.dns ?? createDnsResolver(config.resolver),
    log: overrides.log ?? createLogger(config.logLevel),
    events: overrides.events ?? (new EventEmitter() as DomainEvents & EventEmitter),
    secrets: overrides.secrets ?? createSecretBox(loadBoxKey(config.dataDir)),
    fetch: overrides.fetch ?? httpsFetch,
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await deps.readDb.destroy();
  await deps.db.destroy();
}
