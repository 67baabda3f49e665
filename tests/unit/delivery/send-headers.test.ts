import t from 'tap';
import { withRequiredHeaders } from '../../../server/delivery/send.js';

const now = new Date('2026-03-01T10:00:00Z');

t.test('Message-ID and Date are added when missing, on the sender domain', async (t) => {
  const { raw, messageId } = withRequiredHeaders(Buffer.from('From: a@example.test\r\nTo: b@remote.test\r\nSubject: hi\r\n\r\nbody\r\n'), 'example.test', now);
  const text = raw.toString();
  t.match(messageId, /^[0-9a-f]{24}@example\.test$/);
  t.match(text, new RegExp(`^Message-ID: <${messageId}>\\r\\nDate: Sun, 01 Mar 2026 10:00:00 \\+0000\\r\\nFrom:`));
  t.match(text, /\r\nSubject: hi\r\n\r\nbody\r\n$/);
});

t.test('present headers are kept and the bytes untouched', async (t) => {
  const input = Buffer.from('Message-ID: <x@y.test>\r\nDate: Sun, 01 Mar 2026 09:00:00 +0000\r\nFrom: a@example.test\r\n\r\nbody');
  const { raw, messageId } = withRequiredHeaders(input, 'example.test', now);
  t.equal(messageId, 'x@y.test');
  t.equal(raw, input, 'same buffer: nothing to change');
});

t.test('headers revealing the writer’s IP or mail client are removed, folded lines included', async (t) => {
  const input = Buffer.from(
    'Message-ID: <x@y.test>\r\nDate: Sun, 01 Mar 2026 09:00:00 +0000\r\nUser-Agent: Mozilla/5.0\r\n (X11; Linux)\r\nFrom: a@example.test\r\nX-Originating-IP: [192.0.2.7]\r\nX-Mailer: Thunderbird\r\n\r\nUser-Agent: in the body stays\r\n',
  );
  const text = withRequiredHeaders(input, 'example.test', now).raw.toString();
  t.notMatch(text, /Mozilla|X11|192\.0\.2\.7|Thunderbird/);
  t.match(text, /From: a@example\.test\r\n\r\nUser-Agent: in the body stays\r\n$/);
});
