/**
 * Summary of a V8 .cpuprofile (node --cpu-prof): where the samples went, by function (self time),
 * by source file (self time) and by pipeline stage (inclusive time of named functions), so a
 * benchmark can say which stage is the bottleneck without opening Chrome DevTools.
 */
import fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  gcMs: number;
  selfByFunction: Array<{ name: string; ms: number; pct: number }>;
  selfByFile: Array<{ file: string; ms: number; pct: number }>;
  inclusive: Array<{ name: string; ms: number; pct: number }>;
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 'node_modules/'.length).split('/');
    return 'npm:' + (rest[0]!.startsWith('@') ? rest.slice(0, 2).join('/') : rest[0]!);
  }
  const repo = u.indexOf('/server/');
  if (repo >= 0) return u.slice(repo + 1);
  if (u.startsWith('node:')) return u;
  return u.split('/').slice(-2).join('/');
}

/**
 * @param stages function names whose inclusive time to report (a sample counts once per name
 *   however deep the recursion); async functions only count their synchronous slices, which is
 *   what occupies the event loop.
 */
export function summarizeProfile(file: string, stages: string[], top = 25): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfFn = new Map<string, number>();
  const selfFile = new Map<string, number>();
  const incl = new Map<string, number>();
  const wanted = new Set(stages);
  let total = 0;
  let idle = 0;
  let gc = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(prof.samples[i]!);
    if (!leaf) continue;
    total += dt;
    const name = leaf.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += dt;
      continue;
    }
    if (name === '(garbage collector)') gc += dt;
    const file = shortUrl(leaf.callFrame.url);
    const key = `${name} ${file}:${leaf.callFrame.lineNumber + 1}`;
    selfFn.set(key, (selfFn.get(key) ?? 0) + dt);
    selfFile.set(file, (selfFile.get(file) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const fn = byId.get(id)!.callFrame.functionName;
      if (wanted.has(fn) && !seen.has(fn)) {
        seen.add(fn);
        incl.set(fn, (incl.get(fn) ?? 0) + dt);
      }
    }
  }
  const busy = total - idle;
  const rank = <K extends string>(m: Map<string, number>, k: K) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, ms]) => ({ [k]: name, ms, pct: (100 * ms) / busy }) as { [P in K]: string } & { ms: number; pct: number });
  return {
    totalMs: total,
    idleMs: idle,
    gcMs: gc,
    selfByFunction: rank(selfFn, 'name'),
    selfByFile: rank(selfFile, 'file'),
    inclusive: stages.map((s) => ({ name: s, ms: incl.get(s) ?? 0, pct: (100 * (incl.get(s) ?? 0)) / busy })),
  };
}
