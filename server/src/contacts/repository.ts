import { sql, type Selectable } from 'kysely';
import type { Dialect, Executor } from '../kernel/db.js';
import { now, precompiled } from '../kernel/db.js';
import { escapeLike } from '../kernel/json-repository.js';
import { jsonText } from '../kernel/json-repository.js';
import type { ContactInboxesTable, ContactsTable, DB } from '../kernel/schema.js';

/** Every query on contacts and contact_inboxes; each one is scoped by account. */

export type ContactRow = Selectable<ContactsTable>;
export type ContactInboxRow = Selectable<ContactInboxesTable>;
/** A contact_inbox with the inbox columns the slim inbox JSON needs. */
export type ContactInboxWithInbox = ContactInboxRow & {
  inbox_name: string;
  inbox_channel_id: number;
  inbox_channel_type: string;
  inbox_account_id: number;
};

export async function findContact(db: Executor, accountId: number, id: number): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
}

/** Internal lookup by id (presenters/loaders, which work from event payloads). */
export async function findContactById(db: Executor, id: number): Promise<ContactRow | undefined> {
  return db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findContactsByIds(db: Executor, ids: number[]): Promise<ContactRow[]> {
  if (!ids.length) return [];
  return db.selectFrom('contacts').selectAll().where('id', 'in', [...new Set(ids)]).execute();
}

/** The account's contact with this email, phone number or identifier. */
export async function findContactBy(
  db: Executor,
  accountId: number,
  column: 'email' | 'phone_number' | 'identifier',
  value: string | null | undefined,
): Promise<ContactRow | undefined> {
  if (!value) return undefined;
  return db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where(column, '=', value).executeTakeFirst();
}

export type UniqueKeys = { email?: string | null; phone_number?: string | null; identifier?: string | null };

/** The first contact of the account holding one of these unique values, and which ones it holds. */
export async function findConflict(
  db: Executor,
  accountId: number,
  keys: UniqueKeys,
  exceptId?: number,
): Promise<{ contact: ContactRow; attributes: (keyof UniqueKeys)[] } | undefined> {
  const wanted = (['email', 'phone_number', 'identifier'] as const).filter((k) => keys[k] != null && keys[k] !== '');
  if (!wanted.length) return undefined;
  let q = db
    .selectFrom('contacts')
    .selectAll()
    .where('account_id', '=', accountId)
    .where((eb) => eb.or(wanted.map((k) => eb(k, '=', keys[k] as string))));
  if (exceptId !== undefined) q = q.where('id', '!=', exceptId);
  const rows = await q.orderBy('id').execute();
  if (!rows.length) return undefined;
  const contact = rows[0];
  return { contact, attributes: wanted.filter((k) => contact[k] === keys[k]) };
}

/** The columns a new contact is given; the rest are set on insert. */
export type NewContact = Pick<ContactRow, 'name' | 'email' | 'phone_number' | 'identifier' | 'additional_attributes' | 'custom_attributes' | 'blocked'>;

export async function insertContact(db: Executor, accountId: number, values: NewContact): Promise<ContactRow> {
  const t = now();
  return db
    .insertInto('contacts')
    .values({ account_id: accountId, ...values, contact_type: 0, last_activity_at: null, created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export type ContactPatch = Partial<NewContact & { last_activity_at: number | null }>;

export async function updateContact(db: Executor, accountId: number, id: number, patch: ContactPatch): Promise<ContactRow | undefined> {
  return db
    .updateTable('contacts')
    .set({ ...patch, updated_at: now() })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

const touchContact = precompiled<[number, number], ContactRow>((db, arg) =>
  db.updateTable('contacts').set({ last_activity_at: arg(0) }).where('id', '=', arg(1)).returningAll(),
);

/** Marks the contact active (each incoming message); returns the contact as it is now, the message's sender. */
export async function touchContactActivity(db: Executor, id: number, at: number): Promise<ContactRow | undefined> {
  return touchContact.first(db, at, id);
}

/** Deletes the contact; its contact_inboxes, conversations and messages go with it (ON DELETE CASCADE). */
export async function deleteContact(db: Executor, accountId: number, id: number): Promise<boolean> {
  const res = await db.deleteFrom('contacts').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export const CONTACT_SORTS = ['email', 'name', 'phone_number', 'last_activity_at', 'created_at', 'company_name', 'city', 'country'] as const;
export type ContactSort = { column: (typeof CONTACT_SORTS)[number]; desc: boolean };
export type ContactListQuery = {
  page: number;
  perPage: number;
  sort?: ContactSort;
  /** Contacts with any of these labels. */
  labels?: string[];
};

/**
 * The sort key of a column: names case-insensitively; company_name, city and country from
 * additional_attributes, as the reference's order_on_company_name/city/country_name scopes do.
 */
function sortExpression(dialect: Dialect, column: ContactSort['column']) {
  if (column === 'name') return sql`lower(contacts.name)`;
  if (column === 'company_name' || column === 'city' || column === 'country') return jsonText(dialect, 'contacts.additional_attributes', column);
  return sql.ref(`contacts.${column}`);
}

/** Orders a contact query: the sort (nulls last in both directions, on both dialects), else the most recently active; id breaks ties. */
export function ordered<Q extends { orderBy: (...args: any[]) => Q }>(q: Q, dialect: Dialect, sort?: ContactSort): Q {
  const expr = sort ? sortExpression(dialect, sort.column) : sql.ref('contacts.last_activity_at');
  const desc = sort ? sort.desc : true;
  return q
    .orderBy(sql`case when ${expr} is null then 1 else 0 end`)
    .orderBy(expr, desc ? 'desc' : 'asc')
    .orderBy('contacts.id', 'desc');
}

/** "Resolved" contacts only (with an email, phone or identifier), as the reference lists them. */
function listBase(db: Executor, accountId: number, labels?: string[]) {
  let query = db
    .selectFrom('contacts')
    .where('contacts.account_id', '=', accountId)
    .where((eb) =>
      eb.or([
        eb.and([eb('contacts.email', 'is not', null), eb('contacts.email', '!=', '')]),
        eb.and([eb('contacts.phone_number', 'is not', null), eb('contacts.phone_number', '!=', '')]),
        eb.and([eb('contacts.identifier', 'is not', null), eb('contacts.identifier', '!=', '')]),
      ]),
    );
  const wanted = (labels ?? []).map((l) => l.trim()).filter(Boolean);
  if (wanted.length) {
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom('contact_labels')
          .select('contact_labels.id')
          .whereRef('contact_labels.contact_id', '=', 'contacts.id')
          .where('contact_labels.account_id', '=', accountId)
          .where('contact_labels.label', 'in', wanted),
      ),
    );
  }
  return query;
}

/** A page of the account's resolved contacts, and how many there are in all (`meta.count` of the list). */
export async function listContacts(db: Executor, dialect: Dialect, accountId: number, query: ContactListQuery): Promise<{ rows: ContactRow[]; count: number }> {
  const base = listBase(db, accountId, query.labels);
  const countRow = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const list = await ordered(base.selectAll('contacts'), dialect, query.sort)
    .limit(query.perPage)
    .offset((query.page - 1) * query.perPage)
    .execute();
  return { rows: list, count: Number(countRow?.n ?? 0) };
}

/**
 * `GET /contacts/search`: every contact of the account (not only resolved ones) whose name, email or
 * phone number contains `q` case-insensitively, whose identifier contains it (case-sensitive), or
 * whose id it is; a page of them and how many match in all.
 */
export async function searchContacts(
  db: Executor,
  dialect: Dialect,
  accountId: number,
  query: { q: string; page: number; perPage: number; sort?: ContactSort },
): Promise<{ rows: ContactRow[]; count: number }> {
  const pattern = `%${escapeLike(query.q.toLowerCase())}%`;
  const exact = `%${escapeLike(query.q)}%`;
  const id = /^\d{1,9}$/.test(query.q) ? Number(query.q) : null;
  const base = db
    .selectFrom('contacts')
    .where('contacts.account_id', '=', accountId)
    .where(
      sql<boolean>`(lower(contacts.name) like ${pattern} escape '\\' or lower(contacts.email) like ${pattern} escape '\\' or lower(contacts.phone_number) like ${pattern} escape '\\' or contacts.identifier like ${exact} escape '\\'${id !== null ? sql` or contacts.id = ${id}` : sql``})`,
    );
  const countRow = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const rows = await ordered(base.selectAll('contacts'), dialect, query.sort)
    .limit(query.perPage)
    .offset((query.page - 1) * query.perPage)
    .execute();
  return { rows, count: Number(countRow?.n ?? 0) };
}

/** The account's contacts among these ids (`GET /contacts/active`: those online), a page of them and their number. */
export async function listContactsByIds(
  db: Executor,
  dialect: Dialect,
  accountId: number,
  ids: number[],
  query: { page: number; perPage: number; sort?: ContactSort },
): Promise<{ rows: ContactRow[]; count: number }> {
  const wanted = [...new Set(ids)].filter((n) => Number.isInteger(n) && n > 0 && n <= 2_147_483_647);
  if (!wanted.length) return { rows: [], count: 0 };
  // One bound parameter whatever the number of ids (a list of 40 000 online contacts would pass
  // SQLite's limit of host parameters).
  const among =
    dialect === 'postgres'
      ? sql<boolean>`contacts.id = any(${`{${wanted.join(',')}}`}::int[])`
      : sql<boolean>`contacts.id in (select value from json_each(${JSON.stringify(wanted)}))`;
  const base = db.selectFrom('contacts').where('contacts.account_id', '=', accountId).where(among);
  const countRow = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const rows = await ordered(base.selectAll('contacts'), dialect, query.sort)
    .limit(query.perPage)
    .offset((query.page - 1) * query.perPage)
    .execute();
  return { rows, count: Number(countRow?.n ?? 0) };
}

/* ---------------- labels ---------------- */

/** The labels of these contacts of the account, in the order they were given. */
export async function labelsOfContacts(db: Executor, accountId: number, contactIds: number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (!contactIds.length) return out;
  const rows = await db
    .selectFrom('contact_labels')
    .select(['contact_id', 'label'])
    .where('account_id', '=', accountId)
    .where('contact_id', 'in', [...new Set(contactIds)])
    .orderBy('id')
    .execute();
  for (const r of rows) out.set(r.contact_id, [...(out.get(r.contact_id) ?? []), r.label]);
  return out;
}

export async function replaceContactLabels(db: Executor, accountId: number, contactId: number, labels: string[]): Promise<void> {
  await db.deleteFrom('contact_labels').where('account_id', '=', accountId).where('contact_id', '=', contactId).execute();
  if (!labels.length) return;
  await db
    .insertInto('contact_labels')
    .values(labels.map((label) => ({ contact_id: contactId, account_id: accountId, label })))
    .execute();
}

/** Locks the contact row for a read-modify-write (PostgreSQL; SQLite transactions are serial). */
export async function lockContact(db: Executor, dialect: Dialect, accountId: number, id: number): Promise<ContactRow | undefined> {
  const q = db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where('id', '=', id);
  return (dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
}


/* ---------------- contact inboxes ---------------- */

function contactInboxSelect(db: Executor) {
  return db
    .selectFrom('contact_inboxes')
    .innerJoin('inboxes', 'inboxes.id', 'contact_inboxes.inbox_id')
    .selectAll('contact_inboxes')
    .select([
      'inboxes.name as inbox_name',
      'inboxes.channel_id as inbox_channel_id',
      'inboxes.channel_type as inbox_channel_type',
      'inboxes.account_id as inbox_account_id',
    ]);
}

/** The contact_inboxes of these contacts, optionally only those in the given inboxes. */
export async function contactInboxesOf(db: Executor, contactIds: number[], inboxIds?: number[]): Promise<ContactInboxWithInbox[]> {
  if (!contactIds.length || (inboxIds && !inboxIds.length)) return [];
  let q = contactInboxSelect(db).where('contact_inboxes.contact_id', 'in', [...new Set(contactIds)]);
  if (inboxIds) q = q.where('contact_inboxes.inbox_id', 'in', inboxIds);
  return q.orderBy('contact_inboxes.id').execute();
}

export async function findContactInboxById(db: Executor, id: number): Promise<ContactInboxWithInbox | undefined> {
  return contactInboxSelect(db).where('contact_inboxes.id', '=', id).executeTakeFirst();
}

/** A session by source_id in one inbox of the account. */
export async function findContactInboxBySource(
  db: Executor,
  accountId: number,
  inboxId: number,
  sourceId: string,
): Promise<ContactInboxWithInbox | undefined> {
  return contactInboxSelect(db)
    .where('inboxes.account_id', '=', accountId)
    .where('contact_inboxes.inbox_id', '=', inboxId)
    .where('contact_inboxes.source_id', '=', sourceId)
    .executeTakeFirst();
}

/** Sessions with this source_id in any inbox of the account (the legacy lookup by source_id alone). */
export async function findContactInboxesBySourceAnyInbox(db: Executor, accountId: number, sourceId: string): Promise<ContactInboxWithInbox[]> {
  return contactInboxSelect(db)
    .where('inboxes.account_id', '=', accountId)
    .where('contact_inboxes.source_id', '=', sourceId)
    .orderBy('contact_inboxes.id')
    .limit(2)
    .execute();
}

export type NewContactInbox = { contact_id: number; inbox_id: number; source_id: string; hmac_verified: number; pubsub_token: string };

export async function insertContactInbox(db: Executor, values: NewContactInbox): Promise<ContactInboxRow> {
  const t = now();
  return db
    .insertInto('contact_inboxes')
    .values({ ...values, created_at: t, updated_at: t })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function setContactInboxVerified(db: Executor, id: number): Promise<void> {
  await db.updateTable('contact_inboxes').set({ hmac_verified: 1, updated_at: now() }).where('id', '=', id).execute();
}

export async function findAccountRef(db: Executor, accountId: number): Promise<{ id: number; name: string } | undefined> {
  return db.selectFrom('accounts').select(['id', 'name']).where('id', '=', accountId).executeTakeFirst();
}

/** Contact sessions by id, in inboxes of the account. */
export async function contactInboxesByIds(db: Executor, accountId: number, ids: number[]): Promise<ContactInboxRow[]> {
  if (!ids.length) return [];
  return db
    .selectFrom('contact_inboxes')
    .innerJoin('inboxes', 'inboxes.id', 'contact_inboxes.inbox_id')
    .selectAll('contact_inboxes')
    .where('inboxes.account_id', '=', accountId)
    .where('contact_inboxes.id', 'in', [...new Set(ids)])
    .execute();
}
