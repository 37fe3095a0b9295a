import type { Executor } from '../kernel/db.js';
import type { DeadEventsTable } from '../kernel/schema.js';
import type { Selectable } from 'kysely';

export type DeadEventRow = Selectable<DeadEventsTable>;

export const PAGE_SIZE = 25;

/** Dead events of one account's events, newest first (the dispatcher writes them: src/kernel/events/outbox.ts). */
export async function listDeadEvents(db: Executor, accountId: number, page: number): Promise<{ rows: DeadEventRow[]; count: number }> {
  const base = db.selectFrom('dead_events').where('account_id', '=', accountId);
  const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  const rows = await base
    .selectAll()
    .orderBy('id', 'desc')
    .limit(PAGE_SIZE)
    .offset((page - 1) * PAGE_SIZE)
    .execute();
  return { rows, count: Number(total?.n ?? 0) };
}
