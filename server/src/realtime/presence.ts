import type { Redis } from 'ioredis';
import type { Executor } from '../kernel/db.js';
import { presencePushData } from './presenters.js';
import { presenceRows } from './repository.js';

export type PresenceKind = 'user' | 'contact';

/**
 * Who pinged recently (`update_presence`), per account: users count as online for
 * `userPresenceS` (default 20 s), contacts for `contactPresenceS` (default 90 s) after their last
 * ping. Always kept in process (for synchronous lookups by presenters on this node); also in a Redis
 * sorted set per account and kind when Redis is configured, so every node sees every node's pings.
 */
export class Presence {
  private local = new Map<string, Map<number, number>>();

  constructor(
    private readonly ttlMs: { user: number; contact: number },
    private readonly redis: { client: Redis; prefix: string } | null = null,
  ) {}

  async touch(accountId: number, kind: PresenceKind, id: number, at = Date.now()): Promise<void> {
    const k = `${accountId}:${kind}`;
    let m = this.local.get(k);
    if (!m) this.local.set(k, (m = new Map()));
    m.set(id, at);
    if (!this.redis) return;
    const key = this.redisKey(accountId, kind);
    const ttl = this.ttlMs[kind];
    // Redis away: the ping still counts on this node (degraded, never an error for the caller).
    await withTimeout(this.redis.client.multi().zadd(key, at, String(id)).zremrangebyscore(key, '-inf', at - ttl).pexpire(key, ttl * 2).exec()).catch(
      () => undefined,
    );
  }

  /** Ids present in the account right now (every node's view when Redis is configured). */
  async online(accountId: number, kind: PresenceKind, at = Date.now()): Promise<number[]> {
    const since = at - this.ttlMs[kind];
    if (this.redis) {
      // Redis away: fall back to this node's own view.
      const ids = await withTimeout(this.redis.client.zrangebyscore(this.redisKey(accountId, kind), since, '+inf')).catch(() => null);
      if (ids) return ids.map(Number).filter(Number.isInteger);
    }
    const m = this.local.get(`${accountId}:${kind}`);
    if (!m) return [];
    const ids: number[] = [];
    for (const [id, t] of m) if (t >= since) ids.push(id);
    return ids;
  }

  /** Synchronous lookup from this node's own pings (the `PresenceLookup` of src/users/presenter.ts). */
  isPresent = (accountId: number, userId: number, kind: PresenceKind = 'user'): boolean => {
    const t = this.local.get(`${accountId}:${kind}`)?.get(userId);
    return t !== undefined && t >= Date.now() - this.ttlMs[kind];
  };

  /** Drops expired entries from the in-process map (called from the hub's periodic tick). */
  prune(at = Date.now()) {
    for (const [k, m] of this.local) {
      const ttl = this.ttlMs[k.endsWith(':user') ? 'user' : 'contact'];
      for (const [id, t] of m) if (t < at - ttl) m.delete(id);
      if (!m.size) this.local.delete(k);
    }
  }

  private redisKey(accountId: number, kind: PresenceKind) {
    return `${this.redis!.prefix}presence:${accountId}:${kind}`;
  }
}

/** Presence never waits long on Redis: past this, the command counts as failed (and is left to finish). */
const REDIS_TIMEOUT_MS = 250;

function withTimeout<T>(p: Promise<T>, ms = REDIS_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => {}); // a late failure after the timeout is not an unhandled rejection
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('redis presence command timed out')), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The `presence.update` data: `{account_id, users:{id: availability}, contacts:{id:'online'}}`.
 * Users: those present (their chosen availability) plus those with auto_offline off (always their
 * chosen availability). Contacts only for agents.
 */
export async function presenceData(db: Executor, presence: Presence, accountId: number, forAgent: boolean) {
  const [userIds, contactIds] = await Promise.all([
    presence.online(accountId, 'user'),
    forAgent ? presence.online(accountId, 'contact') : Promise.resolve([]),
  ]);
  const rows = await presenceRows(db, accountId, userIds);
  return presencePushData(accountId, rows, userIds, forAgent ? contactIds : null);
}
