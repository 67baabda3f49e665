/**
 * A small HTTP client for API tests: real fetch over loopback, a cookie jar (so the session cookie
 * travels like in a browser) and the CSRF header added on unsafe methods once logged in.
 * Every request is bounded in time, so a hung server fails the test instead of stalling it.
 */

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** parsed JSON when the response is JSON, else undefined */
  body: any;
  raw: Buffer;
  setCookies: string[];
}

export interface RequestOptions {
  json?: unknown;
  /** a raw body, sent as is (with `contentType`) */
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
  /** send the CSRF header on unsafe methods (default true) */
  csrf?: boolean;
}

export interface ApiClient {
  base: string;
  cookies: Map<string, string>;
  csrfToken: string | null;
  request(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse>;
  get(path: string, opts?: RequestOptions): Promise<ApiResponse>;
  post(path: string, json?: unknown, opts?: RequestOptions): Promise<ApiResponse>;
  /** logs in and keeps the session; throws unless the server says 200 */
  login(username: string, password: string): Promise<ApiResponse>;
}

const TIMEOUT_MS = 15_000;
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function storeCookies(jar: Map<string, string>, setCookies: string[]): void {
  for (const line of setCookies) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const expired = attrs.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
}

export function apiClient(port: number, host = '127.0.0.1'): ApiClient {
  const client: ApiClient = {
    base: `http://${host}:${port}`,
    cookies: new Map(),
    csrfToken: null,
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (client.cookies.size) headers.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      if (UNSAFE.has(method) && opts.csrf !== false && client.csrfToken) headers['x-csrf-token'] = client.csrfToken;
      let body: string | Buffer | undefined = opts.body;
      if (opts.json !== undefined) {
        body = JSON.stringify(opts.json);
        headers['content-type'] = 'application/json';
      } else if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
      const payload = typeof body === 'string' || body === undefined ? body : new Uint8Array(body);
      const res = await fetch(client.base + path, { method, headers, body: payload, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
      const raw = Buffer.from(await res.arrayBuffer());
      const setCookies = res.headers.getSetCookie();
      storeCookies(client.cookies, setCookies);
      const isJson = (res.headers.get('content-type') ?? '').includes('application/json');
      return { status: res.status, headers: res.headers, body: isJson ? JSON.parse(raw.toString('utf8')) : undefined, raw, setCookies };
    },
    get: (path, opts) => client.request('GET', path, opts),
    post: (path, json, opts) => client.request('POST', path, { ...opts, json }),
    async login(username, password) {
      const res = await client.post('/api/v1/auth/login', { username, password });
      if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
      client.csrfToken = res.body.csrfToken;
      return res;
    },
  };
  return client;
}
