import { logPageMeta } from '../kernel/presenters.js';
import type { DeadEventRow } from './repository.js';

export function presentDeadEvent(r: DeadEventRow) {
  return {
    id: r.id,
    listener: r.listener,
    event_id: Number(r.event_id),
    event: r.event_name,
    account_id: r.account_id,
    error: r.error,
    attempts: r.attempts,
    created_at: Math.floor(Number(r.created_at) / 1000),
  };
}

export function presentDeadEventPage(rows: DeadEventRow[], count: number, page: number, perPage: number) {
  return {
    meta: logPageMeta(count, page, perPage),
    payload: rows.map(presentDeadEvent),
  };
}
