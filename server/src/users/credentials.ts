import type { AppContext } from '../context.js';
import type { Tx } from '../kernel/db.js';
import { listMemberships, rotatePubsubToken } from './repository.js';

/**
 * Rotates the user's real-time credential (pubsub_token) inside the caller's transaction, and
 * records `user.credentials_rotated` in each of the user's accounts, so that the real-time listener
 * disconnects the sockets still subscribed with an older token on every node (each node holds an
 * account's sockets under that account's pub/sub channel). The event carries the user id and the
 * new credentials_version only, never a token.
 */
export async function rotateRealtimeCredentials(ctx: Pick<AppContext, 'events'>, trx: Tx, userId: number): Promise<void> {
  const version = await rotatePubsubToken(trx, userId);
  for (const m of await listMemberships(trx, userId)) {
    await ctx.events(trx, m.account_id, 'user.credentials_rotated', { user_id: userId, credentials_version: version });
  }
}
