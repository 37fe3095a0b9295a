import { now } from '../db.js';
import type { Listener, OutboxEvent } from './listener.js';
import type { DeadEventRow } from './repository.js';

/** Longest error text kept in a dead event (the message only: no stack, no payload). */
const DEAD_ERROR_MAX = 500;
/** Dead events are kept this long (the outbox prune removes older ones). */
export const DEAD_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** A stored payload that is not a JSON object: no attempt can succeed, so it is dead at once. */
export class UnreadableEventError extends Error {
  constructor() {
    super('stored event payload is not a JSON object');
    this.name = 'UnreadableEventError';
  }
}

/** A failure of `handle` on these events, read after `cursor` (carries what the dispatcher needs to isolate them). */
export class EventFailure extends Error {
  constructor(
    readonly events: OutboxEvent[],
    readonly cursor: number,
    override readonly cause: unknown,
  ) {
    super('listener failed');
  }
}

/** An error as one line of bounded length. */
export function errorText(err: unknown): string {
  let text: string;
  if (err instanceof Error) text = `${err.name}: ${err.message}`;
  else {
    try {
      text = String(err);
    } catch {
      text = 'unknown error';
    }
  }
  return text.length > DEAD_ERROR_MAX ? `${text.slice(0, DEAD_ERROR_MAX - 1)}…` : text;
}

/** The dead_events row for an event `l` could not process. */
export function deadEventRow(l: Listener, ev: OutboxEvent, cause: unknown, attempts: number): DeadEventRow {
  return {
    listener: l.name,
    event_id: ev.id,
    account_id: ev.accountId,
    event_name: String(ev.name).slice(0, 64),
    error: errorText(cause),
    attempts,
    created_at: now(),
  };
}
