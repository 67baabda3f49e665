/**
 * Boot order, as a checklist: config → store (migrations) → deps → listeners. Shutdown runs in
 * reverse on SIGTERM/SIGINT, with a time limit so a stuck peer cannot keep the box from stopping.
 */
import { loadConfig } from './config.js';
import { createApp } from './app.js';

const SHUTDOWN_LIMIT_MS = 15_000;

export async function start(): Promise<void> {
  const config = loadConfig();
  const app = await createApp(config);
  const ports = await app.start();
  const out = process.stdout;
  out.write(`Caliopen is running: web http://localhost:${ports.http}/  SMTP port ${ports.smtp}  data ${config.dataDir}\n`);
  if (ports.submission) out.write(`Mail clients: submission port ${ports.submission} (STARTTLS), ${ports.submissions} (TLS)\n`);
  if (app.services.setup.code) {
    out.write(`\nFirst run: open http://localhost:${ports.http}/ and enter this one-time setup code: ${app.services.setup.code}\n\n`);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.services.deps.log.info('shutting down', { signal });
    const timer = setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS);
    timer.unref();
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
