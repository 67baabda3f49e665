/**
 * Session limits smtp-server does not offer as options, applied at its single write site
 * (SMTPConnection.send) so they hold whatever command produced the reply:
 * - replies whose text already starts with an enhanced status code are sent as they are, so the
 *   codes chosen in replies.ts are not doubled or replaced by smtp-server's guess from the number;
 * - errors per session: past config.smtp.maxErrors permanent (5xx) replies the session ends with 421.
 *   smtp-server only counts unknown verbs (fixed at 10), not bad syntax, bad sequence or refused
 *   recipients, which is what an address harvester or a broken client produces.
 * The limits smtp-server does support (SIZE, recipients, connections, idle timeout) are plain options.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Config } from '../config.js';
import { ENHANCED_CODE, replyTooManyErrors } from './replies.js';

export interface SessionLimits {
  maxErrors: number;
  hostname: string;
}

/** The smtp-server options that come straight from config.smtp. */
export function limitOptions(config: Config): SMTPServerOptions {
  return {
    size: config.smtp.maxMessageSize, // RFC 1870 §3: announced in EHLO, checked against MAIL SIZE=
    maxRecipients: config.smtp.maxRecipients, // RFC 5321 §4.5.3.1.10: 452 4.5.3 past the limit
    maxClients: config.smtp.maxConnections, // 421 to the connection over the limit
    socketTimeout: config.smtp.socketTimeoutMs, // RFC 5321 §4.5.3.2.7: idle server timeout, then 421
  };
}

export class LimitedSmtpServer extends SMTPServer {
  private readonly limits: SessionLimits;
  private readonly guarded = new WeakSet<SMTPConnection>();

  constructor(options: SMTPServerOptions, limits: SessionLimits) {
    super(options);
    this.limits = limits;
  }

  override connect(socket: net.Socket | tls.TLSSocket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    super.connect(socket, socketOptions);
    // the new connection is not returned; it is the one in the set we have not seen yet (a connection
    // refused for maxClients has already left the set, which is why this is not simply "the last one")
    for (const connection of this.connections) {
      if (this.guarded.has(connection)) continue;
      this.guarded.add(connection);
      guardReplies(connection, this.limits);
    }
  }
}

function guardReplies(connection: SMTPConnection, limits: SessionLimits): void {
  const send = connection.send.bind(connection);
  let errors = 0;
  connection.send = (code, data, context) => {
    const ownCode = typeof data === 'string' && ENHANCED_CODE.test(data);
    send(code, data, ownCode ? false : context);
    // 4xx are our state or limits (451, 452, 421), not the client's fault; only 5xx count
    if (code >= 500 && code < 600 && ++errors === limits.maxErrors) {
      const reply = replyTooManyErrors(limits.hostname);
      send(reply.responseCode, reply.message, false); // smtp-server closes the connection after any 421
    }
  };
}
