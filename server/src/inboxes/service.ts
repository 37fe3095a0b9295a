import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import { bit, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { jsonObject } from '../kernel/http.js';
import {
  canAccessInbox,
  deleteInboxRow,
  findInbox,
  insertApiInbox,
  listInboxes,
  rotateChannelSecret,
  updateChannelRow,
  updateInboxRow,
  type ChannelPatch,
  type InboxPatch,
  type InboxWithChannel,
} from './repository.js';
import { SENDER_NAME_TYPES } from './presenter.js';
import { applyWorkingHours } from './working-hours.js';
import type { ChannelInput, InboxCreateInput, InboxFieldsInput, InboxUpdateInput } from './schemas.js';

const SUPPORTED_CHANNELS = ['api'];
const ADDITIONAL_ATTRIBUTES_MAX_CHARS = 20_000;

/** Inboxes the caller may see: all of the account's for administrators, member inboxes for agents. */
export async function visibleInboxes(ctx: AppContext, auth: AccountContext): Promise<InboxWithChannel[]> {
  return listInboxes(ctx.database.db, auth.accountId, auth.isAdmin ? undefined : auth.user.id);
}

/** An inbox the caller may see, else 404 (another account's inbox, or an agent's non-member inbox). */
export async function visibleInbox(ctx: AppContext, auth: AccountContext, inboxId: number): Promise<InboxWithChannel> {
  const db = ctx.database.db;
  const inbox = (await canAccessInbox(db, auth, inboxId)) ? await findInbox(db, auth.accountId, inboxId) : undefined;
  if (!inbox) throw errors.notFound();
  return inbox;
}

/* ---- input checks: everything is validated before anything is written ---- */

function webhookUrl(value: string | null | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value.trim() === '') return null;
  const v = value.trim();
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || !url.hostname || v.length > 2048) {
    throw errors.invalid('Webhook url must be an http(s) URL of at most 2048 characters', ['webhook_url']);
  }
  return v;
}

function additionalAttributes(value: unknown): string | undefined {
  const obj = jsonObject(value, 'additional_attributes');
  if (obj === undefined) return value === undefined ? undefined : '{}';
  const window = obj.agent_reply_time_window;
  if (window !== undefined && window !== null && window !== '' && !(Number(window) > 0)) {
    throw errors.invalid('Agent reply time window must be greater than 0', ['additional_attributes.agent_reply_time_window']);
  }
  const json = toJson(obj);
  if (json.length > ADDITIONAL_ATTRIBUTES_MAX_CHARS) throw errors.invalid('Additional attributes is too long', ['additional_attributes']);
  return json;
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const blankToNull = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === '' ? null : v);

function inboxPatch(input: InboxFieldsInput & { name?: string }, storedWorkingHours: string | null = null): InboxPatch {
  const p: InboxPatch = {};
  if (input.working_hours !== undefined) p.working_hours = applyWorkingHours(storedWorkingHours, input.working_hours);
  if (input.name !== undefined) {
    if (!input.name.trim()) throw errors.invalid("Name can't be blank", ['name']);
    p.name = input.name.trim();
  }
  const flags = [
    'greeting_enabled',
    'enable_auto_assignment',
    'working_hours_enabled',
    'enable_email_collect',
    'csat_survey_enabled',
    'allow_messages_after_resolved',
    'lock_to_single_conversation',
  ] as const;
  for (const f of flags) if (input[f] !== undefined) p[f] = bit(input[f]);
  if (input.greeting_message !== undefined) p.greeting_message = blankToNull(input.greeting_message);
  if (input.out_of_office_message !== undefined) p.out_of_office_message = blankToNull(input.out_of_office_message);
  if (input.business_name !== undefined) p.business_name = blankToNull(input.business_name);
  if (input.timezone !== undefined) {
    if (!validTimezone(input.timezone)) throw errors.invalid('Timezone is not a valid time zone', ['timezone']);
    p.timezone = input.timezone;
  }
  if (input.sender_name_type !== undefined) {
    const v = input.sender_name_type;
    p.sender_name_type = typeof v === 'number' ? v : SENDER_NAME_TYPES.indexOf(v);
  }
  return p;
}

/** The channel's editable attributes; a top-level `hmac_mandatory` counts as `channel.hmac_mandatory` (which wins). */
function channelPatch(input: ChannelInput | undefined, topLevelHmacMandatory?: boolean): ChannelPatch {
  const p: ChannelPatch = {};
  if (topLevelHmacMandatory !== undefined) p.hmac_mandatory = bit(topLevelHmacMandatory);
  if (!input) return p;
  const url = webhookUrl(input.webhook_url);
  if (url !== undefined) p.webhook_url = url;
  if (input.hmac_mandatory !== undefined) p.hmac_mandatory = bit(input.hmac_mandatory);
  const attrs = additionalAttributes(input.additional_attributes);
  if (attrs !== undefined) p.additional_attributes = attrs;
  return p;
}

/* ---- use cases ---- */

/** Creates an API inbox with its channel (identifier, hmac_token and signing secret generated) and records `inbox.created`. */
export async function createInbox(ctx: AppContext, auth: AccountContext, input: InboxCreateInput): Promise<InboxWithChannel> {
  const type = input.channel.type.trim().toLowerCase();
  if (!SUPPORTED_CHANNELS.includes(type)) {
    throw errors.invalid(`Channel type '${input.channel.type}' is not supported (supported: ${SUPPORTED_CHANNELS.join(', ')})`, ['channel.type']);
  }
  const { channel, hmac_mandatory, ...fields } = input;
  const inbox = inboxPatch(fields);
  const chan = channelPatch(channel, hmac_mandatory);
  return ctx.database.transaction(async (trx) => {
    const id = await insertApiInbox(trx, auth.accountId, {
      name: inbox.name!,
      webhook_url: chan.webhook_url ?? null,
      hmac_mandatory: !!chan.hmac_mandatory,
    });
    const created = (await findInbox(trx, auth.accountId, id))!;
    await updateInboxRow(trx, auth.accountId, id, inbox);
    if (chan.additional_attributes !== undefined) {
      await updateChannelRow(trx, auth.accountId, created.channel_id, { additional_attributes: chan.additional_attributes });
    }
    await ctx.events(trx, auth.accountId, 'inbox.created', { inbox_id: id });
    return (await findInbox(trx, auth.accountId, id))!;
  });
}

/** Edits inbox settings and the channel's editable attributes; records `inbox.updated` when something changed. */
export async function updateInbox(
  ctx: AppContext,
  auth: AccountContext,
  inboxId: number,
  input: InboxUpdateInput,
): Promise<InboxWithChannel> {
  const { channel, hmac_mandatory, ...fields } = input;
  const chan = channelPatch(channel, hmac_mandatory);
  return ctx.database.transaction(async (trx) => {
    const before = await findInbox(trx, auth.accountId, inboxId);
    if (!before) throw errors.notFound();
    // Working hours change day by day from the stored week, so the patch is computed from the row.
    const inbox = inboxPatch(fields, before.working_hours);
    const changed = [...Object.entries(inbox), ...Object.entries(chan)].some(
      ([k, v]) => (before as Record<string, unknown>)[k] !== v,
    );
    await updateInboxRow(trx, auth.accountId, inboxId, inbox);
    await updateChannelRow(trx, auth.accountId, before.channel_id, chan);
    if (changed) await ctx.events(trx, auth.accountId, 'inbox.updated', { inbox_id: inboxId });
    return (await findInbox(trx, auth.accountId, inboxId))!;
  });
}

export async function deleteInbox(ctx: AppContext, auth: AccountContext, inboxId: number): Promise<void> {
  await ctx.database.transaction(async (trx) => {
    const inbox = await findInbox(trx, auth.accountId, inboxId);
    if (!inbox) throw errors.notFound();
    await deleteInboxRow(trx, auth.accountId, inboxId, inbox.channel_id);
  });
}

/**
 * New signing secret for the inbox's callback. The old one is kept as previous_secret with
 * secret_rotated_at, so deliveries can carry both signatures during the overlap.
 */
export async function resetInboxSecret(ctx: AppContext, auth: AccountContext, inboxId: number): Promise<InboxWithChannel> {
  return ctx.database.transaction(async (trx) => {
    const inbox = await findInbox(trx, auth.accountId, inboxId);
    if (!inbox || inbox.channel_type !== 'Channel::Api') throw errors.notFound();
    await rotateChannelSecret(trx, auth.accountId, inbox.channel_id, inbox.secret);
    return (await findInbox(trx, auth.accountId, inboxId))!;
  });
}
