/**
 * GnuPG 2.2 as a real OpenPGP peer (TESTING.md §3): a throwaway GNUPGHOME per test with one
 * unprotected ECC key, every gpg call bounded in time, the agent stopped and the home removed
 * at teardown. Tests skip with a notice when gpg is absent.
 */
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { tempDir } from './deps.js';

type Teardown = { teardown(fn: () => unknown): void };

export const gpgAvailable = fs.existsSync('/usr/bin/gpg');
export const needsGpg = (): { skip: string | false } => ({ skip: gpgAvailable ? false : 'gpg not found at /usr/bin/gpg; skipped' });

export interface Gpg {
  home: string;
  email: string;
  /** runs gpg with this home; rejects on a non-zero exit unless allowFail */
  run(args: string[], input?: string | Buffer, allowFail?: boolean): Promise<{ code: number; stdout: Buffer; stderr: string }>;
  publicKey(): Promise<string>;
}

export async function startGpg(t: Teardown, name: string, email: string): Promise<Gpg> {
  const home = tempDir('cal-gnupg-');
  fs.chmodSync(home, 0o700);
  const env = { ...process.env, GNUPGHOME: home };
  const run: Gpg['run'] = (args, input, allowFail = false) =>
    new Promise((resolve, reject) => {
      const child = execFile('/usr/bin/gpg', ['--batch', '--yes', '--no-tty', ...args], { env, timeout: 30_000, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        const out = { code, stdout, stderr: stderr.toString('utf8') };
        if (code !== 0 && !allowFail) reject(new Error(`gpg ${args.join(' ')} failed (${code}): ${out.stderr}`));
        else resolve(out);
      });
      // gpg may exit without reading its input (an export): a closed pipe is not an error here
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input ?? '');
    });
  t.teardown(async () => {
    await new Promise((resolve) => execFile('/usr/bin/gpgconf', ['--kill', 'gpg-agent'], { env, timeout: 10_000 }, resolve));
    fs.rmSync(home, { recursive: true, force: true });
  });
  const params = ['%no-protection', 'Key-Type: EdDSA', 'Key-Curve: ed25519', 'Key-Usage: sign,cert', 'Subkey-Type: ECDH', 'Subkey-Curve: cv25519',
    'Subkey-Usage: encrypt', `Name-Real: ${name}`, `Name-Email: ${email}`, 'Expire-Date: 0', '%commit', ''].join('\n');
  await run(['--generate-key'], params);
  return { home, email, run, publicKey: async () => (await run(['--armor', '--export', email])).stdout.toString('utf8') };
}

/** gpg's machine-readable status lines (--status-fd 1) of a run, by keyword. */
export function gpgStatus(stdout: Buffer): string[] {
  return stdout.toString('utf8').split('\n').filter((l) => l.startsWith('[GNUPG:] ')).map((l) => l.slice(9));
}
