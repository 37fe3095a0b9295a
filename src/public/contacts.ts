import crypto from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Executor, Tx } from '../kernel/db.js';
import { fromJson, isUniqueViolation, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import * as contactsRepo from '../contacts/repository.js';
import type { ContactPatch, ContactRow } from '../contacts/repository.js';
import { buildContactInbox, insertNewContact, normalizeContactFields } from '../contacts/service.js';
import { setContactInboxVerified } from '../contacts/repository.js';
import { claimedIdentifier, decideCreate, decideUpdate, presentedHashes, type IdentityDecision } from './identity.js';
import { checkAttributes } from './limits.js';
import { hasVerifiedSession } from './repository.js';
import { findSession, identityState, openSession, resolveInbox, type Session } from './session.js';
import type { ContactCreateBody, ContactUpdateBody } from './schemas.js';

/**
 * Contact create / show / update of the client API. Identity decisions (identity.ts) are taken
 * before anything is written; each use case writes in one transaction. Unique values (identifier,
 * email, phone) held by another contact are a 422 `{message, attributes}` naming only the attribute:
 * contacts are never merged and another contact's data never appears in an error.
 */

const LABEL = { email: 'Email', phone_number: 'Phone number', identifier: 'Identifier' } as const;
type UniqueKey = keyof typeof LABEL;

function taken(keys: UniqueKey[]) {
  return errors.invalid(keys.map((k) => `${LABEL[k]} has already been taken`).join(', '), keys);
}

async function findBy(db: Executor, accountId: number, column: UniqueKey, value: string | null | undefined): Promise<ContactRow | undefined> {
  if (!value) return undefined;
  return db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where(column, '=', value).executeTakeFirst();
}

/** 422 when one of these values belongs to another contact of the account. */
async function assertFree(db: Executor, accountId: number, contactId: number, values: Partial<Record<UniqueKey, string | null>>) {
  const hits: UniqueKey[] = [];
  for (const k of Object.keys(values) as UniqueKey[]) {
    const other = await findBy(db, accountId, k, values[k]);
    if (other && other.id !== contactId) hits.push(k);
  }
  if (hits.length) throw taken(hits);
}

const WORDS_A = ['quiet', 'misty', 'silent', 'autumn', 'hidden', 'bitter', 'lively', 'purple', 'snowy', 'wild'];
const WORDS_B = ['river', 'meadow', 'forest', 'breeze', 'sun', 'lake', 'field', 'moon', 'leaf', 'sea'];
/** The reference names anonymous contacts with a random "haiku" name. */
function haikuName(): string {
  const pick = (list: string[]) => list[crypto.randomInt(list.length)];
  return `${pick(WORDS_A)}-${pick(WORDS_B)}-${crypto.randomInt(1000, 10000)}`;
}

type Fields = ReturnType<typeof normalizeContactFields>;

function fieldsOf(body: ContactUpdateBody): Fields {
  const f = normalizeContactFields({
    name: body.name,
    email: body.email,
    phone_number: body.phone_number,
    custom_attributes: body.custom_attributes,
  });
  checkAttributes(f.custom, 'custom_attributes');
  return f;
}

type Change = Record<string, { previous_value: unknown; current_value: unknown }>;

/** Writes a contact patch and records `contact.updated` with its changes, as the Application API does. */
async function writeContactPatch(ctx: AppContext, trx: Tx, current: ContactRow, patch: ContactPatch): Promise<ContactRow> {
  const changes: Change[] = [];
  for (const [k, v] of Object.entries(patch) as [keyof ContactPatch, unknown][]) {
    const before = current[k as keyof ContactRow];
    if (before === v) {
      delete patch[k];
      continue;
    }
    const json = k === 'additional_attributes' || k === 'custom_attributes';
    changes.push({ [k]: { previous_value: json ? fromJson(before as string) : before, current_value: json ? fromJson(v as string) : v } });
  }
  if (!changes.length) return current;
  await assertFree(trx, current.account_id, current.id, {
    ...(patch.identifier !== undefined ? { identifier: patch.identifier } : {}),
    ...(patch.email !== undefined ? { email: patch.email } : {}),
    ...(patch.phone_number !== undefined ? { phone_number: patch.phone_number } : {}),
  });
  const row = await contactsRepo.updateContact(trx, current.account_id, current.id, patch);
  if (!row) throw errors.notFound();
  await ctx.events(trx, current.account_id, 'contact.updated', { contact_id: current.id, changed_attributes: changes });
  return row;
}

/** Applies an identity decision to a session's contact and the session itself. */
async function applyIdentity(ctx: AppContext, trx: Tx, s: Session, d: IdentityDecision, patch: ContactPatch = {}): Promise<Session> {
  if (d.setIdentifier) patch.identifier = d.setIdentifier;
  const contact = await writeContactPatch(ctx, trx, s.contact, patch);
  if (d.verify && !s.session.hmac_verified) await setContactInboxVerified(trx, s.session.id);
  return { ...s, contact, session: { ...s.session, hmac_verified: d.verify ? 1 : s.session.hmac_verified } };
}

/** A unique-index race (two creates for the same person at once) is retried once: the retry finds the winner's row. */
async function retryOnRace<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return fn();
  }
}

/**
 * POST /contacts. An existing session with the given source_id is returned (its identity rules
 * applied as for an update that changes no attribute); re-posted with another contact's identifier
 * it is a 422 (source_id taken), never a rename. Otherwise the contact is matched by
 * identifier, then email, then phone, or created, and a new session is built for it:
 * - verified at once when identifier_hash is the valid hash of the identifier the contact then has;
 * - a matched contact is not modified, except that a proven identifier is given to a matched
 *   contact that has none; a matched contact holding a DIFFERENT identifier is a 422;
 * - on a mandatory inbox a missing or wrong hash is a 401 and nothing is written.
 */
export async function createPublicContact(ctx: AppContext, inboxIdentifier: string, body: ContactCreateBody): Promise<Session> {
  const inbox = await resolveInbox(ctx.database.db, inboxIdentifier);
  return retryOnRace(() => createOnce(ctx, inbox, body));
}

async function createOnce(ctx: AppContext, inbox: Session['inbox'], body: ContactCreateBody): Promise<Session> {
  const db = ctx.database.db;
  const hashes = presentedHashes(body);
  const claimed = claimedIdentifier(body.identifier);
  const sourceId = body.source_id?.trim() || null;
  const accountId = inbox.account_id;

  const known = sourceId ? await contactsRepo.findContactInboxBySource(db, accountId, inbox.id, sourceId) : undefined;
  if (known) {
    const existing = await findSession(db, inbox, known.source_id);
    // A stored source_id re-posted for ANOTHER identity (a shared device) is not renamed into it.
    if (claimed && existing.contact.identifier && claimed !== existing.contact.identifier) {
      throw errors.invalid('Source has already been taken', ['source_id']);
    }
    const d = decideUpdate(await identityState(db, existing), claimed, hashes, false);
    return ctx.database.transaction((trx) => applyIdentity(ctx, trx, existing, d));
  }
  const proven = decideCreate({ mandatory: !!inbox.hmac_mandatory, hmacToken: inbox.hmac_token }, claimed, hashes);
  const f = fieldsOf(body);

  return ctx.database.transaction(async (trx) => {
    let contact = await findBy(trx, accountId, 'identifier', claimed);
    let verify = proven && !!contact;
    if (!contact) {
      const match = (await findBy(trx, accountId, 'email', f.email)) ?? (await findBy(trx, accountId, 'phone_number', f.phone_number));
      if (match) {
        if (claimed && match.identifier && match.identifier !== claimed) {
          throw taken([match.email && match.email === f.email ? 'email' : 'phone_number']);
        }
        contact = match;
        if (proven) {
          const state = {
            mandatory: !!inbox.hmac_mandatory,
            hmacToken: inbox.hmac_token,
            current: match.identifier,
            verified: false,
            contactHasVerifiedSession: await hasVerifiedSession(trx, match.id, inbox.id),
          };
          const d = decideUpdate(state, claimed, hashes, false);
          if (d.setIdentifier) contact = await writeContactPatch(ctx, trx, match, { identifier: d.setIdentifier });
          verify = d.verify;
        }
      } else {
        contact = await insertNewContact(ctx, trx, accountId, {
          name: f.name || haikuName(),
          email: f.email ?? null,
          phone_number: f.phone_number ?? null,
          identifier: claimed,
          additional_attributes: '{}',
          custom_attributes: toJson(f.custom ?? {}),
          blocked: 0,
        });
        verify = proven;
      }
    }
    const session = await buildContactInbox(trx, { accountId, contactId: contact.id, inboxId: inbox.id, sourceId, hmacVerified: verify });
    return { inbox, session, contact };
  });
}

/** GET /contacts/:source_id (identifier_hash in the query verifies the session). */
export async function getPublicContact(ctx: AppContext, inboxIdentifier: string, sourceId: string, query: unknown): Promise<Session> {
  return openSession(ctx, inboxIdentifier, sourceId, presentedHashes(query));
}

/**
 * PATCH /contacts/:source_id: name, email, phone_number and custom_attributes (merged) of the
 * session's contact, and its identifier under the rules of `decideUpdate`.
 */
export async function updatePublicContact(
  ctx: AppContext,
  inboxIdentifier: string,
  sourceId: string,
  body: ContactUpdateBody,
  query: unknown,
): Promise<Session> {
  const db = ctx.database.db;
  const inbox = await resolveInbox(db, inboxIdentifier);
  await findSession(db, inbox, sourceId); // 404 first
  const hashes = presentedHashes(body, query);
  const claimed = claimedIdentifier(body.identifier);
  const edits = ['name', 'email', 'phone_number', 'custom_attributes'].some((k) => (body as Record<string, unknown>)[k] !== undefined);
  return retryOnRace(() =>
    ctx.database.transaction(async (trx) => {
      // Decided on the rows read in this transaction; a refusal throws before any write.
      const s = await findSession(trx, inbox, sourceId);
      const d = decideUpdate(await identityState(trx, s), claimed, hashes, edits);
      const f = fieldsOf(body);
      const current = s.contact;
      const patch: ContactPatch = {};
      if (f.name !== undefined && f.name !== '') patch.name = f.name;
      if (f.email !== undefined) patch.email = f.email;
      if (f.phone_number !== undefined) patch.phone_number = f.phone_number;
      if (f.custom) patch.custom_attributes = toJson({ ...fromJson<Record<string, unknown>>(current.custom_attributes), ...f.custom });
      return applyIdentity(ctx, trx, s, d, patch);
    }),
  );
}
