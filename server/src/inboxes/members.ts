import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import { errors } from '../kernel/errors.js';
import type { AgentRow } from '../users/presenter.js';
import { listAgents, memberIdsAmong } from '../agents/repository.js';
import { addInboxMembers, findInbox, removeInboxMembers, setInboxMembers } from './repository.js';
import { visibleInbox } from './service.js';

export type MembershipChange = 'add' | 'replace' | 'remove';

/** The inbox's member agents (inbox members and administrators may read them). */
export async function inboxMembers(ctx: AppContext, auth: AccountContext, inboxId: number): Promise<AgentRow[]> {
  await visibleInbox(ctx, auth, inboxId);
  return listAgents(ctx.database.db, auth.accountId, { inboxId });
}

/**
 * Adds, replaces or removes inbox members. Every user id must be an agent of the account, else the
 * whole request is refused (422) and nothing is written.
 */
export async function changeInboxMembers(
  ctx: AppContext,
  auth: AccountContext,
  change: MembershipChange,
  input: { inbox_id: number; user_ids: number[] },
): Promise<AgentRow[]> {
  const userIds = [...new Set(input.user_ids)];
  return ctx.database.transaction(async (trx) => {
    if (!(await findInbox(trx, auth.accountId, input.inbox_id))) throw errors.notFound();
    const members = await memberIdsAmong(trx, auth.accountId, userIds);
    const strangers = userIds.filter((id) => !members.has(id));
    if (strangers.length) {
      throw errors.invalid(`User ids are not agents of this account: ${strangers.join(', ')}`, ['user_ids'], {
        invalid_user_ids: strangers,
      });
    }
    if (change === 'add') await addInboxMembers(trx, input.inbox_id, userIds);
    else if (change === 'replace') await setInboxMembers(trx, input.inbox_id, userIds);
    else await removeInboxMembers(trx, input.inbox_id, userIds);
    return listAgents(trx, auth.accountId, { inboxId: input.inbox_id });
  });
}
