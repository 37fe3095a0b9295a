import type { Selectable } from 'kysely';
import type { Executor } from '../kernel/db.js';
import { bit, now, toJson } from '../kernel/db.js';
import { secureToken, webhookSecret } from '../kernel/tokens.js';
import type { AccountContext } from '../kernel/auth.js';
import type { ChannelApiTable, InboxesTable } from '../kernel/schema.js';

/** The channel_api columns an inbox is loaded with (not the channel's own id, account or times). */
const CHANNEL_COLUMNS = [
  'channel_api.webhook_url',
  'channel_api.identifier',
  'channel_api.hmac_token',
  'channel_api.hmac_mandatory',
  'channel_api.secret',
  'channel_api.previous_secret',
  'channel_api.secret_rotated_at',
  'channel_api.additional_attributes',
] as const;
type Unqualified<C> = C extends `channel_api.${infer Column extends keyof ChannelApiTable}` ? Column : never;

export type InboxWithChannel = Selectable<InboxesTable> & Pick<Selectable<ChannelApiTable>, Unqualified<(typeof CHANNEL_COLUMNS)[number]>>;

function selectInbox(db: Executor) {
  return db
    .selectFrom('inboxes')
    .innerJoin('channel_api', 'channel_api.id', 'inboxes.channel_id')
    .selectAll('inboxes')
    .select(CHANNEL_COLUMNS);
}

/** An inbox of the account, or undefined (another account's id is "not found"). */
export async function findInbox(db: Executor, accountId: number, inboxId: number): Promise<InboxWithChannel | undefined> {
  return selectInbox(db).where('inboxes.account_id', '=', accountId).where('inboxes.id', '=', inboxId).executeTakeFirst();
}

/** The public client API finds API inboxes by their identifier only. */
export async function findInboxByIdentifier(db: Executor, identifier: string): Promise<InboxWithChannel | undefined> {
  return selectInbox(db).where('channel_api.identifier', '=', identifier).executeTakeFirst();
}

export async function listInboxes(db: Executor, accountId: number, onlyForUserId?: number): Promise<InboxWithChannel[]> {
  let q = selectInbox(db).where('inboxes.account_id', '=', accountId).orderBy('inboxes.id');
  if (onlyForUserId !== undefined) {
    q = q.where('inboxes.id', 'in', (eb) => eb.selectFrom('inbox_members').select('inbox_id').where('user_id', '=', onlyForUserId));
  }
  return q.execute();
}

/** Inbox ids the user may see in the account: all for administrators, member inboxes for agents. */
export async function visibleInboxIds(db: Executor, ctx: AccountContext): Promise<number[]> {
  if (ctx.isAdmin) {
    const rows = await db.selectFrom('inboxes').select('id').where('account_id', '=', ctx.accountId).execute();
    return rows.map((r) => r.id);
  }
  const rows = await db
    .selectFrom('inbox_members')
    .innerJoin('inboxes', 'inboxes.id', 'inbox_members.inbox_id')
    .select('inboxes.id')
    .where('inboxes.account_id', '=', ctx.accountId)
    .where('inbox_members.user_id', '=', ctx.user.id)
    .execute();
  return rows.map((r) => r.id);
}

export async function canAccessInbox(db: Executor, ctx: AccountContext, inboxId: number): Promise<boolean> {
  if (ctx.isAdmin) return !!(await findInbox(db, ctx.accountId, inboxId));
  const row = await db
    .selectFrom('inbox_members')
    .innerJoin('inboxes', 'inboxes.id', 'inbox_members.inbox_id')
    .select('inboxes.id')
    .where('inboxes.account_id', '=', ctx.accountId)
    .where('inbox_members.inbox_id', '=', inboxId)
    .where('inbox_members.user_id', '=', ctx.user.id)
    .executeTakeFirst();
  return !!row;
}

export type NewApiInbox = {
  name: string;
  webhook_url?: string | null;
  hmac_mandatory?: boolean;
  additional_attributes?: Record<string, unknown>;
};

/** Creates an inbox with its API channel (identifier, hmac_token and signing secret generated). */
export async function insertApiInbox(db: Executor, accountId: number, input: NewApiInbox): Promise<number> {
  const t = now();
  const channel = await db
    .insertInto('channel_api')
    .values({
      account_id: accountId,
      webhook_url: input.webhook_url || null,
      identifier: secureToken(18),
      hmac_token: secureToken(18),
      hmac_mandatory: bit(input.hmac_mandatory),
      secret: webhookSecret(),
      previous_secret: null,
      secret_rotated_at: null,
      additional_attributes: toJson(input.additional_attributes ?? {}),
      created_at: t,
      updated_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const inbox = await db
    .insertInto('inboxes')
    .values({
      account_id: accountId,
      name: input.name,
      channel_type: 'Channel::Api',
      channel_id: channel.id,
      greeting_enabled: 0,
      greeting_message: null,
      enable_auto_assignment: 1,
      working_hours_enabled: 0,
      out_of_office_message: null,
      timezone: 'UTC',
      enable_email_collect: 1,
      csat_survey_enabled: 0,
      allow_messages_after_resolved: 1,
      lock_to_single_conversation: 0,
      sender_name_type: 0,
      business_name: null,
      created_at: t,
      updated_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return inbox.id;
}

export async function addInboxMembers(db: Executor, inboxId: number, userIds: number[]) {
  if (!userIds.length) return;
  const t = now();
  await db
    .insertInto('inbox_members')
    .values(userIds.map((user_id) => ({ inbox_id: inboxId, user_id, created_at: t })))
    .onConflict((oc) => oc.columns(['inbox_id', 'user_id']).doNothing())
    .execute();
}

/* ---- added for the inbox API (issue 2): updates, deletion, secret rotation, member sets ---- */

/** The inbox's own settings (not its ids, account, channel or times). */
export type InboxPatch = Partial<Omit<Selectable<InboxesTable>, 'id' | 'account_id' | 'channel_type' | 'channel_id' | 'created_at' | 'updated_at'>>;

export type ChannelPatch = Partial<Pick<Selectable<ChannelApiTable>, 'webhook_url' | 'hmac_mandatory' | 'additional_attributes'>>;

export async function updateInboxRow(db: Executor, accountId: number, inboxId: number, patch: InboxPatch): Promise<void> {
  if (!Object.keys(patch).length) return;
  await db
    .updateTable('inboxes')
    .set({ ...patch, updated_at: now() })
    .where('account_id', '=', accountId)
    .where('id', '=', inboxId)
    .execute();
}

export async function updateChannelRow(db: Executor, accountId: number, channelId: number, patch: ChannelPatch): Promise<void> {
  if (!Object.keys(patch).length) return;
  await db
    .updateTable('channel_api')
    .set({ ...patch, updated_at: now() })
    .where('account_id', '=', accountId)
    .where('id', '=', channelId)
    .execute();
}

/** Replaces the signing secret, keeping the old one (with the rotation time) so deliveries can carry both for a while. */
export async function rotateChannelSecret(db: Executor, accountId: number, channelId: number, oldSecret: string): Promise<string> {
  const secret = webhookSecret();
  const t = now();
  await db
    .updateTable('channel_api')
    .set({ secret, previous_secret: oldSecret, secret_rotated_at: t, updated_at: t })
    .where('account_id', '=', accountId)
    .where('id', '=', channelId)
    .execute();
  return secret;
}

/** Deletes the inbox (its members, contact sessions, conversations and messages go with it) and its channel. */
export async function deleteInboxRow(db: Executor, accountId: number, inboxId: number, channelId: number): Promise<void> {
  await db.deleteFrom('inboxes').where('account_id', '=', accountId).where('id', '=', inboxId).execute();
  await db.deleteFrom('channel_api').where('account_id', '=', accountId).where('id', '=', channelId).execute();
}

export async function inboxMemberIds(db: Executor, inboxId: number): Promise<number[]> {
  const rows = await db.selectFrom('inbox_members').select('user_id').where('inbox_id', '=', inboxId).orderBy('user_id').execute();
  return rows.map((r) => r.user_id);
}

export async function removeInboxMembers(db: Executor, inboxId: number, userIds: number[]): Promise<void> {
  if (!userIds.length) return;
  await db.deleteFrom('inbox_members').where('inbox_id', '=', inboxId).where('user_id', 'in', userIds).execute();
}

/** Makes the member set exactly `userIds`. */
export async function setInboxMembers(db: Executor, inboxId: number, userIds: number[]): Promise<void> {
  let q = db.deleteFrom('inbox_members').where('inbox_id', '=', inboxId);
  if (userIds.length) q = q.where('user_id', 'not in', userIds);
  await q.execute();
  await addInboxMembers(db, inboxId, userIds);
}

/** Name, channel type and channel attributes of these inboxes of the account (conversation bundles). */
export async function inboxSummaries(db: Executor, accountId: number, inboxIds: number[]) {
  if (!inboxIds.length) return [];
  return db
    .selectFrom('inboxes')
    .innerJoin('channel_api', 'channel_api.id', 'inboxes.channel_id')
    .select(['inboxes.id', 'inboxes.name', 'inboxes.channel_type', 'channel_api.additional_attributes'])
    .where('inboxes.account_id', '=', accountId)
    .where('inboxes.id', 'in', [...new Set(inboxIds)])
    .execute();
}

/** Whether the user is a member of the inbox. */
export async function isInboxMember(db: Executor, inboxId: number, userId: number): Promise<boolean> {
  const row = await db.selectFrom('inbox_members').select('id').where('inbox_id', '=', inboxId).where('user_id', '=', userId).executeTakeFirst();
  return !!row;
}
