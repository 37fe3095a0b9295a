import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from './db.js';
import { now } from './db.js';
import { AppError, errors } from './errors.js';
import { findPrincipal } from './auth.js';
import { deleteKeysBefore, deleteKeyVersion, findKey, recordResponse, releaseKey, reserveKey, takeOverKey } from './idempotency-repository.js';

/**
 * `Idempotency-Key` for POST routes. Same key + same request (sha256 of method, path and canonical
 * body) within 24 h → the first response is replayed (status + body, header `Idempotent-Replayed:
 * true`); same key + another request → 422; the same key while the first request is still running →
 * 409. Keys are scoped (e.g. by account + user), so two callers never share one.
 *
 * Usage, on any route: `app.post(path, { schema, ...idempotent(ctx.database, userScope) }, handler)`.
 * Only 2xx and 422 responses are recorded (they are what the same request would produce again);
 * any other outcome releases the key so the client can retry.
 */

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
/** A key still "in flight" after this long belongs to a crashed request and may be taken over. */
export const IN_FLIGHT_STALE_MS = 60 * 1000;
const MAX_KEY_LENGTH = 255;

export type IdempotencyScope = { accountId: number; scope: string };
/** Who is asking; null skips idempotency (the handler then answers, e.g. 401). */
export type ScopeResolver = (req: FastifyRequest) => Promise<IdempotencyScope | null>;

type Owned = { id: number };
const owned = new WeakMap<FastifyRequest, Owned>();

/** Canonical JSON: object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestHash(method: string, path: string, body: unknown): string {
  return crypto.createHash('sha256').update(`${method.toUpperCase()} ${path}\n${canonicalJson(body)}`).digest('hex');
}

function headerKey(req: FastifyRequest): string | undefined {
  const raw = req.headers['idempotency-key'];
  const v = Array.isArray(raw) ? raw[0] : raw;
  return v === undefined ? undefined : v.trim();
}

/**
 * Scopes keys by the account in the path and the authenticated member (Application API): the
 * principal the route's access policy established in onRequest, so it costs no query.
 */
export const userScope: ScopeResolver = async (req) => {
  const member = findPrincipal(req);
  return member ? { accountId: member.accountId, scope: `user:${member.user.id}` } : null;
};

const RECORDED = (code: number) => (code >= 200 && code < 300) || code === 422;

export function idempotent(database: Database, resolve: ScopeResolver) {
  const db = database.db;

  async function release(req: FastifyRequest) {
    const o = owned.get(req);
    if (!o) return;
    owned.delete(req);
    await releaseKey(db, o.id);
  }

  const preHandler = async (req: FastifyRequest, reply: FastifyReply) => {
    const key = headerKey(req);
    if (key === undefined) return;
    if (!key || key.length > MAX_KEY_LENGTH) {
      throw errors.invalid(`Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`, ['Idempotency-Key']);
    }
    const who = await resolve(req);
    if (!who) return;
    const path = req.url.split('?')[0].replace(/\/+$/, '');
    const hash = requestHash(req.method, path, req.body ?? {});
    const ref = { accountId: who.accountId, scope: who.scope, key };
    const t = now();
    if (Math.random() < 0.01) {
      await deleteKeysBefore(db, t - IDEMPOTENCY_TTL_MS);
    }

    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await reserveKey(db, ref, hash);
      if (inserted !== null) {
        owned.set(req, { id: inserted });
        return;
      }
      const existing = await findKey(db, ref);
      if (!existing) continue; // released or expired meanwhile: try again
      const age = now() - Number(existing.created_at);
      if (age > IDEMPOTENCY_TTL_MS) {
        await deleteKeyVersion(db, existing.id, existing.created_at);
        continue;
      }
      if (existing.request_hash !== hash) {
        throw errors.invalid(
          'Idempotency-Key was already used with a different request; use a new key for a new request',
          ['Idempotency-Key'],
        );
      }
      if (existing.status_code == null) {
        if (age < IN_FLIGHT_STALE_MS) {
          throw new AppError('conflict', 'A request with this Idempotency-Key is still being processed; retry later');
        }
        // Abandoned by a crashed request: take it over.
        if (await takeOverKey(db, existing.id, existing.created_at)) {
          owned.set(req, { id: existing.id });
          return;
        }
        continue;
      }
      reply.header('idempotent-replayed', 'true');
      if (existing.response_body) reply.type('application/json; charset=utf-8');
      return reply.status(existing.status_code).send(existing.response_body ?? '');
    }
    throw new AppError('conflict', 'A request with this Idempotency-Key is still being processed; retry later');
  };

  const onSend = async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const o = owned.get(req);
    if (!o) return payload;
    owned.delete(req);
    if (RECORDED(reply.statusCode) && (payload == null || typeof payload === 'string' || Buffer.isBuffer(payload))) {
      await recordResponse(db, o.id, reply.statusCode, payload == null ? '' : String(payload));
    } else {
      await releaseKey(db, o.id);
    }
    return payload;
  };

  /** Safety net: a request that never reached onSend (aborted) releases its key. */
  const onResponse = async (req: FastifyRequest) => {
    await release(req);
  };

  return { preHandler, onSend, onResponse };
}
