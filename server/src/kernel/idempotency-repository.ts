import type { Executor } from './db.js';
import { now } from './db.js';

/** Every query on idempotency_keys (src/kernel/idempotency.ts); each is scoped by account. */

export type KeyRef = { accountId: number; scope: string; key: string };

/** Reserves the key for a request in flight; null when it exists already. */
export async function reserveKey(db: Executor, k: KeyRef, requestHash: string): Promise<number | null> {
  const row = await db
    .insertInto('idempotency_keys')
    .values({ account_id: k.accountId, scope: k.scope, key: k.key, request_hash: requestHash, status_code: null, response_body: null, created_at: now() })
    .onConflict((oc) => oc.columns(['account_id', 'scope', 'key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id ?? null;
}

export async function findKey(db: Executor, k: KeyRef) {
  return db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('account_id', '=', k.accountId)
    .where('scope', '=', k.scope)
    .where('key', '=', k.key)
    .executeTakeFirst();
}

/** Deletes the key if it is still the version read (created_at unchanged). */
export async function deleteKeyVersion(db: Executor, id: number, createdAt: number): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('id', '=', id).where('created_at', '=', createdAt).execute();
}

/** Takes over a key still in flight at the version read; false when someone else did first. */
export async function takeOverKey(db: Executor, id: number, createdAt: number): Promise<boolean> {
  const res = await db
    .updateTable('idempotency_keys')
    .set({ created_at: now() })
    .where('id', '=', id)
    .where('created_at', '=', createdAt)
    .where('status_code', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function recordResponse(db: Executor, id: number, statusCode: number, body: string): Promise<void> {
  await db.updateTable('idempotency_keys').set({ status_code: statusCode, response_body: body }).where('id', '=', id).execute();
}

/** Releases a key whose response was not recorded. */
export async function releaseKey(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('id', '=', id).where('status_code', 'is', null).execute();
}

export async function deleteKeysBefore(db: Executor, createdBefore: number): Promise<void> {
  await db.deleteFrom('idempotency_keys').where('created_at', '<', createdBefore).execute();
}
