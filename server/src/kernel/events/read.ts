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
  /** PostgreSQL: never past an id whose transaction may still commit. */
  readonly horizon: CommitHorizon | null;

  constructor(private readonly database: Database) {
    this.horizon = database.dialect === 'postgres' ? new CommitHorizon() : null;
  }

  isUnreadable(ev: OutboxEvent) {
    return this.unreadable.has(ev);
  }

  async read(db: Executor, after: number, limit: number): Promise<OutboxEvent[]> {
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
