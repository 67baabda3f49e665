/**
 * Claiming the box from the web wizard: whoever shows the one-time code printed on the console
 * creates the domain and the admin, and is logged in. The code is taken before the work starts,
 * so two browsers racing with the right code cannot both create an admin; it is put back if the
 * set-up fails (a bad domain name must not lock the owner out).
 */
import type { Deps } from '../deps.js';
import { AppError } from '../errors.js';
import { codesMatch, isSetUp, runSetup, type SetupInput } from './first-run.js';
import { createSession, type ClientInfo, type NewSession, type Throttle } from '../accounts/sessions.js';
import type { User } from '../accounts/users.js';

export interface SetupState {
  code: string | null;
}

export async function setupNeeded(deps: Deps, state: SetupState): Promise<boolean> {
  return state.code !== null && !(await isSetUp(deps.db));
}

export async function claimBox(
  deps: Deps,
  state: SetupState,
  throttle: Throttle,
  input: SetupInput & { code: string },
  client: ClientInfo,
): Promise<{ user: User; session: NewSession }> {
  const expected = state.code;
  if (expected === null || (await isSetUp(deps.db))) throw new AppError('already_set_up', 'this box is already set up');
  const key = `setup\n${client.ip ?? '?'}`;
  throttle.assertAllowed(key);
  if (!codesMatch(input.code, expected)) {
    throttle.fail(key);
    throw new AppError('invalid_setup_code', 'wrong setup code: use the one printed on the console');
  }
  state.code = null;
  try {
    const user = await runSetup(deps.db, deps.clock, { domain: input.domain, admin: input.admin, password: input.password, lang: input.lang }, deps.secrets);
    return { user, session: await createSession(deps, user.id, client) };
  } catch (err) {
    if (!(await isSetUp(deps.db))) state.code = expected;
    throw err;
  }
}
