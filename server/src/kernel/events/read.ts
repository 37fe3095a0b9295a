import type { Executor } from '../db.js';
import type { OutboxEvent } from './listener.js';
import { selectEventsAfter } from './repository.js';
import type { DomainEventName } from './types.js';

/**
 * Reads events after a cursor and parses their payloads. An event whose stored payload is not a
 * JSON object is remembered as unreadable (the dispatcher buries it without retrying).
 */
export class EventReader {
  private unreadable = new WeakSet<OutboxEvent>();

  isUnreadable(ev: OutboxEvent) {
    return this.unreadable.has(ev);
  }

  async read(db: Executor, after: number, limit: number): Promise<OutboxEvent[]> {
    const rows = await selectEventsAfter(db, after, limit);
    return rows.map((r) => {
      let payload: unknown;
      try {
        payload = JSON.parse(r.payload);
      } catch {
        payload = null;
      }
      const ok = payload !== null && typeof payload === 'object' && !Array.isArray(payload);
      const ev: OutboxEvent = {
        id: r.id,
        accountId: r.account_id,
        name: r.name as DomainEventName,
        payload: ok ? (payload as Record<string, unknown>) : {},
        createdAt: r.created_at,
      };
      if (!ok) this.unreadable.add(ev);
      return ev;
    });
  }
}
