/**
 * Import progress for one account sync: done/total for the account and the current folder, the
 * rate over the whole run and the ETA. Reported to a callback (the CLI's line) and, at most a few
 * times a second, as the `import-progress` domain event that GET /events forwards to the web app.
 */
import type { Deps } from '../deps.js';

export type SyncState = 'connecting' | 'running' | 'done' | 'failed';

export interface ImportProgressEvent {
  userId: number;
  accountId: number;
  address: string;
  state: SyncState;
  folder: string | null;
  folderDone: number;
  folderTotal: number;
  done: number;
  total: number;
  imported: number;
  duplicates: number;
  /** messages per second since the first message of this run */
  rate: number;
  /** seconds left at that rate; null before anything is known */
  etaSeconds: number | null;
  error?: { code: string; message: string };
}

export interface ProgressTracker {
  readonly current: ImportProgressEvent;
  update(patch: Partial<ImportProgressEvent>, force?: boolean): void;
  /** one more message through ingest */
  count(duplicate: boolean): void;
}

const EMIT_EVERY_MS = 250;

export function progressTracker(
  deps: Pick<Deps, 'events'>,
  base: Pick<ImportProgressEvent, 'userId' | 'accountId' | 'address'>,
  onProgress?: (p: ImportProgressEvent) => void,
): ProgressTracker {
  const p: ImportProgressEvent = { ...base, state: 'connecting', folder: null, folderDone: 0, folderTotal: 0, done: 0, total: 0, imported: 0, duplicates: 0, rate: 0, etaSeconds: null };
  let started = 0;
  let countedSinceStart = 0;
  let lastEmit = 0;
  const emit = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastEmit < EMIT_EVERY_MS) return;
    lastEmit = now;
    const secs = started ? (now - started) / 1000 : 0;
    p.rate = secs > 0 ? Math.round((countedSinceStart / secs) * 10) / 10 : 0;
    p.etaSeconds = p.rate > 0 ? Math.round(Math.max(0, p.total - p.done) / p.rate) : p.total === p.done ? 0 : null;
    const snapshot = { ...p };
    onProgress?.(snapshot);
    deps.events.emit('import-progress', snapshot);
  };
  return {
    current: p,
    update(patch, force = false) {
      Object.assign(p, patch);
      emit(force || patch.state !== undefined);
    },
    count(duplicate) {
      if (!started) started = Date.now();
      countedSinceStart++;
      p.done++;
      p.folderDone++;
      if (duplicate) p.duplicates++;
      else p.imported++;
      emit(false);
    },
  };
}
