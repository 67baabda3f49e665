/** The PI help is derived from the scoring code: bands from piLetter/piColour, every axis and band explained in both languages. */
import t from 'tap';
import { bandsOf, piHelp } from '../../../server/help/pi.js';

t.test('bandsOf groups consecutive scores', async (t) => {
  t.same(bandsOf((s) => (s < 10 ? 'low' : s < 90 ? 'mid' : 'low')), [
    { key: 'low', min: 0, max: 9 }, { key: 'mid', min: 10, max: 89 }, { key: 'low', min: 90, max: 100 },
  ], 'a key that comes back is a new band');
});

t.test('both languages explain every band and axis, and differ', async (t) => {
  const [en, fr] = [piHelp('en'), piHelp('fr')];
  for (const h of [en, fr]) {
    const covered = (bands: Array<{ min: number; max: number }>) => bands.reduce((n, b) => n + b.max - b.min + 1, 0);
    t.equal(covered(h.letters), 101, `${h.lang}: letters cover 0–100`);
    t.equal(covered(h.colours), 101, `${h.lang}: colours cover 0–100`);
    for (const b of [...h.letters, ...h.colours]) t.not(b.help, b.key, `${h.lang}: band ${b.key} explained`);
    for (const a of [...h.message.axes, ...h.account.axes, ...h.device.axes, ...h.contact.axes]) t.not(a.help, a.axis, `${h.lang}: axis ${a.axis} explained`);
    for (const s of [...h.message.signals, ...h.account.signals, ...h.device.signals, ...h.contact.signals]) t.ok(s.help, `${h.lang}: ${s.signal}`);
  }
  t.not(en.message.help, fr.message.help);
  t.ok(en.contact.signals.some((s) => s.signal === 'KEY_STRONG'), 'the contact weights are on the help page');
  t.same(en.letters.map((b) => b.key), fr.letters.map((b) => b.key));
});
