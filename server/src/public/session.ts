import type { AppContext } from '../context.js';
import type { Executor } from '../kernel/db.js';
import { errors } from '../kernel/errors.js';
import { findInboxByIdentifier, type InboxWithChannel } from '../inboxes/repository.js';
import { findContact, findContactInboxBySource, setContactInboxVerified, type ContactInboxRow, type ContactRow } from '../contacts/repository.js';
import { decideAccess, type IdentityState } from './identity.js';
import { hasVerifiedSession, visibleSessionIds, type Scope } from './repository.js';

/**
 * Resolves the client API's capability (inbox identifier + source_id) into an inbox, a contact
 * session and its contact, applying the identity rules of `identity.ts`. Anything unknown is a 404
 * `{"error":"Resource could not be found"}`; only Channel::Api inboxes exist here.
 */

export type Session = { inbox: InboxWithChannel; session: ContactInboxRow; contact: ContactRow };

export async function resolveInbox(db: Executor, identifier: string): Promise<InboxWithChannel> {
  const inbox = await findInboxByIdentifier(db, identifier);
  if (!inbox || inbox.channel_type !== 'Channel::Api') throw errors.notFound();
  return inbox;
}

/** The session behind a source_id in the inbox, without any identity decision (404 when unknown). */
export async function findSession(db: Executor, inbox: InboxWithChannel, sourceId: string): Promise<Session> {
  const session = await findContactInboxBySource(db, inbox.account_id, inbox.id, sourceId);
  if (!session) throw errors.notFound();
  const contact = await findContact(db, inbox.account_id, session.contact_id);
  if (!contact) throw errors.notFound();
  return { inbox, session, contact };
}

export async function identityState(db: Executor, s: Session): Promise<IdentityState> {
  return {
    mandatory: !!s.inbox.hmac_mandatory,
    hmacToken: s.inbox.hmac_token,
    current: s.contact.identifier,
    verified: !!s.session.hmac_verified,
    contactHasVerifiedSession: !!s.session.hmac_verified || (await hasVerifiedSession(db, s.contact.id, s.inbox.id)),
  };
}

/**
 * Every session route but contact create/update: a presented identifier_hash must be that of the
 * session contact's identifier (a valid one verifies the session); on a mandatory inbox the session
 * must be verified. Refusals are 401 and write nothing.
 */
export async function openSession(ctx: AppContext, inboxIdentifier: string, sourceId: string, hashes: string[]): Promise<Session> {
  const db = ctx.database.db;
  const s = await findSession(db, await resolveInbox(db, inboxIdentifier), sourceId);
  const { verify } = decideAccess(
    { mandatory: !!s.inbox.hmac_mandatory, hmacToken: s.inbox.hmac_token, current: s.contact.identifier, verified: !!s.session.hmac_verified },
    hashes,
  );
  if (verify) {
    await setContactInboxVerified(db, s.session.id);
    s.session = { ...s.session, hmac_verified: 1 };
  }
  return s;
}

/** The conversations a session may reach (see `visibleSessionIds`). */
export async function scopeOf(db: Executor, s: Session): Promise<Scope> {
  return {
    accountId: s.inbox.account_id,
    inboxId: s.inbox.id,
    contactId: s.contact.id,
    sessionIds: await visibleSessionIds(db, s.session),
  };
}
