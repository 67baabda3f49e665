/**
 * An email provider's submission server on loopback (a real Node smtp-server): AUTH required,
 * a self-signed certificate (the box has to be told to trust it), implicit TLS or STARTTLS. It
 * keeps what it is given, with the login that sent it: the peer for "send as an external address".
 */
import net from 'node:net';
import crypto from 'node:crypto';
import { generate } from 'selfsigned';
import { SMTPServer } from 'smtp-server';

export interface ProviderSubmission {
  port: number;
  fingerprint: string;
  received: Array<{ user: string; mailFrom: string; rcpt: string[]; secure: boolean; raw: string }>;
  authFailures: number;
}

type Teardown = { teardown(fn: () => unknown): void };

export async function startProviderSubmission(t: Teardown, opts: { tls: 'implicit' | 'starttls'; users: Record<string, string> }): Promise<ProviderSubmission> {
  const pems = await generate([{ name: 'commonName', value: 'smtp.remote.test' }], { keySize: 2048, algorithm: 'sha256' });
  const peer: ProviderSubmission = { port: 0, fingerprint: new crypto.X509Certificate(pems.cert).fingerprint256, received: [], authFailures: 0 };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    secure: opts.tls === 'implicit',
    key: pems.private,
    cert: pems.cert,
    authMethods: ['PLAIN', 'LOGIN'],
    // a provider's submission port: nothing without a login
    authOptional: false,
    onAuth(auth, _s, cb) {
      if (auth.username && opts.users[auth.username] === auth.password) return cb(null, { user: auth.username });
      peer.authFailures++;
      cb(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        peer.received.push({
          user: String(session.user), mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcpt: session.envelope.rcptTo.map((r) => r.address), secure: session.secure, raw: Buffer.concat(chunks).toString('utf8'),
        });
        cb(null, `2.0.0 Ok: queued as P${peer.received.length}`);
      });
    },
  });
  server.on('error', () => undefined); // refused handshakes are what some tests are about
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.port = (server.server.address() as net.AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return peer;
}
