/**
 * Group commit. Every ingest prepares its rows outside the database, then hands a job here.
 * Jobs that arrive while a commit is running share the next one: one transaction and one fsync
 * (synchronous=FULL) for many messages, so durability costs one disk flush per batch, not per
 * message. Each job runs in its own savepoint: one failing message does not undo the others.
 * A job's promise resolves only after the COMMIT returned, i.e. after the data is on disk.
 */
import type { Knex } from 'knex';

type Job<T> = { run: (trx: Knex.Transaction) => Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void };

export interface CommitQueue {
  submit<T>(run: (trx: Knex.Transaction) => Promise<T>): Promise<T>;
  drain(): Promise<void>;
}

export function createCommitQueue(db: Knex, maxBatch = 200): CommitQueue {
  const pending: Job<unknown>[] = [];
  let running: Promise<void> | null = null;

  async function runBatch(batch: Job<unknown>[]): Promise<void> {
    const results: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      await db.transaction(async (trx) => {
        for (const job of batch) {
          try {
            const value = await trx.transaction((sp) => job.run(sp));
            results.push({ ok: true, value });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The COMMIT itself failed: nothing of this batch is stored.
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => {
      const r = results[i]!;
      if (r.ok) job.resolve(r.value);
      else job.reject(r.error);
    });
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
    submit<T>(run: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        pending.push({ run, resolve, reject } as Job<unknown>);
        queueMicrotask(pump);
      });
    },
    async drain() {
      while (running || pending.length) await (running ?? Promise.resolve());
    },
  };
}
