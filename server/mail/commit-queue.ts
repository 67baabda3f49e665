/**
 * Group commit. Every ingest prepares its message outside the database, then hands it here.
 * Items that arrive while a commit is running share the next one: one transaction, a few
 * multi-row statements and one fsync (synchronous=FULL) for many messages, so durability costs
 * one disk flush per batch, not per message. If a batch fails, each of its items is retried
 * alone, so one bad message never takes the others down with it. An item's promise resolves
 * only after the COMMIT returned, i.e. after its rows are on disk.
 */
import type { Knex } from 'knex';

export type BatchWriter<I, O> = (trx: Knex.Transaction, items: I[]) => Promise<O[]>;

interface Pending<I, O> {
  item: I;
  resolve: (v: O) => void;
  reject: (e: unknown) => void;
}

export interface CommitQueue<I, O> {
  submit(item: I): Promise<O>;
  drain(): Promise<void>;
}

export function createCommitQueue<I, O>(db: Knex, write: BatchWriter<I, O>, maxBatch = 200): CommitQueue<I, O> {
  const pending: Pending<I, O>[] = [];
  let running: Promise<void> | null = null;

  async function runBatch(batch: Pending<I, O>[]): Promise<void> {
    try {
      const out = await db.transaction((trx) => write(trx, batch.map((p) => p.item)));
      batch.forEach((p, i) => p.resolve(out[i]!));
      return;
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
    }
    for (const p of batch) {
      try {
        const [out] = await db.transaction((trx) => write(trx, [p.item]));
        p.resolve(out!);
      } catch (error) {
        p.reject(error);
      }
    }
  }

  function pump(): void {
    if (running || pending.length === 0) return;
    const batch = pending.splice(0, maxBatch);
    running = runBatch(batch).finally(() => {
      running = null;
      pump();
    });
  }

  return {
    submit(item: I): Promise<O> {
      return new Promise<O>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        queueMicrotask(pump);
      });
    },
    async drain() {
      while (running || pending.length) await (running ?? Promise.resolve());
    },
  };
}
