/**
 * DKIM for the domains this box serves: two keys per domain, ed25519 and RSA-2048, and a signer
 * that puts both signatures on every outgoing message (RFC 8463 §1: a verifier that does not know
 * ed25519 ignores that signature and checks the RSA one). Private keys are stored sealed with the
 * box secret; public keys in the form published in the DNS `p=` tag. The records themselves are
 * built in dns-records.ts.
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { dkimSign } from 'mailauth';
import type { DKIMSignOptions } from 'mailauth';
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';

const generateKeyPair = promisify(crypto.generateKeyPair);

export type DkimAlgorithm = 'ed25519' | 'rsa';

/** A domain's key as published: what dns-records.ts needs, never the private half. */
export interface DkimPublicKey {
  id: number;
  selector: string;
  algorithm: DkimAlgorithm;
  /** the `p=` value: base64 DER SubjectPublicKeyInfo (RSA) or the raw 32-byte key (ed25519, RFC 8463 §4.2) */
  publicKey: string;
  createdAt: number;
}

export type DkimDeps = Pick<Deps, 'db' | 'clock' | 'secrets'>;
/** the signer reads through the read pool: a signature never waits behind an ingest commit */
export type SignerDeps = DkimDeps & Pick<Deps, 'readDb'>;

export interface DkimSigner {
  /** The message with an ed25519 and an RSA DKIM-Signature prepended, both with d=domain. */
  sign(raw: Buffer, domain: string): Promise<Buffer>;
}

interface KeyRow {
  id: number;
  selector: string;
  algorithm: DkimAlgorithm;
  private_key_enc: string;
  public_key: string;
  created_at: number;
}

const ALGORITHMS: DkimAlgorithm[] = ['ed25519', 'rsa'];

/**
 * What is signed. RFC 6376 §5.4.1: From is required; the rest are the fields a forger or a list
 * would want to change. Absent fields are not signed (mailauth signs only the fields present, so
 * no over-signing), and Received or Return-Path never are: they change in transit.
 */
const SIGNED_HEADERS = [
  'From', 'Sender', 'Reply-To', 'To', 'Cc', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References',
  'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding',
  'List-Id', 'List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Post', 'List-Help', 'List-Subscribe', 'List-Owner', 'List-Archive',
];

/** cal<yyyymm><e|r>: a new month gives new names, so a later rotation never reuses a published selector. */
export function selectorFor(algorithm: DkimAlgorithm, at: Date): string {
  const ym = `${at.getUTCFullYear()}${String(at.getUTCMonth() + 1).padStart(2, '0')}`;
  return `cal${ym}${algorithm === 'ed25519' ? 'e' : 'r'}`;
}

async function newKeyPair(algorithm: DkimAlgorithm): Promise<{ privatePem: string; publicKey: string }> {
  // async generation: an RSA-2048 key takes a noticeable time on a small board; the event loop keeps serving
  const pair =
    algorithm === 'rsa'
      ? await generateKeyPair('rsa', { modulusLength: 2048 })
      : await generateKeyPair('ed25519');
  const spki = pair.publicKey.export({ type: 'spki', format: 'der' });
  // RFC 8463 §4.2: for ed25519 p= is the bare 32-byte public key, the tail of its SubjectPublicKeyInfo
  const published = algorithm === 'rsa' ? spki : spki.subarray(spki.length - 32);
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: published.toString('base64'),
  };
}

async function activeKeyRows(db: Deps['db'], domainId: number): Promise<KeyRow[]> {
  // newest first: when a rotation leaves two active keys of one algorithm, the newer one signs
  return db('dkim_keys').where({ domain_id: domainId, active: true }).orderBy('id', 'desc') as Promise<KeyRow[]>;
}

/**
 * Creates the domain's ed25519 and RSA keys when it has no active key of that algorithm, and
 * returns its active keys, one per algorithm. Idempotent; two processes racing on one domain
 * collide on the (domain_id, selector) unique index and both end up with the same keys.
 */
export async function ensureDomainKeys(deps: DkimDeps, domainId: number, domainName: string): Promise<DkimPublicKey[]> {
  let rows = await activeKeyRows(deps.db, domainId);
  const missing = ALGORITHMS.filter((a) => !rows.some((r) => r.algorithm === a));
  if (missing.length > 0) {
    const now = deps.clock.now();
    for (const algorithm of missing) {
      const { privatePem, publicKey } = await newKeyPair(algorithm);
      await deps.db('dkim_keys')
        .insert({
          domain_id: domainId,
          selector: selectorFor(algorithm, now),
          algorithm,
          private_key_enc: deps.secrets.seal(privatePem),
          public_key: publicKey,
          active: true,
          created_at: now.getTime(),
        })
        .onConflict(['domain_id', 'selector'])
        .ignore();
    }
    rows = await activeKeyRows(deps.db, domainId);
  }
  const keys = ALGORITHMS.map((a) => rows.find((r) => r.algorithm === a));
  if (keys.some((k) => !k)) throw new Error(`DKIM keys for ${domainName} could not be created`);
  return (keys as KeyRow[]).map((r) => ({ id: r.id, selector: r.selector, algorithm: r.algorithm, publicKey: r.public_key, createdAt: Number(r.created_at) }));
}

/** Our domain's id, or sender_not_allowed: the box signs only for the domains it serves. */
async function ourDomainId(db: Deps['db'], name: string): Promise<number> {
  const row = (await db('domains').where({ name }).first('id')) as { id: number } | undefined;
  if (!row) throw new AppError('sender_not_allowed', `${name} is not a domain of this box: cannot sign for it`);
  return row.id;
}

interface OpenedKeys {
  /** ids of the keys in use: when the active keys change, so does this */
  stamp: string;
  signatureData: DKIMSignOptions[];
}

/**
 * The signer opens each domain's private keys once and keeps them. Every signature still reads
 * which keys are active (one indexed query, cheap next to an RSA signature), so keys created or
 * rotated by another process, such as the CLI, are picked up without a restart.
 */
export function createDkimSigner(deps: SignerDeps): DkimSigner {
  const opened = new Map<string, OpenedKeys>();

  const keysFor = async (domain: string): Promise<OpenedKeys> => {
    const name = domain.trim().toLowerCase().replace(/\.$/, '');
    const domainId = await ourDomainId(deps.readDb, name);
    let rows = await activeKeyRows(deps.readDb, domainId);
    if (!ALGORITHMS.every((a) => rows.some((r) => r.algorithm === a))) {
      // a domain from before outbound mail existed: its keys are made on first use
      await ensureDomainKeys(deps, domainId, name);
      rows = await activeKeyRows(deps.db, domainId);
    }
    const chosen = ALGORITHMS.map((a) => rows.find((r) => r.algorithm === a)!);
    const stamp = chosen.map((r) => r.id).join(',');
    const cached = opened.get(name);
    if (cached && cached.stamp === stamp) return cached;
    const entry: OpenedKeys = {
      stamp,
      signatureData: chosen.map((r) => ({
        signingDomain: name,
        selector: r.selector,
        privateKey: deps.secrets.open(r.private_key_enc),
        algorithm: `${r.algorithm}-sha256`,
        canonicalization: 'relaxed/relaxed',
      })),
    };
    opened.set(name, entry);
    return entry;
  };

  return {
    async sign(raw, domain) {
      const { signatureData } = await keysFor(domain);
      const result = await dkimSign(raw, {
        // mailauth reads the header list as one colon-separated string; an array silently falls
        // back to its defaults, whatever its typings say
        headerList: SIGNED_HEADERS.join(':') as unknown as string[],
        signTime: deps.clock.now(),
        // each entry carries its own d=, s=, key and algorithm; these three are required by the typings only
        signingDomain: signatureData[0]!.signingDomain,
        selector: signatureData[0]!.selector,
        privateKey: signatureData[0]!.privateKey,
        // copies: mailauth writes into the entries it is given
        signatureData: signatureData.map((s) => ({ ...s })),
      });
      if (result.errors.length > 0) {
        // our bug or a damaged key, never the sender's: not an AppError, so SMTP answers 451 and the client retries
        const first = result.errors[0] as unknown as { err?: Error }; // entries are { err, selector, … }
        throw new Error(`DKIM signing for ${domain} failed: ${first.err?.message ?? 'unknown error'}`);
      }
      return Buffer.concat([Buffer.from(result.signatures), raw]);
    },
  };
}
