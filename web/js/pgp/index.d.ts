// Types of the OpenPGP core (index.js) for the TypeScript server and tests; the JS files carry
// the same types as JSDoc. `openpgp` is the module itself (typeof import('openpgp')).
import type * as OpenPGP from 'openpgp';

type PGP = typeof OpenPGP;
export interface KeyPair { publicKey: string; privateKey: string; fingerprint: string }
export interface KeyFacts {
  fingerprint: string; userIds: string[]; algorithm: string; bits: number | null; created: Date;
  revoked: boolean; expired: boolean; isPrivate: boolean; canEncrypt: boolean;
}
export function generateKeyPair(openpgp: PGP, opts: { name?: string; email: string; passphrase: string; type?: 'ecc' | 'rsa'; rsaBits?: number; date?: Date }): Promise<KeyPair>;
export function importPrivateKey(openpgp: PGP, armored: string, passphrase: string, newPassphrase?: string): Promise<KeyPair>;
export function unlockPrivateKey(openpgp: PGP, armored: string, passphrase: string): Promise<OpenPGP.PrivateKey>;
export function changePassphrase(openpgp: PGP, armored: string, oldPassphrase: string, newPassphrase: string): Promise<string>;
export function revokeKeyPair(openpgp: PGP, armored: string, passphrase: string, reason?: string, date?: Date): Promise<KeyPair>;
export function readAnyKey(openpgp: PGP, data: string | Uint8Array): Promise<OpenPGP.Key>;
export function readAllKeys(openpgp: PGP, data: string | Uint8Array): Promise<OpenPGP.Key[]>;
export function keyFacts(key: OpenPGP.Key, now?: Date): Promise<KeyFacts>;
export function keyHasAddress(key: OpenPGP.Key, address: string): boolean;
export function formatFingerprint(fingerprint: string): string;
export function fingerprintUri(fingerprint: string): string;

export interface Mailbox { name?: string | null; address: string }
export interface FileAttachment { filename: string; contentType?: string; content: Uint8Array }
export interface SealedInput {
  from: Mailbox; to: Mailbox[]; cc?: Mailbox[]; subject: string; text: string; html?: string | null;
  attachments?: FileAttachment[]; date?: Date; messageId?: string; inReplyTo?: string | null; references?: string[]; gossip?: string[];
}
export const HIDDEN_SUBJECT: string;
export function buildInnerMime(m: SealedInput): string;
export function buildSealedMessage(openpgp: PGP, m: SealedInput, keys: { encryptionKeys: OpenPGP.Key[]; signingKey: OpenPGP.PrivateKey }): Promise<{ armored: string; inner: string }>;

export type SignatureStatus = 'valid' | 'valid_unverified_key' | 'bad' | 'unknown_key' | 'none';
export interface SignatureResult { status: SignatureStatus; keyId: string | null; fingerprint: string | null; reason: string | null }
export interface OpenedAttachment { filename: string | null; contentType: string; content: Uint8Array }
export interface OpenedMessage {
  encryption: 'pgp-mime' | 'inline' | 'none'; decrypted: boolean; error: string | null;
  signature: SignatureResult; signatures: SignatureResult[]; subject: string | null; text: string; html: string | null;
  attachments: OpenedAttachment[]; gossip: string[]; forwarded: OpenedMessage[];
}
export interface KnownKey { key: OpenPGP.Key; verified?: boolean }
export function openMessage(openpgp: PGP, raw: Uint8Array | string, opts?: { decryptionKeys?: OpenPGP.PrivateKey[]; knownKeys?: KnownKey[]; date?: Date }): Promise<OpenedMessage>;

export interface AutocryptHeader { addr: string; preferEncrypt: 'mutual' | 'nopreference'; keydata: Uint8Array }
export function parseAutocryptHeader(value: string): AutocryptHeader | null;
export function buildAutocryptHeader(h: { addr: string; keydata: Uint8Array; preferEncrypt?: 'mutual' | 'nopreference' }): string;
export function minimalKeyBytes(openpgp: PGP, key: OpenPGP.Key, addr: string): Promise<Uint8Array>;

export interface MimePart { headers: Array<[string, string]>; contentType: { type: string; params: Record<string, string> }; raw: string; body: string; parts: MimePart[] }
export function parseMime(input: Uint8Array | string): MimePart;
export function headerOf(part: { headers: Array<[string, string]> }, name: string): string | null;
export function decodeBody(part: { headers: Array<[string, string]>; body: string }): string;
export function partText(part: MimePart): string;
export function toBinaryString(input: Uint8Array | string): string;
export function fromBinaryString(s: string): Uint8Array;
