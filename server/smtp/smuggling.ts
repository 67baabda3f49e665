/**
 * Bare CR / bare LF detection over the DATA stream (SMTP smuggling, CVE-2023-51766 family).
 *
 * smtp-server ends DATA only at CRLF.CRLF and hands us the payload with its line endings untouched
 * (it only strips stuffed dots), so any LF not preceded by CR and any CR not followed by LF in that
 * stream is a bare one. A peer that ends DATA at LF.LF or CR.CR would read a second, smuggled message
 * there; we refuse the whole message instead (RFC 5321 §2.3.8, RFC 5322 §2.3).
 *
 * The scanner keeps one byte of state so that a CRLF split across chunks is not a false alarm, and
 * uses Buffer.indexOf so a 50 MB message is scanned at memchr speed rather than byte by byte in JS.
 */

const CR = 0x0d;
const LF = 0x0a;

export interface BareLineEnding {
  kind: 'bare_cr' | 'bare_lf';
  /** Offset of the offending byte in the (dot-unstuffed) DATA stream */
  offset: number;
}

export class LineEndingScanner {
  private offset = 0;
  private pendingCR = false;
  private first: BareLineEnding | null = null;

  /** The first bare CR or LF seen so far, or null. */
  get violation(): BareLineEnding | null {
    return this.first;
  }

  write(chunk: Uint8Array): void {
    if (this.first || chunk.length === 0) {
      this.offset += chunk.length;
      return;
    }
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // a CR that ended the previous chunk is only legal if this one starts with its LF
    if (this.pendingCR && buf[0] !== LF) this.record('bare_cr', this.offset - 1);
    this.scanLF(buf);
    this.scanCR(buf);
    this.pendingCR = buf[buf.length - 1] === CR;
    this.offset += buf.length;
  }

  /** Call once the stream is over: a CR as the very last byte had no LF after it. */
  end(): BareLineEnding | null {
    if (this.pendingCR) this.record('bare_cr', this.offset - 1);
    this.pendingCR = false;
    return this.first;
  }

  private scanLF(buf: Buffer): void {
    for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) {
      const precededByCR = i === 0 ? this.pendingCR : buf[i - 1] === CR;
      if (!precededByCR) return this.record('bare_lf', this.offset + i);
    }
  }

  private scanCR(buf: Buffer): void {
    // the last byte is decided by the next chunk (or by end())
    for (let i = buf.indexOf(CR); i !== -1 && i < buf.length - 1; i = buf.indexOf(CR, i + 1)) {
      if (buf[i + 1] !== LF) return this.record('bare_cr', this.offset + i);
    }
  }

  private record(kind: BareLineEnding['kind'], offset: number): void {
    if (!this.first || offset < this.first.offset) this.first = { kind, offset };
  }
}
