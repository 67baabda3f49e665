/**
 * The shared real-world corpus (../shared/corpus beside the repository). Tests read it in place and
 * skip with a visible notice where it is absent (a user's clone); CI always has it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const corpusDir = process.env.CALIOPEN_CORPUS ?? path.resolve(repoRoot, '../shared/corpus');
export const sharedBenchDir = path.resolve(corpusDir, '../bench');

export function corpusAvailable(): boolean {
  return fs.existsSync(corpusDir);
}

/** Options for t.test: skips with a notice when the corpus is missing. */
export function needsCorpus(): { skip: string | false } {
  return { skip: corpusAvailable() ? false : `corpus not found at ${corpusDir} (set CALIOPEN_CORPUS); skipped` };
}

/** Every regular file under a corpus sub-folder, sorted. */
export function corpusFiles(sub: string, filter: (file: string) => boolean = () => true): string[] {
  const root = path.join(corpusDir, sub);
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && filter(p)) out.push(p);
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}
