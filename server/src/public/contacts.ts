import crypto from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Executor, Tx } from '../kernel/db.js';
import { fromJson, isUniqueViolation, toJson } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import * as contactsRepo from '../contacts/repository.js';
import type { ContactPatch, ContactRow } from '../contacts/repository.js';
import { buildContactInbox, insertNewContact, normalizeContactFields } from '../contacts/service.js';
import { setContactInboxVerified } from '../contacts/repository.js';
import { claimedIdentifier, decideCreate, decideUpdate } from './identity.js';
import { checkAttributes } from './limits.js';
import { findSession, identityState, openSession, resolveInbox, type Session } from './session.js';
import type { ContactCreateBody, ContactUpdateBody } from './schemas.js';

/**
 * Contact create / show / update of the client API. Identity decisions (identity.ts) are taken
 * before anything is written; each use case writes in one transaction. Contacts are never merged
 * and another contact's data never appears in an answer: on update, an email or phone held by
 * another contact is a 422 `{message, attributes}` naming only the attribute; on a create with a
 * verified identity it is left off. The identifier is set only when a contact is created.
 */

const LABEL = { email: 'Email', phone_number: 'Phone number', identifier: 'Identifier' } as const;
type UniqueKey = keyof typeof LABEL;

function taken(keys: UniqueKey[]) {
  return errors.invalid(keys.map((k) => `${LABEL[k]} has already been taken`).join(', '), keys);
}

/** 422 when one of these values belongs to another contact of the account. */
async function assertFree(db: Executor, accountId: number, contactId: number, values: Partial<Record<UniqueKey, string | null>>) {
  const hits: UniqueKey[] = [];
  for (const k of Object.keys(values) as UniqueKey[]) {
    const other = await contactsRepo.findContactBy(db, accountId, k, values[k]);
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

/** Writes a patch of the session's contact and marks the session verified when the decision says so. */
async function applyIdentity(ctx: AppContext, trx: Tx, s: Session, verify: boolean, patch: ContactPatch = {}): Promise<Session> {
  const contact = await writeContactPatch(ctx, trx, s.contact, patch);
  if (verify && !s.session.hmac_verified) await setContactInboxVerified(trx, s.session.id);
  return { ...s, contact, session: { ...s.session, hmac_verified: verify ? 1 : s.session.hmac_verified } };
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
 * it is a 422 (source_id taken), never a rename, and an identifier is never given to its contact.
 * Otherwise a new session is built for the contact with the requested identifier, or else:
 * - with a verified identity (valid identifier_hash) a NEW contact holding that identifier: a
 *   verified identity is matched by identifier only, never attached to a contact found by email or
 *   phone, and an email or phone held by another contact is left off (not stored, not revealed);
 * - without one (an unverified claim, inboxes without hmac_mandatory), the contact matched by
 *   email, then phone, as the reference does (a matched contact holding a DIFFERENT identifier is a
 *   422), or a new one. Such a session stays unverified and can never bind an identity to it.
 * The session is verified at once when the identity is proven. A matched contact is not modified.
 * On a mandatory inbox a missing or wrong hash is a 401 and nothing is written.
 */
export async function createPublicContact(ctx: AppContext, inboxIdentifier: string, body: ContactCreateBody, hashes: string[]): Promise<Session> {
  const inbox = await resolveInbox(ctx.database.db, inboxIdentifier);
  return retryOnRace(() => createOnce(ctx, inbox, body, hashes));
}

async function createOnce(ctx: AppContext, inbox: Session['inbox'], body: ContactCreateBody, hashes: string[]): Promise<Session> {
  const db = ctx.database.db;
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
    const { verify } = decideUpdate(await identityState(db, existing), hashes, false);
    if (!verify || existing.session.hmac_verified) return existing;
    return ctx.database.transaction((trx) => applyIdentity(ctx, trx, existing, verify));
  }
  const proven = decideCreate({ mandatory: !!inbox.hmac_mandatory, hmacToken: inbox.hmac_token }, claimed, hashes);
  const f = fieldsOf(body);

  return ctx.database.transaction(async (trx) => {
    let contact = await contactsRepo.findContactBy(trx, accountId, 'identifier', claimed);
    let verify = proven && !!contact;
    if (!contact) {
      // Only an unverified claim is matched by email or phone (and never gains an identity that way).
      const match = proven
        ? undefined
        : ((await contactsRepo.findContactBy(trx, accountId, 'email', f.email)) ?? (await contactsRepo.findContactBy(trx, accountId, 'phone_number', f.phone_number)));
      if (match) {
        if (claimed && match.identifier && match.identifier !== claimed) {
          throw taken([match.email && match.email === f.email ? 'email' : 'phone_number']);
        }
        contact = match;
      } else {
        const free = async (k: 'email' | 'phone_number', v: string | null | undefined) => (v && !(await contactsRepo.findContactBy(trx, accountId, k, v)) ? v : null);
        contact = await insertNewContact(ctx, trx, accountId, {
          name: f.name || haikuName(),
          email: await free('email', f.email),
          phone_number: await free('phone_number', f.phone_number),
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
export async function getPublicContact(ctx: AppContext, inboxIdentifier: string, sourceId: string, hashes: string[]): Promise<Session> {
  return openSession(ctx, inboxIdentifier, sourceId, hashes);
}

/**
 * PATCH /contacts/:source_id: name, email, phone_number and custom_attributes (merged) of the
 * session's contact. `identifier` is not applied (the reference drops it too): a contact's identity
 * is never set nor changed through a session, so a present hash must be that of its identifier.
 */
export async function updatePublicContact(
  ctx: AppContext,
  inboxIdentifier: string,
  sourceId: string,
  body: ContactUpdateBody,
  hashes: string[],
): Promise<Session> {
  const db = ctx.database.db;
  const inbox = await resolveInbox(db, inboxIdentifier);
  await findSession(db, inbox, sourceId); // 404 first
  const edits = ['name', 'email', 'phone_number', 'custom_attributes'].some((k) => (body as Record<string, unknown>)[k] !== undefined);
  return retryOnRace(() =>
    ctx.database.transaction(async (trx) => {
      // Decided on the rows read in this transaction; a refusal throws before any write.
      const s = await findSession(trx, inbox, sourceId);
      const { verify } = decideUpdate(await identityState(trx, s), hashes, edits);
      const f = fieldsOf(body);
      const current = s.contact;
      const patch: ContactPatch = {};
      if (f.name !== undefined && f.name !== '') patch.name = f.name;
      if (f.email !== undefined) patch.email = f.email;
      if (f.phone_number !== undefined) patch.phone_number = f.phone_number;
      if (f.custom) patch.custom_attributes = toJson({ ...fromJson<Record<string, unknown>>(current.custom_attributes), ...f.custom });
      return applyIdentity(ctx, trx, s, verify, patch);
    }),
  );
}
