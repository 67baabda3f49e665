/**
 * `caliopen import imap --account A` (id or address): one sync of an external account now, in
 * this process, through the same runner as the scheduler (lease, cursor, status), with a progress
 * line on stderr: rewritten in place on a terminal, one line a second otherwise (logs, tests).
 */
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { createIngestor } from '../mail/ingest.js';
import { createAnalyzer } from '../mail/analyzer.js';
import { findAccount } from '../imap-import/account-store.js';
import { runAccountSync } from '../imap-import/runner.js';
import type { ImportProgressEvent } from '../imap-import/progress.js';

export function progressLine(p: ImportProgressEvent): string {
  if (p.state === 'connecting') return `connecting to ${p.address}…`;
  const eta = p.etaSeconds === null ? '' : ` ETA ${p.etaSeconds < 90 ? `${p.etaSeconds} s` : `${Math.round(p.etaSeconds / 60)} min`}`;
  const folder = p.folder ? `${p.folder} ${p.folderDone}/${p.folderTotal}, ` : '';
  return `${p.state}: ${folder}${p.done}/${p.total} in all, ${p.imported} new, ${p.duplicates} known, ${p.rate} msg/s${eta}`;
}

export async function importImapCmd(deps: Deps, ref: string | undefined, out: (line: string) => void): Promise<void> {
  if (!ref) throw new AppError('bad_request', 'usage: caliopen import imap --account ID|ADDRESS');
  const account = await findAccount(deps.db, ref);
  const { config } = deps;
  const ingestor = createIngestor(deps, createAnalyzer({ threads: config.ingest.analyzerThreads, resolver: deps.dns, resolverAddress: config.resolver, log: deps.log }));
  const tty = process.stderr.isTTY;
  let last = 0;
  const started = Date.now();
  try {
    const summary = await runAccountSync(deps, ingestor, account.id, {
      onProgress: (p) => {
        if (p.state !== 'done' && p.state !== 'failed' && Date.now() - last < (tty ? 200 : 1000)) return;
        last = Date.now();
        process.stderr.write(tty ? `\r\x1b[K${progressLine(p)}` : `${progressLine(p)}\n`);
      },
    });
    if (tty) process.stderr.write('\n');
    out(`${account.address}: ${summary.imported} imported, ${summary.duplicates} already there, ${summary.folders} folders (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    await ingestor.drain();
  }
}
