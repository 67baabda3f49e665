/**
 * `caliopen import mbox|maildir`: reads a local mailbox as a stream and feeds every message to
 * the same ingest() as SMTP. A few ingests run at once so that they share group commits;
 * memory stays bounded by that window, whatever the mailbox size.
 */
import type { Ingestor } from './ingest.js';
import { readMbox, readMaildir } from './mailbox-readers.js';

export interface ImportProgress {
  seen: number;
  imported: number;
  duplicates: number;
  failed: number;
}

export interface ImportOptions {
  format: 'mbox' | 'maildir';
  path: string;
  userId: number;
  tags?: string[];
  concurrency?: number;
  onProgress?: (p: ImportProgress) => void;
  onError?: (err: unknown, index: number) => void;
}

interface Item {
  raw: Buffer;
  read?: boolean;
  tags: string[];
}

async function* items(opts: ImportOptions): AsyncIterable<Item> {
  if (opts.format === 'mbox') {
    for await (const raw of readMbox(opts.path)) yield { raw, tags: opts.tags ?? [] };
    return;
  }
  for await (const m of readMaildir(opts.path)) {
    const tags = [...(opts.tags ?? [])];
    if (m.folder && m.folder.toUpperCase() !== 'INBOX') tags.push(m.folder);
    if (m.flags.flagged) tags.push('IMPORTANT');
    yield { raw: m.raw, read: m.flags.seen, tags };
  }
}

export async function importMailbox(ingestor: Ingestor, opts: ImportOptions): Promise<ImportProgress> {
  const progress: ImportProgress = { seen: 0, imported: 0, duplicates: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  const limit = opts.concurrency ?? 8;
  for await (const item of items(opts)) {
    progress.seen++;
    const index = progress.seen;
    const p: Promise<void> = ingestor
      .ingest({ source: opts.format, raw: item.raw, userIds: [opts.userId], read: item.read, tags: item.tags })
      .then((outcomes) => {
        if (outcomes.every((o) => o.duplicate)) progress.duplicates++;
        else progress.imported++;
      })
      .catch((err: unknown) => {
        progress.failed++;
        opts.onError?.(err, index);
      })
      .finally(() => {
        inFlight.delete(p);
        opts.onProgress?.(progress);
      });
    inFlight.add(p);
    if (inFlight.size >= limit) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return progress;
}
