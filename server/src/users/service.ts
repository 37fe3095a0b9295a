import type { AppContext } from '../context.js';
import type { Executor } from '../kernel/db.js';
import { accessTokenOf, listMemberships, type UserRow } from './repository.js';
import { presentUser, type PresenceLookup, type UserJson } from './presenter.js';

/** Who is connected now, from the real-time module when it runs (else nobody: see availabilityStatus). */
export const presenceOf = (ctx: AppContext): PresenceLookup | undefined => ctx.realtime?.presence.isPresent;

/** Loads what the signed-in user's JSON needs (token, memberships) and presents it. */
export async function signedInUserJson(ctx: AppContext, user: UserRow, db: Executor = ctx.database.db): Promise<UserJson> {
  const [accessToken, memberships] = await Promise.all([accessTokenOf(db, user.id), listMemberships(db, user.id)]);
  return presentUser(user, { accessToken, memberships, presence: presenceOf(ctx) });
}
