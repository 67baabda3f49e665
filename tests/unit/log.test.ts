import t from 'tap';
import { createLogger } from '../../server/log.js';

t.test('logs never hold bodies, passwords, tokens or the SQL of a failed statement', async (t) => {
  const lines: string[] = [];
  const log = createLogger('debug', {}, (l) => lines.push(l));
  const dbError = new Error("insert into `messages` (`excerpt`) values ('Dear Alice, my secret plans') - SQLITE_CONSTRAINT: UNIQUE constraint failed: messages.user_id");
  log.error('failed', { err: dbError, password: 'hunter2', token: 'abc', body: 'the text', text: 'x', user: 'alice' });
  const out = lines.join('\n');
  t.notMatch(out, /secret plans|hunter2|"abc"|the text/);
  t.match(out, /SQLITE_CONSTRAINT: UNIQUE constraint failed/);
  t.match(out, /"user":"alice"/);
});
