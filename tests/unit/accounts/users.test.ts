import t from 'tap';
import { testDeps } from '../../helpers/deps.js';
import { runSetup } from '../../../server/setup/first-run.js';
import { addUser, addAlias, classifyRecipient, resolveRecipients, findUserByLogin, normalizeAddress } from '../../../server/accounts/users.js';
import { addDomain } from '../../../server/accounts/domains.js';
import { verifyPassword } from '../../../server/accounts/passwords.js';

t.test('recipients: local, unknown, foreign, aliases, postmaster, IDN', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  const admin = await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'a long password' });
  const bob = await addUser(deps.db, deps.clock, { username: 'bob', domain: 'example.test', password: 'bobs long password' });
  await addAlias(deps.db, deps.clock, bob.id, 'Robert@Example.test');
  await addDomain(deps.db, deps.clock, 'xn--caf-dma.test');
  t.equal(await classifyRecipient(deps.db, 'ALICE@example.test'), 'local');
  t.equal(await classifyRecipient(deps.db, 'robert@example.test'), 'local');
  t.equal(await classifyRecipient(deps.db, 'nobody@example.test'), 'unknown');
  t.equal(await classifyRecipient(deps.db, 'someone@elsewhere.test'), 'foreign');
  t.equal(await classifyRecipient(deps.db, 'postmaster'), 'local');
  t.equal(await classifyRecipient(deps.db, 'postmaster@example.test'), 'local');
  t.equal(await classifyRecipient(deps.db, 'postmaster@elsewhere.test'), 'foreign');
  t.equal(await classifyRecipient(deps.db, 'nobody@café.test'), 'unknown', 'unicode domain matches its punycode form');
  t.equal(normalizeAddress('X@Café.Test'), 'x@xn--caf-dma.test');
  t.same((await resolveRecipients(deps.db, ['alice@example.test', 'robert@example.test', 'bob@example.test'])).sort(), [admin.id, bob.id].sort());
  t.same(await resolveRecipients(deps.db, ['postmaster@example.test']), [admin.id], 'postmaster goes to the admin');
});

t.test('users: login by name or address, hashed passwords, validation', async (t) => {
  const deps = await testDeps();
  t.teardown(() => deps.close());
  await runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'alice', password: 'a long password' });
  const u = await findUserByLogin(deps.db, 'Alice@Example.test');
  t.equal(u?.username, 'alice');
  t.match(u!.password_hash, /^scrypt\$/);
  t.notMatch(u!.password_hash, /a long password/);
  t.ok(await verifyPassword('a long password', u!.password_hash));
  t.notOk(await verifyPassword('a long passworD', u!.password_hash));
  await t.rejects(addUser(deps.db, deps.clock, { username: 'alice', domain: 'example.test', password: 'whatever long' }), { code: 'user_exists' });
  await t.rejects(addUser(deps.db, deps.clock, { username: 'x y', domain: 'example.test', password: 'whatever long' }), { code: 'validation_failed' });
  await t.rejects(addUser(deps.db, deps.clock, { username: 'zed', domain: 'nowhere.test', password: 'whatever long' }), { code: 'domain_not_found' });
  await t.rejects(runSetup(deps.db, deps.clock, { domain: 'example.test', admin: 'eve', password: 'another password' }), { code: 'already_set_up' });
});
