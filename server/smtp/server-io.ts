/** What the MX and the submission servers share: reading DATA safely, and listening on a port. */
import type { SMTPServerDataStream } from 'smtp-server';
import { LineEndingScanner } from './smuggling.js';
import type { LimitedSmtpServer } from './limits.js';

/**
 * Reads a message to its end even when rejecting it (the reply may only follow the final dot),
 * keeps at most maxBytes (memory stays bounded by SIZE; the rest is scanned and dropped) and
 * scans every byte for bare CR / LF (SMTP smuggling).
 */
export async function readMessage(stream: SMTPServerDataStream, maxBytes: number): Promise<{ raw: Buffer; bareLineEnding: boolean; overflow: boolean }> {
  const scanner = new LineEndingScanner();
  const chunks: Buffer[] = [];
  let kept = 0;
  let overflow = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    scanner.write(chunk);
    overflow ||= kept + chunk.length > maxBytes;
    if (overflow || scanner.violation) continue;
    chunks.push(chunk);
    kept += chunk.length;
  }
  return { raw: Buffer.concat(chunks, kept), bareLineEnding: scanner.end() !== null, overflow };
}

/** Resolves with the bound port (port 0 picks a free one); rejects if the port cannot be bound. */
export function listenOn(server: LimitedSmtpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.server.once('error', onError);
    server.listen(port, host, () => {
      server.server.off('error', onError);
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
