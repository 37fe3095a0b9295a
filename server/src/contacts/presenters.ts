import type { Executor } from '../kernel/db.js';
import { fromJson, unix } from '../kernel/db.js';
import { presentInboxRecord, presentInboxSlim } from '../inboxes/presenter.js';
import type { InboxWithChannel } from '../inboxes/repository.js';
import { pageMeta } from '../kernel/presenters.js';
import type { ContactPage } from './service.js';
import {
  findAccountRef,
  findContactById,
  type ContactInboxRow,
  type ContactInboxWithInbox,
  type ContactRow,
} from './repository.js';

/**
 * Contact JSON, one builder per audience: the Application API (`_contact`), push data (sockets,
 * message senders) and webhook data. Payloads for sockets and webhooks never carry pubsub tokens.
 */

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(Number(ms)).toISOString());

/** The inbox columns a contact_inbox is loaded with, as an inbox. */
const inboxOf = (ci: ContactInboxWithInbox) => ({ id: ci.inbox_id, channel_id: ci.inbox_channel_id, name: ci.inbox_name, channel_type: ci.inbox_channel_type });

/**
 * A contact_inbox entry of the Application API: `{source_id, inbox}`. The session's pubsub_token is
 * included too: the API caller is an agent of the inbox, and the seed tells integrators to subscribe
 * to /cable with the token returned when the contact is created.
 */
export function presentContactInbox(ci: ContactInboxWithInbox) {
  return { source_id: ci.source_id, pubsub_token: ci.pubsub_token, hmac_verified: !!ci.hmac_verified, inbox: presentInboxSlim(inboxOf(ci)) };
}

/** `_contact`: the Application API contact. `contactInboxes` is given on the /contacts endpoints. */
export function presentContact(c: ContactRow, opts: { contactInboxes?: ContactInboxWithInbox[]; availability?: 'online' | 'offline' } = {}) {
  const out = {
    additional_attributes: fromJson(c.additional_attributes),
    availability_status: opts.availability ?? 'offline',
    email: c.email,
    id: c.id,
    name: c.name,
    phone_number: c.phone_number,
    blocked: !!c.blocked,
    identifier: c.identifier,
    thumbnail: '',
    custom_attributes: fromJson(c.custom_attributes),
    // A contact never active has no last_activity_at: the key is left out, as the reference's
    // partial does, rather than a null where its schema says number.
    ...(c.last_activity_at != null ? { last_activity_at: unix(c.last_activity_at)! } : {}),
    created_at: unix(c.created_at)!,
    updated_at: unix(c.updated_at)!,
  };
  return opts.contactInboxes ? { ...out, contact_inboxes: opts.contactInboxes.map(presentContactInbox) } : out;
}
export type ContactJson = ReturnType<typeof presentContact>;

/** The contact fields push data and webhook data share, in the reference's order. */
function contactFields(c: ContactRow) {
  return {
    additional_attributes: fromJson(c.additional_attributes),
    custom_attributes: fromJson(c.custom_attributes),
    email: c.email,
    id: c.id,
    identifier: c.identifier,
    name: c.name,
    phone_number: c.phone_number,
    thumbnail: '',
    blocked: !!c.blocked,
  };
}

/** `contact.push_event_data`: the sender shape in message JSON and socket frames. */
export function contactPushData(c: ContactRow) {
  return { ...contactFields(c), type: 'contact' as const };
}

/** `contact.webhook_data` (no `type` key; message senders add it, see src/messages/presenters.ts). */
export function contactWebhookData(c: ContactRow, account: { id: number; name: string }) {
  const { additional_attributes, ...rest } = contactFields(c);
  // `avatar` stands between additional_attributes and custom_attributes, as in the reference.
  return { account: { id: account.id, name: account.name }, additional_attributes, avatar: '', ...rest };
}

/** The contact_inbox record as conversation push/webhook data show it, without its pubsub_token. */
export function contactInboxRecord(ci: ContactInboxRow) {
  return {
    id: ci.id,
    contact_id: ci.contact_id,
    inbox_id: ci.inbox_id,
    source_id: ci.source_id,
    created_at: iso(ci.created_at),
    updated_at: iso(ci.updated_at),
    hmac_verified: !!ci.hmac_verified,
  };
}

/** Contact webhook data by internal id, or null when the contact is gone. */
export async function loadContactWebhookData(db: Executor, contactId: number): Promise<Record<string, unknown> | null> {
  const c = await findContactById(db, contactId);
  if (!c) return null;
  const account = await findAccountRef(db, c.account_id);
  if (!account) return null;
  return contactWebhookData(c, account);
}

/** Contact push data (socket frames) by internal id, or null when the contact is gone. */
export async function loadContactPushData(db: Executor, contactId: number): Promise<Record<string, unknown> | null> {
  const c = await findContactById(db, contactId);
  return c ? { ...contactPushData(c), account_id: c.account_id } : null;
}

/** `POST /contacts`: the contact (with its contact inboxes) and the session created in `inbox_id`, if any. */
export function presentCreatedContact(contact: ContactJson, session: { contactInbox: ContactInboxRow | null; inbox: InboxWithChannel | null }) {
  return {
    payload: {
      contact,
      contact_inbox: {
        inbox: session.inbox ? presentInboxRecord(session.inbox) : null,
        source_id: session.contactInbox?.source_id ?? null,
        pubsub_token: session.contactInbox?.pubsub_token ?? null,
      },
    },
  };
}

const pageRows = (page: ContactPage) =>
  page.rows.map((c) =>
    presentContact(c, {
      availability: page.online.has(c.id) ? 'online' : 'offline',
      ...(page.contactInboxes ? { contactInboxes: page.contactInboxes.get(c.id) ?? [] } : {}),
    }),
  );

/** A page of `GET /contacts`, `GET /contacts/active` and `POST /contacts/filter`: `count` is every matching contact. */
export const presentContactPage = (page: ContactPage) => ({ meta: pageMeta(page.count, page.page, page.totalPages), payload: pageRows(page) });

/**
 * A page of `GET /contacts/search`. As the reference's, `count` is the number of contacts on this
 * page and `has_more` says whether another follows; total_count and total_pages count every match.
 */
export const presentContactSearchPage = (page: ContactPage) => ({
  meta: { count: page.rows.length, current_page: page.page, has_more: page.page < page.totalPages, total_count: page.count, total_pages: page.totalPages },
  payload: pageRows(page),
});
