import type { UserRow } from '../users/repository.js';

/**
 * Token → principal cache for the Application API's hot path: a request with an API token costs no
 * query for its user and membership when the same token was seen in the last minute and nothing that
 * decides who it is changed since.
 *
 * What invalidates every entry:
 * - any write of this process to what an entry holds — access tokens, users, memberships (role,
 *   removal) — bumps `authGeneration` (called by those repository functions, before their
 *   transaction commits, so an entry filled from older data is never stored as current);
 * - any commit by another connection to the SQLite file (the `channelx` CLI resets tokens while
 *   the server runs): SQLite's `PRAGMA data_version` changes, read on every lookup (~1 µs);
 * - age: one minute at most.
 * PostgreSQL may have several nodes writing and has no such counter: there the cache is off and a
 * token costs one joined query.
 */

let generation = 0;
/** Called by every write to access_tokens, users and account_users. */
export function bumpAuthGeneration() {
  generation++;
}

export type CachedPrincipal = { user: UserRow; token: string; role: number; accountStatus: number };
type Entry = CachedPrincipal & { generation: number; dataVersion: number; at: number };

const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export class AuthCache {
  private entries = new Map<string, Entry>();

  /** `dataVersion` reads SQLite's data_version; without it (PostgreSQL) nothing is cached. */
  constructor(private readonly dataVersion: (() => number) | null) {}

  get enabled() {
    return this.dataVersion !== null;
  }

  /** The generation to store an entry with: read before the lookup query runs. */
  stamp(): { generation: number; dataVersion: number } | null {
    return this.dataVersion ? { generation, dataVersion: this.dataVersion() } : null;
  }

  get(key: string): CachedPrincipal | undefined {
    if (!this.dataVersion) return undefined;
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.generation !== generation || e.at < Date.now() - TTL_MS || e.dataVersion !== this.dataVersion()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  set(key: string, value: CachedPrincipal, stamp: { generation: number; dataVersion: number } | null) {
    if (!stamp || stamp.generation !== generation) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { ...value, ...stamp, at: Date.now() });
  }
}
