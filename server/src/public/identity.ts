import { AppError } from '../kernel/errors.js';
import { hmacSha256Hex, safeEqual } from '../kernel/tokens.js';

/**
 * HMAC identity validation of the client API.
 *
 * `identifier_hash` = lowercase hex HMAC-SHA256 of the contact's `identifier`, keyed with the
 * inbox's `hmac_token`, compared in constant time. Unlike the reference, a hash is always checked
 * against the identifier of the contact BEHIND THE SESSION (source_id), never against whatever
 * identifier a request claims, and a failure is a 401 JSON error that writes nothing.
 *
 * The rules (pure functions here; the service applies them before any write):
 * - `identifier_hash` is read by one function (`requestHashes`) for every route, from the body and
 *   the query string alike. A hash that is present must match: on session routes (and contact
 *   update) the identifier the session's contact has, on contact create the identifier requested.
 *   A present-but-wrong hash is a 401 on every inbox, mandatory or not.
 * - A valid hash marks the session (contact_inbox) hmac_verified; nothing else does.
 * - On an inbox with hmac_mandatory, contact create/update need a valid hash every time, and every
 *   other route refuses a session that is not verified (verified sessions need not resend it).
 * - An identity is bound to a contact only when the contact is created (or found by that very
 *   identifier): through a session the identifier of a contact is never set nor changed (a claimed
 *   one is dropped, as the reference drops it on update). So a source_id holder can never move a
 *   contact and its history to another identity, and a session that reached a contact by e-mail
 *   or phone (an unverified claim) can never bind an identity to it.
 * - A verified identity is matched by identifier only, never by e-mail or phone number.
 * - An unverified session cannot edit a contact that has a verified session in the inbox.
 */

export const HMAC_FAILED = 'HMAC failed: Invalid Identifier Hash Provided';

export const identityInvalid = () => new AppError('identity_invalid', HMAC_FAILED);

/** What the customer's own server computes: hex HMAC-SHA256(identifier) with the inbox's hmac_token. */
export function identifierHash(hmacToken: string, identifier: string): string {
  return hmacSha256Hex(hmacToken, identifier);
}

/** True when every presented hash is the hash of `identifier` (false when there is no identifier). */
export function hashesMatch(hmacToken: string, identifier: string | null | undefined, hashes: string[]): boolean {
  if (identifier == null || identifier === '' || !hashes.length) return false;
  const expected = identifierHash(hmacToken, identifier);
  let ok = true;
  for (const h of hashes) ok = safeEqual(h, expected) && ok; // compare them all: no early exit
  return ok;
}

/**
 * The identifier_hash values carried by these sources (parsed body, query string; both parsers
 * turn `identifier_hash[]=…` into an array). Blank values (`""`, null) count as absent; anything
 * else counts, so a present value can never be ignored.
 */
export function presentedHashes(...sources: unknown[]): string[] {
  const out: string[] = [];
  for (const src of sources) {
    if (!src || typeof src !== 'object') continue;
    const v = (src as Record<string, unknown>).identifier_hash;
    const values = Array.isArray(v) ? v : [v];
    for (const x of values) {
      if (x === undefined || x === null) continue;
      const s = typeof x === 'string' ? x.trim() : JSON.stringify(x);
      if (s !== '') out.push(s);
    }
  }
  return out;
}

/**
 * THE reader of identifier_hash for every client-API route: the body and the query string are
 * read the same way, so a wrong hash anywhere is a 401.
 */
export function requestHashes(req: { body?: unknown; query?: unknown }): string[] {
  return presentedHashes(req.body, req.query);
}

/** A requested identifier: a non-blank string (numbers are taken as their decimal text), else null. */
export function claimedIdentifier(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const s = typeof value === 'string' ? value.trim() : typeof value === 'number' ? String(value) : null;
  return s ? s : null;
}

export type IdentityState = {
  mandatory: boolean;
  hmacToken: string;
  /** The identifier of the contact behind the session (null for an anonymous contact). */
  current: string | null;
  /** Whether this session is already hmac_verified. */
  verified: boolean;
  /** Whether the contact has a verified session in this inbox (this one or another). */
  contactHasVerifiedSession: boolean;
};

/**
 * Session routes other than contact create/update (GET contact, conversations, messages): a present
 * hash must be that of the session contact's identifier (then the session becomes verified); on a
 * mandatory inbox the session must end up verified.
 */
export function decideAccess(s: Pick<IdentityState, 'mandatory' | 'hmacToken' | 'current' | 'verified'>, hashes: string[]): { verify: boolean } {
  if (hashes.length) {
    if (!hashesMatch(s.hmacToken, s.current, hashes)) throw identityInvalid();
    return { verify: !s.verified };
  }
  if (s.mandatory && !s.verified) throw identityInvalid();
  return { verify: false };
}

/**
 * A contact update through a session (PATCH /contacts/:source_id, or POST /contacts with the
 * source_id of an existing session). The contact's identifier is never set nor changed here (a
 * claimed identifier is dropped by the caller), so a present hash must be that of the identifier
 * the contact has. `editsAttributes` is false when no column of the contact is written.
 * Returns whether the session becomes (or stays) verified.
 */
export function decideUpdate(s: IdentityState, hashes: string[], editsAttributes: boolean): { verify: boolean } {
  if (hashes.length) {
    if (!hashesMatch(s.hmacToken, s.current, hashes)) throw identityInvalid();
    return { verify: true };
  }
  if (s.mandatory) throw identityInvalid();
  if (editsAttributes && s.contactHasVerifiedSession && !s.verified) throw identityInvalid();
  return { verify: false };
}

/**
 * The hash check of a contact create before any lookup: a present hash must be that of the
 * identifier in the request; on a mandatory inbox it must be present. Returns whether the claimed
 * identity is proven.
 */
export function decideCreate(s: Pick<IdentityState, 'mandatory' | 'hmacToken'>, claimed: string | null, hashes: string[]): boolean {
  if (hashes.length) {
    if (!hashesMatch(s.hmacToken, claimed, hashes)) throw identityInvalid();
    return true;
  }
  if (s.mandatory) throw identityInvalid();
  return false;
}
