import crypto from 'node:crypto';
import type { AppContext } from '../context.js';
import type { AccountContext } from '../kernel/auth.js';
import type { Executor, Tx } from '../kernel/db.js';
import { bit, fromJson, isUniqueViolation, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { jsonObject } from '../kernel/http.js';
import { assertKnownCustomAttributes, customKeysOf, parseFilter } from '../kernel/filter.js';
import { secureToken } from '../kernel/tokens.js';
import { canAccessInbox, findInbox, visibleInboxIds, type InboxWithChannel } from '../inboxes/repository.js';
import { conversationsOfContact } from '../conversations/repository.js';
import { contactWebhookData } from './presenters.js';
import * as repo from './repository.js';
import * as filterRepo from './filter-repository.js';
import { attributeKeysInUse } from '../kernel/json-repository.js';
import type { ContactInboxWithInbox, ContactRow, NewContact } from './repository.js';

/** Contact use cases. Actor-free building blocks (`buildContactInbox`, `insertNewContact`) are reusable by the client API. */

export const CONTACTS_PER_PAGE = 15;
const EMAIL_RE = /^[^@\s]+@[^@\s]+$/;
const E164_RE = /^\+[1-9]\d{1,14}$/;

export type ContactFields = {
  name?: string;
  email?: string | null;
  phone_number?: string | null;
  identifier?: string | null;
  blocked?: boolean;
  additional_attributes?: unknown;
  custom_attributes?: unknown;
};

const blankToNull = (v: string | null | undefined) => (v == null ? v : v.trim() === '' ? null : v.trim());

/** Validates and normalises contact input (email lowercased, "" → null); 422 `{message, attributes}` on bad values. */
export function normalizeContactFields(input: ContactFields) {
  const out: { name?: string; email?: string | null; phone_number?: string | null; identifier?: string | null; blocked?: boolean } = {};
  const problems: string[] = [];
  const attributes: string[] = [];
  if (input.name !== undefined) out.name = input.name.trim();
  if (input.email !== undefined) {
    out.email = blankToNull(input.email)?.toLowerCase() ?? null;
    if (out.email && !EMAIL_RE.test(out.email)) (problems.push('Email is invalid'), attributes.push('email'));
  }
  if (input.phone_number !== undefined) {
    out.phone_number = blankToNull(input.phone_number) ?? null;
    if (out.phone_number && !E164_RE.test(out.phone_number)) {
      problems.push('Phone number should be in e164 format');
      attributes.push('phone_number');
    }
  }
  if (input.identifier !== undefined) out.identifier = blankToNull(input.identifier) ?? null;
  if (input.blocked !== undefined) out.blocked = input.blocked;
  const additional = jsonObject(input.additional_attributes, 'additional_attributes');
  const custom = jsonObject(input.custom_attributes, 'custom_attributes');
  if (problems.length) throw errors.invalid(problems.join(', '), attributes);
  return { ...out, additional, custom };
}

const CONFLICT_LABEL = { email: 'Email', phone_number: 'Phone number', identifier: 'Identifier' } as const;

/** 422 naming the existing contact when email, phone or identifier is taken in the account. */
async function assertUnique(db: Executor, accountId: number, keys: repo.UniqueKeys, exceptId?: number) {
  const hit = await repo.findConflict(db, accountId, keys, exceptId);
  if (!hit) return;
  const message = hit.attributes.map((a) => `${CONFLICT_LABEL[a]} has already been taken`).join(', ');
  const c = hit.contact;
  throw errors.invalid(message, hit.attributes, {
    contact: { id: c.id, name: c.name, email: c.email, phone_number: c.phone_number, identifier: c.identifier },
  });
}

/** Turns a unique-index race into the same 422 the pre-check gives. */
async function uniqueRace<T>(ctx: AppContext, accountId: number, keys: repo.UniqueKeys, exceptId: number | undefined, fn: () => Promise<T>) {
  try {
    return await fn();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    await assertUnique(ctx.database.db, accountId, keys, exceptId);
    throw errors.invalid('Source has already been taken', ['source_id']);
  }
}

/**
 * Finds or creates the contact's session in an inbox: the row for (inbox, source_id) is returned
 * unchanged when it is the contact's; a source_id used by another contact is a 422. A blank source_id
 * becomes a UUID. Runs in the caller's transaction.
 */
export async function buildContactInbox(
  trx: Executor,
  input: { accountId: number; contactId: number; inboxId: number; sourceId?: string | null; hmacVerified?: boolean },
): Promise<ContactInboxWithInbox> {
  const sourceId = input.sourceId?.trim() || crypto.randomUUID();
  const existing = await repo.findContactInboxBySource(trx, input.accountId, input.inboxId, sourceId);
  if (existing) {
    if (existing.contact_id !== input.contactId) throw errors.invalid('Source has already been taken', ['source_id']);
    return existing;
  }
  const row = await repo.insertContactInbox(trx, {
    contact_id: input.contactId,
    inbox_id: input.inboxId,
    source_id: sourceId,
    hmac_verified: bit(input.hmacVerified),
    pubsub_token: secureToken(24),
  });
  return (await repo.findContactInboxById(trx, row.id))!;
}

/** The inbox of the account an actor may use: another account's inbox is a 404, a non-member agent a 401. */
export async function accessibleInbox(ctx: AppContext, auth: AccountContext, inboxId: number): Promise<InboxWithChannel> {
  const inbox = await findInbox(ctx.database.db, auth.accountId, inboxId);
  if (!inbox) throw errors.notFound();
  if (!auth.isAdmin && !(await canAccessInbox(ctx.database.db, auth, inboxId))) throw errors.notAuthorized();
  return inbox;
}

/** Inserts a contact and records `contact.created`, in the caller's transaction. */
export async function insertNewContact(ctx: AppContext, trx: Tx, accountId: number, values: NewContact): Promise<ContactRow> {
  const contact = await repo.insertContact(trx, accountId, values);
  await ctx.events(trx, accountId, 'contact.created', { contact_id: contact.id });
  return contact;
}

export type CreateContactInput = ContactFields & { inbox_id?: number; source_id?: string };

export async function createContact(ctx: AppContext, auth: AccountContext, input: CreateContactInput) {
  const f = normalizeContactFields(input);
  const inbox = input.inbox_id !== undefined ? await accessibleInbox(ctx, auth, input.inbox_id) : undefined;
  const db = ctx.database.db;
  const keys = { email: f.email, phone_number: f.phone_number, identifier: f.identifier };
  await assertUnique(db, auth.accountId, keys);
  if (inbox && input.source_id?.trim() && (await repo.findContactInboxBySource(db, auth.accountId, inbox.id, input.source_id.trim()))) {
    throw errors.invalid('Source has already been taken', ['source_id']);
  }
  const values: NewContact = {
    name: f.name ?? '',
    email: f.email ?? null,
    phone_number: f.phone_number ?? null,
    identifier: f.identifier ?? null,
    additional_attributes: toJson(f.additional ?? {}),
    custom_attributes: toJson(f.custom ?? {}),
    blocked: bit(f.blocked),
  };
  return uniqueRace(ctx, auth.accountId, keys, undefined, () =>
    ctx.database.transaction(async (trx) => {
      const contact = await insertNewContact(ctx, trx, auth.accountId, values);
      const contactInbox = inbox
        ? await buildContactInbox(trx, { accountId: auth.accountId, contactId: contact.id, inboxId: inbox.id, sourceId: input.source_id })
        : null;
      return { contact, contactInbox, inbox: inbox ?? null };
    }),
  );
}

export async function getContact(ctx: AppContext, auth: AccountContext, id: number): Promise<ContactRow> {
  const c = await repo.findContact(ctx.database.db, auth.accountId, id);
  if (!c) throw errors.notFound();
  return c;
}

type Change = Record<string, { previous_value: unknown; current_value: unknown }>;

/**
 * Updates a contact, recording `contact.updated` with what changed, if anything did.
 * custom_attributes and additional_attributes are MERGED into the existing ones (the keys sent
 * change, the others stay), as the reference's contacts update does (chatwoot-api.md, Contacts:
 * "merged into the existing values, not replaced"); keys are removed with
 * POST /contacts/:id/destroy_custom_attributes.
 */
export async function updateContact(ctx: AppContext, accountId: number, id: number, input: ContactFields): Promise<ContactRow> {
  const f = normalizeContactFields(input);
  const db = ctx.database.db;
  const current = await repo.findContact(db, accountId, id);
  if (!current) throw errors.notFound();
  const keys = { email: f.email, phone_number: f.phone_number, identifier: f.identifier };
  await assertUnique(db, accountId, keys, id);
  const patch: repo.ContactPatch = {};
  if (f.name !== undefined) patch.name = f.name;
  if (f.email !== undefined) patch.email = f.email;
  if (f.phone_number !== undefined) patch.phone_number = f.phone_number;
  if (f.identifier !== undefined) patch.identifier = f.identifier;
  if (f.blocked !== undefined) patch.blocked = bit(f.blocked);
  if (f.additional) patch.additional_attributes = toJson({ ...fromJson<Record<string, unknown>>(current.additional_attributes), ...f.additional });
  if (f.custom) patch.custom_attributes = toJson({ ...fromJson<Record<string, unknown>>(current.custom_attributes), ...f.custom });
  const changes: Change[] = [];
  for (const [k, v] of Object.entries(patch) as [keyof repo.ContactPatch, unknown][]) {
    const before = current[k as keyof ContactRow];
    if (before === v) {
      delete patch[k];
      continue;
    }
    const json = k === 'additional_attributes' || k === 'custom_attributes';
    changes.push({
      [k]: {
        previous_value: json ? fromJson(before as string) : k === 'blocked' ? !!before : before,
        current_value: json ? fromJson(v as string) : k === 'blocked' ? !!v : v,
      },
    });
  }
  if (!changes.length) return current;
  return uniqueRace(ctx, accountId, keys, id, () =>
    ctx.database.transaction(async (trx) => {
      const row = await repo.updateContact(trx, accountId, id, patch);
      if (!row) throw errors.notFound();
      await ctx.events(trx, accountId, 'contact.updated', { contact_id: id, changed_attributes: changes });
      return row;
    }),
  );
}

/** Administrators only (the route's access policy); refused while the contact is online. The event carries a snapshot: the row (and its conversations) are gone afterwards. */
export async function deleteContact(ctx: AppContext, auth: AccountContext, id: number): Promise<void> {
  const online = await contactsOnline(ctx, auth.accountId);
  await ctx.database.transaction(async (trx) => {
    const c = await repo.findContact(trx, auth.accountId, id);
    if (!c) throw errors.notFound();
    // As the reference: a contact online right now is not deleted (422 {message}).
    if (online.has(c.id)) throw errors.invalid(`${c.name || 'The contact'} is online, please try again later`, []);
    const account = await repo.findAccountRef(trx, auth.accountId);
    await repo.deleteContact(trx, auth.accountId, id);
    await ctx.events(trx, auth.accountId, 'contact.deleted', {
      contact_id: id,
      contact: contactWebhookData(c, account ?? { id: auth.accountId, name: '' }),
    });
  });
}

function parseSort(sort: string | undefined): repo.ContactSort | undefined {
  if (!sort) return undefined;
  const desc = sort.startsWith('-');
  const column = sort.replace(/^-/, '') as (typeof repo.CONTACT_SORTS)[number];
  if (!repo.CONTACT_SORTS.includes(column)) {
    throw errors.invalid(`sort must be one of ${repo.CONTACT_SORTS.join(', ')} (prefix - for descending)`, ['sort']);
  }
  return { column, desc };
}

export type ContactPage = {
  rows: ContactRow[];
  /** Every matching contact (the list's, active and filter `meta.count`; search shows it as total_count). */
  count: number;
  page: number;
  totalPages: number;
  contactInboxes: Map<number, ContactInboxWithInbox[]> | null;
  /** The ids of the account's contacts online now (/cable presence). */
  online: ReadonlySet<number>;
};

type PageQuery = { page?: number; sort?: string; include_contact_inboxes?: boolean };

/** The ids of the account's contacts present on /cable now (every node's view with Redis), for availability_status. */
export async function contactsOnline(ctx: AppContext, accountId: number): Promise<Set<number>> {
  return new Set((await ctx.realtime?.presence.online(accountId, 'contact')) ?? []);
}

async function pageOf(ctx: AppContext, auth: AccountContext, query: PageQuery, found: { rows: ContactRow[]; count: number }, online?: Set<number>): Promise<ContactPage> {
  const page = query.page ?? 1;
  const contactInboxes = query.include_contact_inboxes === false ? null : await visibleContactInboxes(ctx, auth, found.rows.map((r) => r.id));
  return {
    rows: found.rows,
    count: found.count,
    page,
    totalPages: Math.ceil(found.count / CONTACTS_PER_PAGE),
    contactInboxes,
    online: online ?? (await contactsOnline(ctx, auth.accountId)),
  };
}

/** GET /contacts: the account's resolved contacts (with an email, phone or identifier), 15 per page; `labels` keeps those with any of them. */
export async function listContacts(ctx: AppContext, auth: AccountContext, query: PageQuery & { labels?: string[] }): Promise<ContactPage> {
  const found = await repo.listContacts(ctx.database.db, ctx.database.dialect, auth.accountId, {
    page: query.page ?? 1,
    perPage: CONTACTS_PER_PAGE,
    sort: parseSort(query.sort),
    labels: query.labels,
  });
  return pageOf(ctx, auth, query, found);
}

/**
 * GET /contacts/search: every contact of the account (named-only ones too) by name, email, phone
 * number, identifier or id. The page's `count` is the number of contacts on this page, as the
 * reference's; `total` (every match) gives total_count, total_pages and has_more.
 */
export async function searchContacts(ctx: AppContext, auth: AccountContext, query: PageQuery & { q?: string }): Promise<ContactPage> {
  const q = query.q?.trim();
  if (!q) throw errors.unprocessable('Specify search string with parameter q');
  const found = await repo.searchContacts(ctx.database.db, ctx.database.dialect, auth.accountId, {
    q,
    page: query.page ?? 1,
    perPage: CONTACTS_PER_PAGE,
    sort: parseSort(query.sort),
  });
  return pageOf(ctx, auth, query, found);
}

/** GET /contacts/active: the account's contacts online now on /cable, 15 per page. */
export async function activeContacts(ctx: AppContext, auth: AccountContext, query: PageQuery): Promise<ContactPage> {
  const online = await contactsOnline(ctx, auth.accountId);
  const found = await repo.listContactsByIds(ctx.database.db, ctx.database.dialect, auth.accountId, [...online], {
    page: query.page ?? 1,
    perPage: CONTACTS_PER_PAGE,
    sort: parseSort(query.sort),
  });
  return pageOf(ctx, auth, query, found, online);
}

/**
 * POST /contacts/filter: the reference's filter payload (src/kernel/filter.ts) over every contact of
 * the account. A custom attribute must be one some contact of the account has (the reference wants a
 * custom attribute definition; an unknown key is a 422 there too).
 */
export async function filterContacts(ctx: AppContext, auth: AccountContext, body: unknown, query: PageQuery): Promise<ContactPage> {
  const conditions = parseFilter(body, filterRepo.CONTACT_FILTER_SPEC);
  const db = ctx.database.db;
  const dialect = ctx.database.dialect;
  const customKeys = customKeysOf(conditions);
  if (customKeys.length) assertKnownCustomAttributes(conditions, await attributeKeysInUse(db, dialect, 'contacts', auth.accountId, customKeys), filterRepo.CONTACT_FILTER_SPEC);
  const found = await filterRepo.filterContacts(db, dialect, auth.accountId, conditions, {
    page: query.page ?? 1,
    perPage: CONTACTS_PER_PAGE,
    sort: parseSort(query.sort),
  });
  return pageOf(ctx, auth, query, found);
}

/** What a single contact's JSON needs besides the row: its visible sessions and its presence. */
export async function contactView(ctx: AppContext, auth: AccountContext, contact: ContactRow) {
  const [cis, online] = await Promise.all([visibleContactInboxes(ctx, auth, [contact.id]), contactsOnline(ctx, auth.accountId)]);
  return { contactInboxes: cis.get(contact.id) ?? [], availability: online.has(contact.id) ? ('online' as const) : ('offline' as const) };
}

/* ---------------- labels and custom attributes ---------------- */

export const MAX_CONTACT_LABELS = 100;

export async function getContactLabels(ctx: AppContext, auth: AccountContext, contactId: number): Promise<string[]> {
  const contact = await getContact(ctx, auth, contactId);
  return (await repo.labelsOfContacts(ctx.database.db, auth.accountId, [contact.id])).get(contact.id) ?? [];
}

/**
 * POST /contacts/:id/labels: replaces the whole label list, as conversation labels do (titles trimmed,
 * blanks dropped, de-duplicated, order kept). Label titles are free strings, like the reference's tags.
 */
export async function setContactLabels(ctx: AppContext, auth: AccountContext, contactId: number, labels: string[] | undefined): Promise<string[]> {
  const next = [...new Set((labels ?? []).map((l) => String(l).trim()).filter(Boolean))];
  if (next.length > MAX_CONTACT_LABELS) throw errors.invalid(`labels has too many entries (at most ${MAX_CONTACT_LABELS})`, ['labels']);
  return ctx.database.transaction(async (trx) => {
    const contact = await repo.lockContact(trx, ctx.database.dialect, auth.accountId, contactId);
    if (!contact) throw errors.notFound();
    const before = (await repo.labelsOfContacts(trx, auth.accountId, [contact.id])).get(contact.id) ?? [];
    const same = before.length === next.length && before.every((l, i) => l === next[i]);
    if (!same) await repo.replaceContactLabels(trx, auth.accountId, contact.id, next);
    return next;
  });
}

/**
 * POST /contacts/:id/destroy_custom_attributes: removes these keys from custom_attributes (unknown
 * keys are ignored) and answers the contact; `contact.updated` is recorded when something went.
 */
export async function destroyCustomAttributes(ctx: AppContext, accountId: number, contactId: number, keys: string[]): Promise<ContactRow> {
  const drop = new Set(keys.map(String));
  return ctx.database.transaction(async (trx) => {
    const current = await repo.lockContact(trx, ctx.database.dialect, accountId, contactId);
    if (!current) throw errors.notFound();
    const before = fromJson<Record<string, unknown>>(current.custom_attributes);
    const after = Object.fromEntries(Object.entries(before).filter(([k]) => !drop.has(k)));
    if (Object.keys(after).length === Object.keys(before).length) return current;
    const row = await repo.updateContact(trx, accountId, contactId, { custom_attributes: toJson(after) });
    if (!row) throw errors.notFound();
    await ctx.events(trx, accountId, 'contact.updated', {
      contact_id: contactId,
      changed_attributes: [{ custom_attributes: { previous_value: before, current_value: after } }],
    });
    return row;
  });
}

/** Contact inboxes of these contacts that the actor may see (agents: their inboxes only). */
export async function visibleContactInboxes(ctx: AppContext, auth: AccountContext, contactIds: number[]) {
  const db = ctx.database.db;
  const inboxIds = auth.isAdmin ? undefined : await visibleInboxIds(db, auth);
  const out = new Map<number, ContactInboxWithInbox[]>();
  for (const ci of await repo.contactInboxesOf(db, contactIds, inboxIds)) {
    if (ci.inbox_account_id !== auth.accountId) continue;
    out.set(ci.contact_id, [...(out.get(ci.contact_id) ?? []), ci]);
  }
  return out;
}

/** The contact's 20 most recent conversations in the inboxes the actor may see. */
export async function contactConversations(ctx: AppContext, auth: AccountContext, contactId: number) {
  const contact = await getContact(ctx, auth, contactId);
  const db = ctx.database.db;
  return conversationsOfContact(db, auth.accountId, contact.id, await visibleInboxIds(db, auth));
}

/** POST /contacts/:id/contact_inboxes. */
export async function addContactInbox(
  ctx: AppContext,
  auth: AccountContext,
  contactId: number,
  input: { inbox_id: number; source_id?: string; hmac_verified?: boolean },
): Promise<ContactInboxWithInbox> {
  await getContact(ctx, auth, contactId);
  const inbox = await accessibleInbox(ctx, auth, input.inbox_id);
  try {
    return await ctx.database.transaction((trx) =>
      buildContactInbox(trx, {
        accountId: auth.accountId,
        contactId,
        inboxId: inbox.id,
        sourceId: input.source_id,
        hmacVerified: input.hmac_verified,
      }),
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw errors.invalid('Source has already been taken', ['source_id']);
    throw err;
  }
}
