import { api, errorText, unwrap } from '../api.js';

/** Bulk actions: one API call (or two) per conversation, a few at a time, every failure kept. */

export type BulkFailure = { id: number; error: string };

export async function runBounded(ids: number[], task: (id: number) => Promise<void>, onProgress: (done: number) => void, concurrency = 4): Promise<BulkFailure[]> {
  const failures: BulkFailure[] = [];
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        await task(id);
      } catch (err) {
        failures.push({ id, error: errorText(err) });
      }
      onProgress(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  return failures;
}

const path = (accountId: number, id: number) => ({ path: { account_id: accountId, conversation_id: id } });

export const bulkTasks = {
  resolve: (accountId: number) => async (id: number) => {
    await unwrap(api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/toggle_status', { params: path(accountId, id), body: { status: 'resolved' } }));
  },
  assign: (accountId: number, assigneeId: number | null) => async (id: number) => {
    await unwrap(api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments', { params: path(accountId, id), body: { assignee_id: assigneeId } }));
  },
  /** Adds `label` to the conversation's current labels (read first: the call replaces the list). */
  addLabel: (accountId: number, label: string) => async (id: number) => {
    const current = await unwrap(api.GET('/api/v1/accounts/{account_id}/conversations/{conversation_id}/labels', { params: path(accountId, id) }));
    if (current.payload.includes(label)) return;
    await unwrap(api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/labels', { params: path(accountId, id), body: { labels: [...current.payload, label] } }));
  },
};
