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
    meta: { count, current_page: page, total_pages: Math.max(1, Math.ceil(count / perPage)) },
    payload: rows.map(presentDeadEvent),
  };
}
