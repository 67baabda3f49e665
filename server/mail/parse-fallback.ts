/**
 * When mailparser gives up on a message, we still store and show it: headers as far as they
 * can be read, the rest as plain text. A malformed message is kept, never dropped.
 */
import type { ParsedMail } from 'mailparser';

export function fallbackParse(raw: Buffer): ParsedMail {
  const s = raw.toString('utf8');
  const split = s.search(/\r?\n\r?\n/);
  const head = split >= 0 ? s.slice(0, split) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const m = line.match(/^([!-9;-~]+):\s*(.*)$/);
    if (m && !headers.has(m[1]!.toLowerCase())) headers.set(m[1]!.toLowerCase(), m[2]!);
  }
  return {
    headers: headers as unknown as ParsedMail['headers'],
    headerLines: [],
    attachments: [],
    subject: headers.get('subject'),
    messageId: headers.get('message-id'),
    text: split >= 0 ? s.slice(split).trim() : s,
    html: false,
  } as ParsedMail;
}
