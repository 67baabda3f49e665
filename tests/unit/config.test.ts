import t from 'tap';
import { loadConfig, redactConfig, describeConfig } from '../../server/config.js';

t.test('defaults and env overrides', async (t) => {
  const c = loadConfig({ CALIOPEN_HTTP_PORT: '0', CALIOPEN_DATA_DIR: '/tmp/x' }, {}, '/nonexistent');
  t.equal(c.http.port, 0);
  t.equal(c.dataDir, '/tmp/x');
  t.equal(c.smtp.maxMessageSize, 50 * 1024 * 1024);
});

t.test('all errors listed at once', async (t) => {
  const err = t.throws(() => loadConfig({ CALIOPEN_HTTP_PORT: 'abc', CALIOPEN_RESOLVER: 'nope' }, { smtp: { port: -1 } }, '/nonexistent')) as Error;
  t.match(err.message, /CALIOPEN_HTTP_PORT/);
  t.match(err.message, /resolver/);
  t.match(err.message, /smtp\.port/);
});

t.test('print-config redacts the relay password', async (t) => {
  const c = loadConfig({ CALIOPEN_RELAY: 'smtp+starttls://bob:hunter2@relay.test:587' }, {}, '/nonexistent');
  const r = redactConfig(c);
  t.notMatch(JSON.stringify(r), /hunter2/);
  t.match(r.relay, /bob:\[redacted\]@relay\.test/);
});

t.test('every key is described', async (t) => {
  for (const line of describeConfig()) t.match(line, /: \S/, line);
});

t.test('the example config file is valid', async (t) => {
  const path = new URL('../../config/caliopen.example.json', import.meta.url).pathname;
  const c = loadConfig({ CALIOPEN_CONFIG: path }, {}, '/nonexistent');
  t.ok(c.smtp.port > 0);
});
