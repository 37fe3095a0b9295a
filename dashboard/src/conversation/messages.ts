import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorText, unwrap } from '../api.js';
import { toMsg, type Msg } from './model.js';

/**
 * The open conversation's messages, keyed by id: the latest page first, older pages on demand
 * (`before`, widened with `after` to ~300 at a time), live frames and own sends merged without
 * duplicates (a send is matched to its echo by echo_id), and a catch-up after a reconnect.
 */

export type MessagesState = {
  list: Msg[];
  loading: boolean;
  error: string | null;
  hasOlder: boolean;
  loadingOlder: boolean;
  olderError: string | null;
  /** Failed messages whose callback is being redelivered: shown as "Sending…" until the socket says more. */
  retrying: ReadonlySet<number>;
};

const PAGE = 20;
const RANGE_CAP = 1000;
const AFTER_CAP = 100;
/** How much wider than the last 20 an older page reaches (≈ 300 messages when ids are dense). */
const WIDEN = 14;

const initial: MessagesState = { list: [], loading: true, error: null, hasOlder: false, loadingOlder: false, olderError: null, retrying: new Set() };

/** Real messages by id ascending; messages still being sent after them, in the order they were written. */
function merge(list: Msg[], incoming: Msg[], keepExisting = false): Msg[] {
  if (!incoming.length) return list;
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) {
    if (m.id > 0 && m.echoId) {
      for (const [id, p] of byId) if (id < 0 && p.echoId === m.echoId) byId.delete(id);
    }
    if (keepExisting && byId.has(m.id)) continue;
    byId.set(m.id, m);
  }
  return [...byId.values()].sort((a, b) => (a.id < 0 || b.id < 0 ? (a.id < 0 ? (b.id < 0 ? b.id - a.id : 1) : -1) : a.id - b.id));
}

export function useMessages(accountId: number, conversationId: number) {
  const [state, setState] = useState<MessagesState>(initial);
  const stateRef = useRef(state);
  stateRef.current = state;
  const gen = useRef(0);

  const list = useCallback(
    async (query: { before?: number; after?: number }) => {
      const r = await unwrap(
        api.GET('/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages', {
          params: { path: { account_id: accountId, conversation_id: conversationId }, query },
        }),
      );
      return r.payload.map(toMsg);
    },
    [accountId, conversationId],
  );

  const loadLatest = useCallback(async () => {
    const mine = gen.current;
    try {
      const msgs = await list({});
      if (mine !== gen.current) return;
      setState((s) => ({ ...s, loading: false, error: null, list: merge(s.list, msgs), hasOlder: s.list.length ? s.hasOlder : msgs.length >= PAGE }));
    } catch (err) {
      if (mine === gen.current) setState((s) => ({ ...s, loading: false, error: errorText(err) }));
    }
  }, [list]);

  useEffect(() => {
    gen.current++;
    setState({ ...initial, retrying: new Set() });
    void loadLatest();
  }, [loadLatest]);

  const loadOlder = useCallback(async () => {
    const s0 = stateRef.current;
    const oldest = s0.list.find((m) => m.id > 0);
    if (!oldest || s0.loadingOlder || !s0.hasOlder) return;
    const mine = gen.current;
    setState((s) => ({ ...s, loadingOlder: true, olderError: null }));
    try {
      const first = await list({ before: oldest.id });
      let msgs = first;
      let hasOlder = first.length >= PAGE;
      if (hasOlder) {
        const lo = first[0]!.id;
        const after = Math.max(0, lo - Math.max(1, oldest.id - lo) * WIDEN);
        const more: Msg[] = [];
        for (let from = after; ; ) {
          const r = await list({ after: from, before: lo });
          more.push(...r);
          if (r.length < RANGE_CAP) break;
          from = r[r.length - 1]!.id + 1;
        }
        msgs = [...more, ...first];
        hasOlder = after > 0;
      }
      if (mine !== gen.current) return;
      setState((s) => ({ ...s, loadingOlder: false, hasOlder, list: merge(s.list, msgs) }));
    } catch (err) {
      if (mine === gen.current) setState((s) => ({ ...s, loadingOlder: false, olderError: errorText(err) }));
    }
  }, [list]);

  /** After a reconnect: everything after the newest message known, then the latest page again (statuses). */
  const catchUp = useCallback(async () => {
    const mine = gen.current;
    const newest = [...stateRef.current.list].reverse().find((m) => m.id > 0);
    try {
      const got: Msg[] = [];
      if (newest) {
        for (let from = newest.id; ; ) {
          const r = await list({ after: from });
          got.push(...r);
          if (r.length < AFTER_CAP) break;
          from = r[r.length - 1]!.id;
        }
      }
      got.push(...(await list({})));
      if (mine !== gen.current) return;
      setState((s) => ({ ...s, loading: false, error: null, list: merge(s.list, got) }));
    } catch (err) {
      if (mine === gen.current && !stateRef.current.list.length) setState((s) => ({ ...s, loading: false, error: errorText(err) }));
    }
  }, [list]);

  /**
   * `keepExisting`: a send's own response describes the message as it was created; a socket frame
   * for it that arrived first (message.created, or a message.updated such as a callback's delivery
   * state) is at least as new, so it stays.
   */
  const upsert = useCallback((msgs: Msg[], opts: { updated?: boolean; keepExisting?: boolean } = {}) => {
    setState((s) => {
      let retrying = s.retrying;
      if (opts.updated && msgs.some((m) => retrying.has(m.id))) {
        const next = new Set(retrying);
        for (const m of msgs) next.delete(m.id);
        retrying = next;
      }
      return { ...s, list: merge(s.list, msgs, opts.keepExisting), retrying };
    });
  }, []);

  const remove = useCallback((id: number) => setState((s) => ({ ...s, list: s.list.filter((m) => m.id !== id) })), []);

  const setRetrying = useCallback(
    (id: number, on: boolean) =>
      setState((s) => {
        const retrying = new Set(s.retrying);
        if (on) retrying.add(id);
        else retrying.delete(id);
        return { ...s, retrying };
      }),
    [],
  );

  return { state, loadOlder, catchUp, reload: loadLatest, upsert, remove, setRetrying };
}
