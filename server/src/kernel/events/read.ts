import type { Database, Executor } from '../db.js';
import { CommitHorizon } from './horizon.js';
import type { OutboxEvent } from './listener.js';
import { freshTransactionId, selectEventsAfter, selectEventsAfterPg } from './repository.js';
import { isEventPayload, type DomainEventName } from './types.js';

/**
 * Reads events after a cursor and parses their payloads. An event whose stored payload is not
 * valid JSON, or not a valid payload of its event name (EVENT_SCHEMAS in types.ts), is remembered
 * as unreadable (the dispatcher buries it without retrying): listeners get typed payloads only.
 */
export class EventReader {
  private unreadable = new WeakSet<OutboxEvent>();
  /**
   * Reads on the plain connection (SQLite's non-transactional listeners) in flight, by position:
   * listeners woken together at the same cursor share one query. Any result is a committed prefix
   * of the log after that position, so sharing it is as good as reading again.
   */
  private shared = new Map<string, Promise<OutboxEvent[]>>();
  /** PostgreSQL: never past an id whose transaction may still commit. */
  readonly horizon: CommitHorizon | null;

  constructor(private readonly database: Database) {
    this.horizon = database.dialect === 'postgres' ? new CommitHorizon() : null;
  }

  isUnreadable(ev: OutboxEvent) {
    return this.unreadable.has(ev);
  }

  read(db: Executor, after: number, limit: number): Promise<OutboxEvent[]> {
    if (db !== this.database.db) return this.readNow(db, after, limit);
    const key = `${after}:${limit}`;
    let p = this.shared.get(key);
    if (!p) {
      p = this.readNow(db, after, limit);
      this.shared.set(key, p);
      const forget = () => this.shared.delete(key);
      p.then(forget, forget);
    }
    return p;
  }

  private async readNow(db: Executor, after: number, limit: number): Promise<OutboxEvent[]> {
    const rows = this.horizon ? await this.readPg(db, after, limit) : await selectEventsAfter(db, after, limit);
    return rows.map((r) => {
      let payload: unknown;
      try {
        payload = JSON.parse(r.payload);
      } catch {
        payload = null;
      }
      const ok = isEventPayload(r.name, payload);
      // An unreadable event is never handed to a listener: its payload is only a placeholder.
      const ev = {
        id: r.id,
        accountId: r.account_id,
        name: r.name as DomainEventName,
        payload: ok ? payload : {},
        createdAt: r.created_at,
      } as OutboxEvent;
      if (!ok) this.unreadable.add(ev);
      return ev;
    });
  }

  private async readPg(db: Executor, after: number, limit: number) {
    const { rows, snapshot } = await selectEventsAfterPg(db, after, limit);
    const out = this.horizon!.deliverable(after, rows, snapshot);
    // A new gap: its bound is an xid assigned after that read, outside the reading transaction.
    if (this.horizon!.unmarked) this.horizon!.mark(await freshTransactionId(this.database.db));
    return out;
  }
}
