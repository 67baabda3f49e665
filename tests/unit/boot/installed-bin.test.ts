/**
 * bin/caliopen, the installed command (npm start, npm's bin, the systemd unit, the Docker image):
 * node with a 4 MB young generation and one malloc arena, unless the operator set their own, and
 * the arguments passed on to bin/caliopen.js untouched.
 */
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/deps.js';

const BIN = path.join(repoRoot, 'bin', 'caliopen');

/** Runs `bin/caliopen print-config` with a preload that records what node was started with. */
function started(env: Record<string, string>): { execArgv: string[]; arena: string | undefined; config: { dataDir: string } } {
  const dir = tempDir('cal-bin-');
  const spy = path.join(dir, 'spy.cjs');
  const out = path.join(dir, 'seen.json');
  fs.writeFileSync(spy, `require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ execArgv: process.execArgv, arena: process.env.MALLOC_ARENA_MAX }));`);
  const stdout = execFileSync(BIN, ['print-config'], { env: { ...process.env, CALIOPEN_DATA_DIR: path.join(dir, 'data'), NODE_OPTIONS: '', ...env, CALIOPEN_NODE_FLAGS: `--require ${spy} ${env.CALIOPEN_NODE_FLAGS ?? ''}` }, encoding: 'utf8' });
  const seen = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(dir, { recursive: true, force: true });
  return { ...seen, config: JSON.parse(stdout) };
}

t.test('the installed command sets its memory defaults and passes the arguments on', async (t) => {
  const s = started({ MALLOC_ARENA_MAX: '' });
  t.ok(s.execArgv.includes('--max-semi-space-size=4'), `young generation capped: ${s.execArgv.join(' ')}`);
  t.equal(s.arena, '1', 'one malloc arena');
  t.match(s.config, { dataDir: /cal-bin-.*\/data$/ }, 'print-config ran with the environment given');
});

t.test("the operator's own settings win", async (t) => {
  const s = started({ MALLOC_ARENA_MAX: '4', NODE_OPTIONS: '--max-semi-space-size=16' });
  t.notOk(s.execArgv.includes('--max-semi-space-size=4'), 'no cap of ours over NODE_OPTIONS');
  t.equal(s.arena, '4');
});
