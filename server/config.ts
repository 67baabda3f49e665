/**
 * One validated configuration. Sources, lowest to highest priority: the schema defaults, the JSON
 * file (CALIOPEN_CONFIG, else config/caliopen.json when present), the environment variables of
 * SPEC §9. Every key is described; boot lists every error at once; printConfig() redacts secrets.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors.js';

const port = z.number().int().min(0).max(65535);

export const configSchema = z
  .object({
    dataDir: z.string().min(1).default('./data').describe('Directory holding the database, raw messages, TLS and secrets'),
    hostname: z.string().min(1).default(os.hostname()).describe('Name of this box in SMTP greetings and EHLO'),
    logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info').describe('Log verbosity'),
    http: z
      .object({
        host: z.string().default('0.0.0.0').describe('Address the web app and API listen on'),
        port: port.default(8080).describe('HTTP port (0 = pick a free one)'),
        secureCookies: z.boolean().default(false).describe('Mark session cookies Secure (enable behind HTTPS)'),
      })
      .prefault({}),
    smtp: z
      .object({
        host: z.string().default('0.0.0.0').describe('Address the inbound MX listens on'),
        port: port.default(process.env.NODE_ENV === 'production' ? 25 : 2525).describe('Inbound SMTP port (25 in production, 2525 in development)'),
        maxMessageSize: z.number().int().positive().default(50 * 1024 * 1024).describe('SIZE limit in bytes; larger messages get 552'),
        maxConnections: z.number().int().positive().default(200).describe('Concurrent inbound connections'),
        maxRecipients: z.number().int().positive().default(100).describe('Recipients per message (RFC 5321 §4.5.3.1.8 asks for at least 100)'),
        maxErrors: z.number().int().positive().default(10).describe('Bad commands before a session is closed'),
        socketTimeoutMs: z.number().int().positive().default(120_000).describe('Idle timeout of an SMTP session'),
      })
      .prefault({}),
    submission: z
      .object({
        port: port.default(process.env.NODE_ENV === 'production' ? 587 : 5587).describe('Submission port, STARTTLS then AUTH (587 in production, 5587 in development)'),
        implicitTlsPort: port.default(process.env.NODE_ENV === 'production' ? 465 : 5465).describe('Submission over implicit TLS (465 in production, 5465 in development)'),
        enabled: z.boolean().default(true).describe('Listen for mail clients (submission on both ports)'),
      })
      .prefault({}),
    tls: z
      .object({
        certFile: z.string().optional().describe('PEM certificate for STARTTLS; unset = self-signed generated on first start'),
        keyFile: z.string().optional().describe('PEM private key matching certFile'),
      })
      .prefault({}),
    relay: z.string().optional().describe('Smarthost URL (smtp+starttls://user:pass@host:587, smtps://…:465, smtp://host:25); unset = direct MX'),
    resolver: z
      .string()
      .regex(/^[^:]+:\d+$/, 'expected host:port')
      .optional()
      .describe('host:port of the DNS resolver for SPF/DKIM/DMARC, MX, MTA-STS and WKD; unset = the system resolver'),
    delivery: z
      .object({
        mxPort: port.default(25).describe('TCP port of remote MX hosts (25; a lab or test sets another)'),
        concurrency: z.number().int().positive().default(20).describe('Outbound SMTP connections open at once, all destinations together'),
        perDestination: z.number().int().positive().default(4).describe('Connections kept open to one destination host (reused across messages)'),
        messagesPerConnection: z.number().int().positive().default(100).describe('Messages sent on one connection before it is renewed'),
        connectTimeoutMs: z.number().int().positive().default(30_000).describe('Time to connect and get a greeting from a remote MX'),
        maxAgeHours: z.number().positive().default(120).describe('Time a message keeps being retried before it bounces (5 days)'),
        delayNoticeHours: z.number().positive().default(4).describe('Delay after which the sender is told a message is still waiting'),
        rateLimitPerHour: z.number().int().positive().default(200).describe('Messages a user may send per hour (against a compromised account)'),
        rateLimitPerDay: z.number().int().positive().default(1000).describe('Messages a user may send per day'),
      })
      .prefault({}),
    imports: z
      .object({
        enabled: z.boolean().default(true).describe('Poll external IMAP accounts on their schedule (sync now and the CLI work either way)'),
        intervalMinutes: z.number().int().min(1).max(1440).default(15).describe('Default polling interval of a new external account, in minutes'),
        batchMessages: z.number().int().positive().default(200).describe('Messages fetched per IMAP batch; the cursor is committed after each batch'),
        batchBytes: z.number().int().positive().default(16 * 1024 * 1024).describe('Bytes fetched per IMAP batch at most (a larger message goes alone): bounds memory'),
        concurrency: z.number().int().positive().default(32).describe('Messages of a batch in the ingest pipeline at once (more in flight: bigger group commits, fewer statements per message)'),
        connectTimeoutMs: z.number().int().positive().default(20_000).describe('Time to connect, secure and log in to an IMAP server'),
        pauseAfterHours: z.number().positive().default(72).describe('An account failing this long stops being polled until the user acts'),
      })
      .prefault({}),
    ingest: z
      .object({
        analyzerThreads: z.number().int().min(0).max(1).default(1).describe('Worker threads that parse and authenticate incoming mail (0 = on the main thread, saves ~40 MB)'),
      })
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

const ENV_MAP: Array<[string, string[], 'string' | 'port']> = [
  ['CALIOPEN_DATA_DIR', ['dataDir'], 'string'],
  ['CALIOPEN_HOSTNAME', ['hostname'], 'string'],
  ['CALIOPEN_HTTP_PORT', ['http', 'port'], 'port'],
  ['CALIOPEN_SMTP_PORT', ['smtp', 'port'], 'port'],
  ['CALIOPEN_SUBMISSION_PORT', ['submission', 'port'], 'port'],
  ['CALIOPEN_SUBMISSIONS_PORT', ['submission', 'implicitTlsPort'], 'port'],
  ['CALIOPEN_RELAY', ['relay'], 'string'],
  ['CALIOPEN_RESOLVER', ['resolver'], 'string'],
  ['CALIOPEN_LOG_LEVEL', ['logLevel'], 'string'],
];

function setPath(obj: Record<string, unknown>, keys: string[], value: unknown): void {
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]!] = value;
}

function readConfigFile(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new AppError('invalid_config', `cannot read config file ${file}: ${(err as Error).message}`);
  }
}

/** Builds the config from file + env + overrides; throws one AppError listing every problem. */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Record<string, unknown> = {},
  cwd = process.cwd(),
): Config {
  const explicit = env.CALIOPEN_CONFIG;
  const defaultFile = path.join(cwd, 'config', 'caliopen.json');
  const raw: Record<string, unknown> = explicit
    ? readConfigFile(explicit)
    : fs.existsSync(defaultFile)
      ? readConfigFile(defaultFile)
      : {};
  const problems: string[] = [];
  for (const [name, keys, kind] of ENV_MAP) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    if (kind === 'port') {
      if (!/^\d+$/.test(v)) problems.push(`${name}: expected a port number, got "${v}"`);
      else setPath(raw, keys, Number(v));
    } else setPath(raw, keys, v);
  }
  deepMerge(raw, overrides);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (problems.length || !parsed.success) {
    throw new AppError('invalid_config', 'invalid configuration:\n  - ' + problems.join('\n  - '), problems);
  }
  const config = parsed.data;
  config.dataDir = path.resolve(cwd, config.dataDir);
  return config;
}

function deepMerge(target: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(src)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof target[k] !== 'object' || target[k] === null) target[k] = {};
      deepMerge(target[k] as Record<string, unknown>, v as Record<string, unknown>);
    } else target[k] = v;
  }
}

/** The config with every secret replaced: safe to print or log. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.relay) copy.relay = copy.relay.replace(/\/\/([^@/]*)@/, (_m, cred: string) => `//${cred.split(':')[0]}:[redacted]@`);
  return copy;
}

export function describeConfig(): string[] {
  const lines: string[] = [];
  const walk = (schema: z.ZodType, prefix: string) => {
    let s: z.ZodType = schema;
    let description = s.description;
    while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault) {
      s = (s as unknown as { unwrap(): z.ZodType }).unwrap();
      description ??= s.description;
    }
    if (s instanceof z.ZodObject) {
      for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) walk(v, prefix ? `${prefix}.${k}` : k);
    } else lines.push(`${prefix}: ${description ?? ''}`);
  };
  walk(configSchema, '');
  return lines;
}
