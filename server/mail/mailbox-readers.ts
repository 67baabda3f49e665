/**
 * Streaming readers for the mailboxes users bring along: mbox files (any of the mboxo, mboxrd and
 * Content-Length variants, CRLF, LF or CR-only) and Maildir trees (Maildir++ `.A.B` folders as
 * written by Dovecot and Courier, or nested `A/B/cur` folders as written by mbsync and notmuch).
 * Memory stays bounded by the largest message, never by the mailbox: an mbox can be gigabytes.
 * They only hand out raw bytes; parsing and storing is ingest's business.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../errors.js';

export interface MailboxReadOptions {
  /** Larger messages are skipped (reported through onSkip) rather than held in memory. */
  maxMessageBytes?: number;
  /** Read size; tests make it tiny to put chunk boundaries everywhere. */
  chunkSize?: number;
  /** where: the Maildir file, or "mbox-file#n" with n the 0-based message index in the mbox */
  onSkip?: (skipped: { reason: 'too_large'; bytes: number; where: string }) => void;
}

export interface MaildirFlags {
  seen: boolean;
  flagged: boolean;
  replied: boolean;
  draft: boolean;
  trashed: boolean;
}

export interface MaildirMessage {
  raw: Buffer;
  folder: string;
  flags: MaildirFlags;
  file: string;
}

const DEFAULT_MAX_MESSAGE = 256 * 1024 * 1024;
// A line with no end in sight is flushed in pieces so that one endless line cannot exhaust memory.
const LONG_LINE = 64 * 1024;
const LF = 0x0a;
const CR = 0x0d;
const GT = 0x3e;
const FROM_ = Buffer.from('From ');
// Netscape and Eudora wrote From_ lines without the blank line before them ("From - " alone, or with
// an asctime date). Such a line also counts when it looks exactly like that: one token, then nothing
// or a date (the check mutt makes). Any other "From " line needs a blank line before it, which keeps
// prose that an unescaping writer left in a body ("From there we went…") inside its message.
const FROM_LINE = /^From \S+(\s*$|\s+.*\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+[A-Z][a-z]{2}\s+\d{1,2}\s+\d{1,2}:\d\d(:\d\d)?\s)/;

function startsWithFrom(buf: Buffer, start: number, end: number): boolean {
  return end - start >= 5 && buf.compare(FROM_, 0, 5, start, start + 5) === 0;
}

/** Turns a byte stream into messages, one line at a time; the state survives across chunks. */
class MboxSplitter {
  private carry: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private size = 0;
  private overflow = false;
  private prevBlank = true; // the file start counts as "after a blank line"
  private prevBlankLen = 0;
  private midLine: false | 'keep' | 'drop' = false;
  private firstLine = true;
  private index = 0;

  constructor(
    private readonly max: number,
    private readonly onSkip: MailboxReadOptions['onSkip'],
    private readonly where: string,
  ) {}

  push(chunk: Buffer, eof: boolean): Buffer[] {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const out: Buffer[] = [];
    let pos = 0;
    let runStart = 0; // bytes [runStart, pos) are kept as they are, copied in one piece
    let lf = -2;
    let cr = -2;
    while (pos < buf.length) {
      // cached next-terminator positions keep the scan linear in LF-only or CR-only files
      if (lf !== -1 && lf < pos) lf = buf.indexOf(LF, pos);
      if (cr !== -1 && cr < pos) cr = buf.indexOf(CR, pos);
      let contentEnd: number;
      let end: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        if (cr + 1 < buf.length) end = buf[cr + 1] === LF ? cr + 2 : cr + 1;
        else if (eof) end = cr + 1;
        else break; // a final CR may be the first half of a CRLF
        contentEnd = cr;
      } else if (lf !== -1) {
        contentEnd = lf;
        end = lf + 1;
      } else if (eof) {
        contentEnd = end = buf.length;
      } else break;
      runStart = this.line(buf, pos, contentEnd, end, runStart, out);
      pos = end;
    }
    if (buf.length - pos > LONG_LINE) {
      const stop = buf[buf.length - 1] === CR ? buf.length - 1 : buf.length;
      runStart = this.longLine(buf, pos, stop, runStart, out);
      pos = stop;
    }
    this.append(buf.subarray(runStart, pos));
    // a copy, so that the big chunk the remainder came from can be freed
    this.carry = Buffer.from(buf.subarray(pos));
    if (eof) this.endMessage(out);
    return out;
  }

  /** Handles one complete line; returns where the run of bytes to keep now starts. */
  private line(buf: Buffer, start: number, contentEnd: number, end: number, runStart: number, out: Buffer[]): number {
    if (this.midLine) {
      // the end of a long line whose start was handled by longLine()
      const drop = this.midLine === 'drop';
      this.midLine = false;
      this.prevBlank = false;
      return drop ? end : runStart;
    }
    if (this.firstLine) {
      this.firstLine = false;
      // a UTF-8 byte order mark, left by Windows editors, would hide the first From_ line
      if (contentEnd - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) {
        start += 3;
        runStart = start;
      }
    }
    if (contentEnd === start) {
      this.prevBlank = true;
      this.prevBlankLen = end - start;
      return runStart;
    }
    if (startsWithFrom(buf, start, contentEnd) && this.isSeparator(buf, start, contentEnd)) {
      this.append(buf.subarray(runStart, start));
      this.endMessage(out);
      this.prevBlank = false;
      return end; // the From_ line itself is not part of the message
    }
    this.prevBlank = false;
    return this.unescape(buf, start, contentEnd, runStart);
  }

  private isSeparator(buf: Buffer, start: number, contentEnd: number): boolean {
    if (this.prevBlank) return true;
    return FROM_LINE.test(buf.toString('latin1', start, Math.min(contentEnd, start + 200)) + ' ');
  }

  /** mboxrd: ">From ", ">>From "… lose one '>'. (mboxo only escaped one level; same result there.) */
  private unescape(buf: Buffer, start: number, contentEnd: number, runStart: number): number {
    if (buf[start] !== GT) return runStart;
    let i = start;
    while (i < contentEnd && buf[i] === GT) i++;
    if (!startsWithFrom(buf, i, contentEnd)) return runStart;
    this.append(buf.subarray(runStart, start));
    return start + 1;
  }

  /** The first piece of a line longer than LONG_LINE: classify it now, stream the rest. */
  private longLine(buf: Buffer, start: number, stop: number, runStart: number, out: Buffer[]): number {
    if (this.midLine) return this.midLine === 'drop' ? stop : runStart;
    this.firstLine = false;
    if (startsWithFrom(buf, start, stop) && this.prevBlank) {
      this.append(buf.subarray(runStart, start));
      this.endMessage(out);
      this.midLine = 'drop';
      this.prevBlank = false;
      return stop;
    }
    this.midLine = 'keep';
    this.prevBlank = false;
    return this.unescape(buf, start, stop, runStart);
  }

  private append(b: Buffer): void {
    if (b.length === 0) return;
    this.size += b.length;
    if (this.overflow) return;
    if (this.size > this.max) {
      this.overflow = true;
      this.parts = [];
    } else this.parts.push(b);
  }

  /** Ends the current message; the blank line before a From_ line (or at EOF) is the separator's. */
  private endMessage(out: Buffer[]): void {
    if (this.prevBlank && !this.overflow) this.trimTail(this.prevBlankLen);
    if (this.overflow) {
      this.onSkip?.({ reason: 'too_large', bytes: this.size, where: `${this.where}#${this.index}` });
      this.index++;
    } else if (this.parts.some((p) => p.some((c) => c !== LF && c !== CR && c !== 0x20 && c !== 0x09))) {
      out.push(Buffer.concat(this.parts, this.size));
      this.index++;
    }
    this.parts = [];
    this.size = 0;
    this.overflow = false;
    this.prevBlankLen = 0;
  }

  private trimTail(n: number): void {
    while (n > 0 && this.parts.length) {
      const last = this.parts[this.parts.length - 1]!;
      const cut = Math.min(n, last.length);
      if (cut === last.length) this.parts.pop();
      else this.parts[this.parts.length - 1] = last.subarray(0, last.length - cut);
      this.size -= cut;
      n -= cut;
    }
  }
}

/** Messages of an mbox file, From_ lines stripped and ">From " lines unescaped, in file order. */
export async function* readMbox(file: string, options: MailboxReadOptions = {}): AsyncIterable<Buffer> {
  const splitter = new MboxSplitter(options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE, options.onSkip, file);
  const stream = fs.createReadStream(file, { highWaterMark: options.chunkSize ?? 256 * 1024 });
  for await (const chunk of stream) yield* splitter.push(chunk as Buffer, false);
  yield* splitter.push(Buffer.alloc(0), true);
}

const FLAG_LETTERS: Record<string, keyof MaildirFlags> = { S: 'seen', F: 'flagged', R: 'replied', D: 'draft', T: 'trashed' };

/** Flags from the info suffix ":2,FRS"; "_2," too, for copies made where ':' is not allowed. */
export function maildirFlags(name: string, inNew: boolean): MaildirFlags {
  const flags: MaildirFlags = { seen: false, flagged: false, replied: false, draft: false, trashed: false };
  const m = /[:_]2,([A-Za-z]*)$/.exec(name);
  if (m) for (const c of m[1]!) if (FLAG_LETTERS[c]) flags[FLAG_LETTERS[c]!] = true;
  if (inNew) flags.seen = false; // new/ holds what no client has seen yet
  return flags;
}

/** IMAP modified UTF-7 (RFC 3501 §5.1.3), the encoding of Maildir++ folder names with non-ASCII. */
function decodeMutf7(name: string): string {
  return name.replace(/&([A-Za-z0-9+,]*)-/g, (_m, b64: string) => {
    if (b64 === '') return '&';
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64');
    let s = '';
    for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
    return s;
  });
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return (await fs.promises.readdir(dir)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** The messages of one folder's cur/ and new/ (tmp/ holds deliveries in progress: not messages yet). */
async function* readFolder(dir: string, folder: string, options: MailboxReadOptions): AsyncIterable<MaildirMessage> {
  const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
  for (const sub of ['cur', 'new']) {
    for (const name of await listNames(path.join(dir, sub))) {
      if (name.startsWith('.')) continue;
      const file = path.join(dir, sub, name);
      const st = await fs.promises.stat(file).catch(() => null);
      if (!st?.isFile()) continue;
      if (st.size > max) {
        options.onSkip?.({ reason: 'too_large', bytes: st.size, where: file });
        continue;
      }
      yield { raw: await fs.promises.readFile(file), folder, flags: maildirFlags(name, sub === 'new'), file };
    }
  }
}

/** Nested folders ("A/B" = dir/A/B/cur): the layout of mbsync, notmuch and Dovecot's LAYOUT=fs. */
async function* readNested(dir: string, folder: string, depth: number, options: MailboxReadOptions): AsyncIterable<MaildirMessage> {
  if (depth > 32) return; // a mail folder tree is never this deep; a bind-mount loop might be
  for (const name of await listNames(dir)) {
    if (name.startsWith('.') || name === 'cur' || name === 'new' || name === 'tmp') continue;
    const sub = path.join(dir, name);
    if (!(await fs.promises.lstat(sub)).isDirectory()) continue;
    const child = folder ? `${folder}/${name}` : name;
    yield* readFolder(sub, child, options);
    yield* readNested(sub, child, depth + 1, options);
  }
}

/**
 * Every message of a Maildir root: INBOX (the root's cur/ and new/) first, then the Maildir++
 * folders (".A.B" → "A/B"), then nested folders, each in file-name order (delivery time order for
 * the usual "time.unique:2,flags" names). Files outside cur/ and new/ are not messages and are ignored.
 */
export async function* readMaildir(dir: string, options: MailboxReadOptions = {}): AsyncIterable<MaildirMessage> {
  if (!isDir(dir)) throw new AppError('bad_request', `not a Maildir directory: ${dir}`);
  yield* readFolder(dir, 'INBOX', options);
  for (const name of await listNames(dir)) {
    if (!name.startsWith('.') || name === '.' || name === '..' || name.length < 2) continue;
    const sub = path.join(dir, name);
    if (!(await fs.promises.lstat(sub)).isDirectory()) continue;
    const folder = name.slice(1).split('.').filter(Boolean).map(decodeMutf7).join('/');
    if (folder) yield* readFolder(sub, folder, options);
  }
  yield* readNested(dir, '', 0, options);
}

/** A directory is a Maildir; a file is an mbox if it starts like one (or is empty). */
export function detectMailboxFormat(p: string): 'mbox' | 'maildir' {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new AppError('bad_request', `mailbox not found: ${p}`);
  }
  if (st.isDirectory()) return 'maildir';
  const fd = fs.openSync(p, 'r');
  try {
    const head = Buffer.alloc(1024);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const text = head.subarray(0, n).toString('latin1').replace(/^(\xef\xbb\xbf)?[\r\n]*/, '');
    if (text === '' || text.startsWith('From ')) return 'mbox';
  } finally {
    fs.closeSync(fd);
  }
  throw new AppError('bad_request', `neither an mbox (no leading "From " line) nor a Maildir directory: ${p}`);
}
