import type { AppContext } from '../context.js';
import { now } from '../kernel/db.js';
import type { Worker } from '../workers.js';
import { changeConversation } from './changes.js';
import { dueSnoozedConversationIds, STATUS } from './repository.js';

/**
 * Snoozes that end by themselves: a conversation snoozed until a time opens again once that time
 * has passed, as the reference's scheduled job does. The change is the system's (no performer):
 * `conversation.status_changed` and `conversation.updated` go out as for any reopening (sockets,
 * callback, webhooks), and, as in the reference, no activity line is written. A snooze "until
 * the next reply" (snoozed_until null) ends only with the contact's next message.
 */

export const SNOOZE_SWEEP_MS = 15_000;
const BATCH = 100;

/**
 * Opens every snoozed conversation whose snoozed_until is at or before `at` (epoch ms); returns how
 * many. `stopped` is asked before each conversation: a shutdown waits for one, never for the rest.
 */
export async function reopenDueSnoozes(ctx: AppContext, at = now(), stopped: () => boolean = () => false): Promise<number> {
  let reopened = 0;
  for (;;) {
    const ids = await dueSnoozedConversationIds(ctx.database.db, at, BATCH);
    for (const id of ids) {
      if (stopped()) return reopened;
      const { before, conversation } = await ctx.database.transaction((trx) =>
        changeConversation(ctx, trx, id, async (current) => {
          // Checked again under the row lock: an agent may have changed it since the sweep read it.
          const due = current.status === STATUS.snoozed && current.snoozed_until != null && Number(current.snoozed_until) <= at;
          return { patch: due ? { status: STATUS.open, snoozed_until: null, status_changed_at: now() } : {}, result: null };
        }),
      );
      if (before.status !== conversation.status) reopened += 1;
    }
    if (ids.length < BATCH) return reopened;
  }
}

/** Sweeps at start (a restart catches up on what ended while down) and every SNOOZE_SWEEP_MS; never two sweeps at once. */
export function snoozeWorker(ctx: AppContext, everyMs = SNOOZE_SWEEP_MS): Worker {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopping = false;
  const sweep = () => {
    running ??= reopenDueSnoozes(ctx, now(), () => stopping)
      .then((n) => void (n && ctx.log.info({ reopened: n }, 'snoozes ended')))
      .catch((err) => ctx.log.error({ err }, 'snooze sweep failed; the next one retries'))
      .finally(() => (running = null));
    return running;
  };
  return {
    name: 'snooze',
    start() {
      stopping = false;
      void sweep();
      timer = setInterval(() => void sweep(), everyMs);
      timer.unref();
    },
    async stop() {
      stopping = true;
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}
