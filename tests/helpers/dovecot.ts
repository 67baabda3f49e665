/**
 * A real Dovecot 2.3 for IMAP import tests (TESTING.md §1): standalone `dovecot -F -c conf` owned
 * by the test, IMAP (plain, STARTTLS) and IMAPS on free 127.0.0.1 ports, a passwd-file, Maildir++
 * mailboxes owned by uid 5000, a self-signed certificate. Messages are written straight into the
 * Maildir (fast enough for thousands); folders with special use Sent, Drafts, Trash, Junk, Archive.
 * Stopped and removed in the test's teardown. Needs root (Dovecot's master setuids to the mail uid).
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import net from 'node:net';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { tempDir } from './deps.js';
import { freePort, waitForPort } from './smtp-sink.js';

type Teardown = { teardown(fn: () => unknown): void };

export const DOVECOT_BIN = '/usr/sbin/dovecot';
const VUID = 5000;

/** A reason to skip, or false when Dovecot can run here. */
export function dovecotMissing(): string | false {
  if (!fs.existsSync(DOVECOT_BIN)) return 'dovecot is not installed (apt-get install dovecot-imapd): IMAP import tests skipped';
  if (process.getuid?.() !== 0) return 'the Dovecot harness needs root (its master setuids to the mail uid): IMAP import tests skipped';
  return false;
}

export interface Dovecot {
  dir: string;
  conf: string;
  imapPort: number;
  imapsPort: number;
  certPem: string;
  fingerprint: string;
  /** writes a message into a folder's Maildir (folder "INBOX" or a path like "Projects/2024"); flags like 'S', 'F', 'SF' */
  add(user: string, folder: string, raw: Buffer | string, flags?: string): void;
  /** creates an (empty) folder, non-ASCII names allowed */
  createFolder(user: string, folder: string): void;
  doveadm(args: string[]): string;
  setPassword(user: string, password: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
}

/** RFC 3501 §5.1.3 modified UTF-7, as Dovecot names Maildir++ directories. */
export function mutf7(name: string): string {
  return name.replace(/&/g, '&-').replace(/[^\x20-\x7e]+/g, (chunk) => {
    const utf16be = Buffer.from(chunk, 'utf16le').swap16();
    return '&' + utf16be.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
  });
}

function config(d: string, imapPort: number, imapsPort: number): string {
  return `base_dir = ${d}/run
state_dir = ${d}/state
instance_name = caliopen-test-${path.basename(d)}
log_path = ${d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <${d}/cert.pem
ssl_key = <${d}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
# tests try wrong passwords on purpose: no growing delay for 127.0.0.1
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
auth_mechanisms = plain login
mail_location = maildir:${d}/mail/%u/Maildir
mail_uid = ${VUID}
mail_gid = ${VUID}
first_valid_uid = ${VUID}
last_valid_uid = ${VUID}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${d}/users
}
userdb {
  driver = static
  args = uid=${VUID} gid=${VUID} home=${d}/mail/%u
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
`;
}

let unique = 0;

function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });
}

export async function startDovecot(t: Teardown, users: Record<string, string> = { alice: 'alicepass' }): Promise<Dovecot> {
  const d = tempDir('cal-dovecot-');
  for (const sub of ['run', 'state', 'mail']) fs.mkdirSync(path.join(d, sub));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '3650', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', `${d}/key.pem`, '-out', `${d}/cert.pem`], { stdio: 'ignore' });
  const certPem = fs.readFileSync(`${d}/cert.pem`, 'utf8');
  const passwords = { ...users };
  const writeUsers = () => fs.writeFileSync(`${d}/users`, Object.entries(passwords).map(([u, p]) => `${u}:{PLAIN}${p}::::`).join('\n') + '\n');
  writeUsers();
  const imapPort = await freePort();
  // the kernel may hand the same free port out twice in a row: two listeners on one port stop Dovecot
  let imapsPort = await freePort();
  while (imapsPort === imapPort) imapsPort = await freePort();
  const conf = `${d}/dovecot.conf`;
  fs.writeFileSync(conf, config(d, imapPort, imapsPort));
  let child: ChildProcess | null = null;

  const folderDir = (user: string, folder: string) => {
    const base = path.join(d, 'mail', user, 'Maildir');
    return folder.toUpperCase() === 'INBOX' ? base : path.join(base, '.' + folder.split('/').map(mutf7).join('.'));
  };
  const ensureDir = (dir: string) => {
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  };
  const chownAll = () => spawnSync('chown', ['-R', `${VUID}:${VUID}`, path.join(d, 'mail')]);

  const h: Dovecot = {
    dir: d,
    conf,
    imapPort,
    imapsPort,
    certPem,
    fingerprint: new crypto.X509Certificate(certPem).fingerprint256,
    add(user, folder, raw, flags = '') {
      const dir = folderDir(user, folder);
      ensureDir(dir);
      const name = `${Date.now()}.M${++unique}P${process.pid}.caliopen-test:2,${[...flags].sort().join('')}`;
      const file = path.join(dir, 'cur', name);
      fs.writeFileSync(file, raw);
      fs.chownSync(file, VUID, VUID);
      fs.chownSync(path.join(dir, 'cur'), VUID, VUID);
      fs.chownSync(dir, VUID, VUID);
      fs.chownSync(path.dirname(dir), VUID, VUID);
    },
    createFolder(user, folder) {
      h.doveadm(['mailbox', 'create', '-u', user, folder]);
    },
    doveadm(args) {
      chownAll();
      return execFileSync('doveadm', ['-c', conf, ...args], { encoding: 'utf8' });
    },
    setPassword(user, password) {
      passwords[user] = password;
      writeUsers();
    },
    running: () => child !== null && child.exitCode === null,
    async start() {
      chownAll();
      child = spawn(DOVECOT_BIN, ['-F', '-c', conf], { stdio: 'ignore' });
      await waitForPort(h.imapPort, 5000);
      await waitForPort(h.imapsPort, 5000);
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (c.exitCode === null) c.kill('SIGKILL');
      child = null;
      // the login processes may hold the listeners a moment longer than the master
      for (let i = 0; i < 100 && (await accepting(h.imapsPort)); i++) await new Promise((r) => setTimeout(r, 30));
    },
  };
  for (const user of Object.keys(users)) ensureDir(folderDir(user, 'INBOX'));
  // registered first: a Dovecot that fails to start is still stopped and its directory removed
  t.teardown(async () => {
    await h.stop();
    fs.rmSync(d, { recursive: true, force: true });
  });
  // another process may take a free port before Dovecot binds it: then other ports, three tries
  for (let attempt = 1; ; attempt++) {
    try {
      await h.start();
      return h;
    } catch (err) {
      await h.stop();
      if (attempt === 3) throw err;
      h.imapPort = await freePort();
      do h.imapsPort = await freePort();
      while (h.imapsPort === h.imapPort);
      fs.writeFileSync(conf, config(d, h.imapPort, h.imapsPort));
    }
  }
}

/** A TCP relay to a local port that can cut every connection after N bytes from the server (a server dying mid-fetch). */
export interface CuttingProxy {
  port: number;
  /** bytes server → client after which a connection is cut; Infinity: never */
  cutAfter: number;
  cuts: number;
}

export async function cuttingProxy(t: Teardown, targetPort: number, cutAfter = Infinity): Promise<CuttingProxy> {
  const sockets = new Set<net.Socket>();
  const state: CuttingProxy = { port: 0, cutAfter, cuts: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let down = 0;
    const end = () => (client.destroy(), upstream.destroy());
    client.on('data', (c) => upstream.write(c));
    upstream.on('data', (c) => {
      down += c.length;
      if (down > state.cutAfter) {
        state.cuts++;
        return end();
      }
      client.write(c);
    });
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  t.teardown(() => {
    sockets.forEach((s) => s.destroy());
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}
