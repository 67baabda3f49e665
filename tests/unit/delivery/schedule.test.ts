import t from 'tap';
import { nextAttemptAt, isDelayNoticeDue, RETRY_DELAYS_MS } from '../../../server/delivery/schedule.js';

const MIN = 60_000;
const DAY = 1440 * MIN;

t.test('delays grow 5 min, 15 min, 1 h, 3 h … then daily', async (t) => {
  const now = 1_000_000;
  const expires = now + 5 * DAY;
  t.equal(nextAttemptAt(1, now, expires), now + 5 * MIN);
  t.equal(nextAttemptAt(2, now, expires), now + 15 * MIN);
  t.equal(nextAttemptAt(3, now, expires), now + 60 * MIN);
  t.equal(nextAttemptAt(4, now, expires), now + 180 * MIN);
  t.equal(nextAttemptAt(20, now, expires), now + DAY);
  t.equal(RETRY_DELAYS_MS.at(-1), DAY);
});

t.test('the last try is at expiry, and after it there is none', async (t) => {
  const expires = 10 * DAY;
  t.equal(nextAttemptAt(10, expires - MIN, expires), expires, 'clamped to expiry');
  t.equal(nextAttemptAt(10, expires, expires), null);
  t.equal(nextAttemptAt(1, expires + 1, expires), null);
});

t.test('a delay notice once, after the delay', async (t) => {
  const h4 = 4 * 3_600_000;
  t.notOk(isDelayNoticeDue(0, h4 - 1, h4, false));
  t.ok(isDelayNoticeDue(0, h4, h4, false));
  t.notOk(isDelayNoticeDue(0, h4 * 2, h4, true));
});
