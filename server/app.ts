/**
 * createApp(config, overrides) → { start, stop, ports }: the whole appliance in one object, so that
 * tests start it on port 0 with their own clock, resolver and data dir, exactly as main.ts does.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { createDeps, type Deps } from './deps.js';
import { createIngestor, type Ingestor } from './mail/ingest.js';
import { createAnalyzer } from './mail/analyzer.js';
import { createInboundServer } from './smtp/index.js';
import { loadOrCreateTlsCert } from './smtp/tls-cert.js';
import { createRecipientDirectory } from './accounts/recipient-directory.js';
import { isSetUp, newSetupCode } from './setup/first-run.js';
import { createApi } from './api/app.js';
import { closeDeps } from './deps.js';
import { receivedHeader } from './mail/trace-header.js';
import type { Sender } from './delivery/types.js';
import { createSender, recoverSentCopies } from './delivery/send.js';
import { createDeliveryWorker, type DeliveryWorker } from './delivery/worker.js';
import { appendToSent, sendAsRelay } from './imap-import/send-as.js';
import { allowedSenders } from './delivery/senders.js';
import { createTransport } from './delivery/transport.js';
import { createNotices } from './delivery/notices.js';
import { createDkimSigner } from './delivery/dkim.js';
import { createSubmissionServer, type SubmissionServer } from './smtp/submission-server.js';
import { createThrottle, verifyLogin } from './accounts/sessions.js';
import { createImportScheduler, type ImportScheduler } from './imap-import/scheduler.js';

const randomId = () => crypto.randomBytes(6).toString('hex');

export interface Services {
  deps: Deps;
  ingestor: Ingestor;
  /** one-time code that authorises the first-run wizard; null once the box is set up */
  setup: { code: string | null };
  /** the one send path (API and submission) */
  sender: Sender;
  /** the outbound queue's worker: kick() after queueing or retrying */
  delivery: DeliveryWorker;
  /** polling of external IMAP accounts, and "sync now" */
  imports: ImportScheduler;
}

export interface Ports {
  http: number;
  smtp: number;
  /** submission with STARTTLS (587), and over implicit TLS (465); 0 when disabled */
  submission: number;
  submissions: number;
}

export interface App {
  services: Services;
  ports: Ports;
  start(): Promise<Ports>;
  stop(): Promise<void>;
}

export async function createApp(config: Config, overrides: Partial<Deps> = {}): Promise<App> {
  const deps = await createDeps(config, overrides);
  // The analysis stage (parse, SPF/DKIM/DMARC, tokens) gets its own thread on the second core,
  // unless a test injected an in-memory resolver, which cannot cross into a worker.
  const analyzer = createAnalyzer({ threads: overrides.dns ? 0 : config.ingest.analyzerThreads, resolver: deps.dns, resolverAddress: config.resolver, log: deps.log });
  const ingestor = createIngestor(deps, analyzer);
  const sendAs = { relay: (id: number) => sendAsRelay(deps, id), appendToSent: (id: number, raw: Buffer, at: Date) => appendToSent(deps, id, raw, at) };
  const delivery = createDeliveryWorker(deps, { transport: createTransport(deps), ingestor, notices: createNotices(deps, ingestor), sendAs });
  const sender = createSender(deps, ingestor, createDkimSigner(deps), { onQueued: () => delivery.kick() });
  const imports = createImportScheduler(deps, ingestor);
  const services: Services = { deps, ingestor, sender, delivery, imports, setup: { code: (await isSetUp(deps.db)) ? null : newSetupCode() } };
  const ports: Ports = { http: 0, smtp: 0, submission: 0, submissions: 0 };
  let smtp: ReturnType<typeof createInboundServer> | null = null;
  const submissionServers: SubmissionServer[] = [];
  let httpServer: http.Server | null = null;

  return {
    services,
    ports,
    async start() {
      const tls = await loadOrCreateTlsCert(config, config.dataDir);
      const recipients = createRecipientDirectory(deps.readDb);
      smtp = createInboundServer({
        config,
        log: deps.log.child({ component: 'smtp' }),
        tls,
        handlers: {
          classifyRecipient: (address) => recipients.classify(address),
          deliver: async (msg) => {
            const userIds = await recipients.resolve(msg.envelope.rcptTo);
            const trace = receivedHeader({ hostname: config.hostname, transport: msg.transport, envelope: msg.envelope, at: msg.receivedAt, id: randomId() });
            const raw = Buffer.concat([Buffer.from(trace, 'latin1'), msg.raw]);
            await ingestor.ingest({ source: 'smtp', raw, userIds, envelope: msg.envelope, transport: msg.transport, receivedAt: msg.receivedAt });
          },
        },
      });
      ports.smtp = await smtp.listen(config.smtp.port, config.smtp.host);
      if (config.submission.enabled) {
        const throttle = createThrottle(deps.clock); // shared: a guesser gets no more tries by switching ports
        const handlers = {
          authenticate: async (username: string, password: string) => {
            const user = await verifyLogin(deps.readDb, username, password);
            return user ? { userId: user.id } : null;
          },
          // the user's addresses, and those of their external accounts that send through their own server
          allowedSenders: (userId: number) => allowedSenders(deps.readDb, userId),
          submit: sender.submit,
        };
        for (const [mode, port] of [['starttls', config.submission.port], ['implicit', config.submission.implicitTlsPort]] as const) {
          const server = createSubmissionServer({ config, log: deps.log.child({ component: 'submission' }), handlers, tls, mode, throttle, clock: deps.clock });
          submissionServers.push(server);
          ports[mode === 'starttls' ? 'submission' : 'submissions'] = await server.listen(port, config.smtp.host);
        }
      }
      await recoverSentCopies(deps, ingestor);
      await delivery.start();
      imports.start();
      const api = createApi(services);
      httpServer = http.createServer(api.callback());
      await new Promise<void>((resolve, reject) => {
        httpServer!.once('error', reject);
        httpServer!.listen(config.http.port, config.http.host, () => resolve());
      });
      ports.http = (httpServer.address() as AddressInfo).port;
      deps.log.info('listening', { ...ports, hostname: config.hostname });
      return ports;
    },
    async stop() {
      // Reverse order: stop taking mail, finish what was accepted, then close the store.
      await smtp?.close();
      await Promise.all(submissionServers.map((s) => s.close()));
      await delivery.stop();
      const httpClosed = new Promise<void>((resolve) => (httpServer ? httpServer.close(() => resolve()) : resolve()));
      // close() waits for the responses in progress, and a live event stream (SSE) never ends by
      // itself: its route ends it on this event (api/routes/events.ts).
      deps.events.emit('shutdown');
      await httpClosed;
      httpServer?.closeAllConnections?.();
      await imports.stop(); // a running import stops after its batch, before the ingest drains
      await ingestor.drain();
      await closeDeps(deps);
    },
  };
}
