/**
 * A tiny authoritative DNS server on 127.0.0.1 answering from the same Zones as tests/helpers/dns.ts,
 * for tests and benchmarks that run the appliance as a subprocess (CALIOPEN_RESOLVER=127.0.0.1:PORT).
 * Speaks the RFC 1035 wire format over UDP, and over TCP on the same port for answers that do not
 * fit a datagram (big DKIM keys): the client gets TC and retries over TCP, as real resolvers do.
 * Record shapes are Node's resolve*() results: TXT string[] (chunks) or string, MX {exchange, priority},
 * A and AAAA address strings. A known name without the asked type is NODATA; an unknown one NXDOMAIN.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Zones } from './dns.js';

export type { Zones };

export interface DnsServer {
  port: number;
  /** "127.0.0.1:PORT", ready for CALIOPEN_RESOLVER or Resolver.setServers() */
  address: string;
  /** live: edit between queries */
  zones: Zones;
  /** names that answer SERVFAIL, or get no answer at all ('drop': the client times out) */
  faults: Record<string, 'servfail' | 'drop'>;
  /** "TXT example.test", one per query, in arrival order */
  queries: string[];
  /** how many queries came over TCP (after a truncated UDP answer) */
  tcpQueries: number;
  close(): Promise<void>;
}

const TYPES: Record<number, string> = { 1: 'A', 15: 'MX', 16: 'TXT', 28: 'AAAA', 255: 'ANY' };
const CODES: Record<string, number> = { A: 1, MX: 15, TXT: 16, AAAA: 28 };
const TYPE_OPT = 41;
const RCODE = { ok: 0, formerr: 1, servfail: 2, nxdomain: 3, notimp: 4 } as const;

interface Query {
  id: number;
  flags: number;
  name: string;
  type: number;
  qclass: number;
  question: Buffer; // the question section as received, echoed in the answer
  udpSize: number; // 512, or what the client's EDNS0 OPT record allows (RFC 6891 §6.2.5)
  edns: boolean;
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = offset;
  for (let guard = 0; guard < 128; guard++) {
    const len = msg[pos];
    if (len === undefined) throw new Error('truncated name');
    if (len === 0) return { name: labels.join('.'), end: pos + 1 };
    if (len >= 0xc0) throw new Error('compressed question name'); // clients never compress a lone question
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  throw new Error('name too long');
}

function parseQuery(msg: Buffer): Query {
  if (msg.length < 12) throw new Error('short header');
  const qdcount = msg.readUInt16BE(4);
  if (qdcount !== 1) throw new Error(`expected one question, got ${qdcount}`);
  const { name, end } = readName(msg, 12);
  if (end + 4 > msg.length) throw new Error('truncated question');
  const q: Query = {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    name: name.toLowerCase(),
    type: msg.readUInt16BE(end),
    qclass: msg.readUInt16BE(end + 2),
    question: msg.subarray(12, end + 4),
    udpSize: 512,
    edns: false,
  };
  // additional section: look for the OPT pseudo-record (root name, type 41, class = UDP size)
  let pos = end + 4;
  const arcount = msg.readUInt16BE(10);
  for (let i = 0; i < arcount && pos + 11 <= msg.length; i++) {
    if (msg[pos] !== 0) break;
    const type = msg.readUInt16BE(pos + 1);
    if (type === TYPE_OPT) {
      q.edns = true;
      q.udpSize = Math.max(512, msg.readUInt16BE(pos + 3));
    }
    pos += 11 + msg.readUInt16BE(pos + 9);
  }
  return q;
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const bufs = parts.map((label) => {
    const b = Buffer.from(label, 'utf8');
    if (b.length > 63) throw new Error(`label too long: ${label}`);
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...bufs, Buffer.from([0])]);
}

function encodeIPv6(ip: string): Buffer {
  if (net.isIPv6(ip) !== true) throw new Error(`not an IPv6 address: ${ip}`);
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text); // ::ffff:1.2.3.4
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -v4[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** TXT rdata: <len><bytes> strings of at most 255 bytes each (RFC 1035 §3.3.14). */
function encodeTxt(record: unknown): Buffer {
  const chunks = Array.isArray(record) ? record.map(String) : [String(record)];
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    const b = Buffer.from(chunk, 'utf8');
    if (b.length === 0) out.push(Buffer.from([0]));
    for (let i = 0; i < b.length; i += 255) {
      const piece = b.subarray(i, i + 255);
      out.push(Buffer.from([piece.length]), piece);
    }
  }
  return Buffer.concat(out);
}

function encodeRdata(type: string, record: unknown): Buffer {
  switch (type) {
    case 'A': {
      if (net.isIPv4(String(record)) !== true) throw new Error(`not an IPv4 address: ${String(record)}`);
      return Buffer.from(String(record).split('.').map(Number));
    }
    case 'AAAA':
      return encodeIPv6(String(record));
    case 'MX': {
      const mx = record as { exchange: string; priority: number };
      const pref = Buffer.alloc(2);
      pref.writeUInt16BE(mx.priority);
      return Buffer.concat([pref, encodeName(mx.exchange)]);
    }
    case 'TXT':
      return encodeTxt(record);
    default:
      throw new Error(`unsupported type ${type}`);
  }
}

function answerRecord(typeCode: number, ttl: number, rdata: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // pointer to the question's name, always at offset 12
  head.writeUInt16BE(typeCode, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(ttl, 6);
  head.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([head, rdata]);
}

function buildResponse(q: Query, rcode: number, answers: Buffer[], truncated = false): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, the query's opcode, AA, TC, its RD; rcode in the low bits
  const opcode = q.flags & 0x7800;
  header.writeUInt16BE(0x8000 | opcode | 0x0400 | (truncated ? 0x0200 : 0) | (q.flags & 0x0100) | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(q.edns ? 1 : 0, 10);
  // our own OPT record when the client spoke EDNS0, so it keeps using large datagrams
  const opt = q.edns ? Buffer.from([0, 0, TYPE_OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0); // 1232 bytes
  return Buffer.concat([header, q.question, ...answers, opt]);
}

async function bindPair(): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  // UDP on a free port, then TCP on the same number; in the rare case TCP's is taken, try another
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const port = udp.address().port;
    const tcp = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) return { udp, tcp, port };
    await new Promise<void>((r) => udp.close(() => r()));
  }
  throw new Error('no port free for both UDP and TCP');
}

export async function startDnsServer(zones: Zones = {}, options: { ttl?: number } = {}): Promise<DnsServer> {
  const ttl = options.ttl ?? 60;
  const { udp, tcp, port } = await bindPair();
  const sockets = new Set<net.Socket>();

  const server: DnsServer = {
    port,
    address: `127.0.0.1:${port}`,
    zones,
    faults: {},
    queries: [],
    tcpQueries: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
    },
  };

  /** The response to one query, or null to stay silent. */
  const respond = (msg: Buffer, overUdp: boolean): Buffer | null => {
    let q: Query;
    try {
      q = parseQuery(msg);
    } catch {
      if (msg.length < 12) return null;
      const header = Buffer.from(msg.subarray(0, 12));
      header.writeUInt16BE(0x8000 | RCODE.formerr, 2);
      header.fill(0, 4);
      return header;
    }
    const typeName = TYPES[q.type] ?? `TYPE${q.type}`;
    server.queries.push(`${typeName} ${q.name}`);
    const fault = server.faults[q.name];
    if (fault === 'drop') return null;
    if (fault === 'servfail') return buildResponse(q, RCODE.servfail, []);
    if ((q.flags & 0x7800) !== 0 || q.qclass !== 1) return buildResponse(q, RCODE.notimp, []);
    const zone = Object.entries(server.zones).find(([n]) => n.toLowerCase().replace(/\.$/, '') === q.name)?.[1];
    if (!zone) return buildResponse(q, RCODE.nxdomain, []);
    const types = typeName === 'ANY' ? ['A', 'AAAA', 'MX', 'TXT'] : [typeName];
    let answers: Buffer[];
    try {
      answers = types.flatMap((type) => (zone[type] ?? []).map((r) => answerRecord(CODES[type]!, ttl, encodeRdata(type, r))));
    } catch {
      return buildResponse(q, RCODE.servfail, []); // a zone the test wrote wrong: fail loudly, not silently
    }
    const full = buildResponse(q, RCODE.ok, answers);
    // RFC 1035 §4.2.1 / RFC 6891: what does not fit the datagram is cut, with TC set
    if (overUdp && full.length > q.udpSize) return buildResponse(q, RCODE.ok, [], true);
    return full;
  };

  udp.on('message', (msg, rinfo) => {
    const out = respond(msg, true);
    if (out) udp.send(out, rinfo.port, rinfo.address);
  });

  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      // RFC 1035 §4.2.2: each message is preceded by its two-byte length
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const len = pending.readUInt16BE(0);
        server.tcpQueries++;
        const out = respond(pending.subarray(2, 2 + len), false);
        pending = pending.subarray(2 + len);
        if (!out) continue;
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(out.length);
        socket.write(Buffer.concat([prefix, out]));
      }
    });
  });

  udp.on('error', () => {}); // a send to a vanished client must not crash the test process
  tcp.on('error', () => {});
  return server;
}
