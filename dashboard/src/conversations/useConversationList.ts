import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, errorText, unwrap } from '../api.js';
import { useLiveEvent, useReconnected } from '../live.js';
import { useSession } from '../session.js';
import { apiQuery, comparator, itemFromEvent, itemFromJson, itemWithMessage, matches, placeItem, previewOf, type ConversationEvent, type Filters, type Item } from './model.js';

/**
 * The rows of one view (filters), page by page, kept current from /cable: new conversations are
 * placed where the server's order puts them, a new message moves its conversation and refreshes its
 * preview, a conversation that stops matching leaves, one that starts matching (or is not loaded
 * yet) is fetched. After a reconnect the loaded pages are fetched again.
 */

export const PER_PAGE = 25;
/** Pages fetched again after a reconnect at most (the rest loads on scroll). */
const RELOAD_PAGES = 8;

export type ListState = {
  phase: 'loading' | 'ready' | 'error';
  error: string | null;
  items: Item[];
  hasMore: boolean;
  more: 'idle' | 'loading' | 'error';
  moreError: string | null;
};

const INITIAL: ListState = { phase: 'loading', error: null, items: [], hasMore: false, more: 'idle', moreError: null };

async function fetchPage(accountId: number, f: Filters, page: number) {
  const r = await unwrap(
    api.GET('/api/v1/accounts/{account_id}/conversations', {
      params: { path: { account_id: accountId }, query: { ...apiQuery(f), sort_by: f.sort, page } },
    }),
  );
  return { items: r.data.payload.map(itemFromJson), hasMore: r.data.meta.current_page < r.data.meta.total_pages };
}

/** `a` then the rows of `b` not in `a`. */
function appendNew(a: Item[], b: Item[]): Item[] {
  const seen = new Set(a.map((x) => x.id));
  return [...a, ...b.filter((x) => !seen.has(x.id))];
}

export function useConversationList(filters: Filters, openId: number | null, onChanged: () => void) {
  const { accountId, profile } = useSession();
  const [state, setState] = useState<ListState>(INITIAL);
  const key = JSON.stringify([accountId, apiQuery(filters), filters.sort]);
  const gen = useRef(0);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const openRef = useRef(openId);
  openRef.current = openId;
  const changed = useRef(onChanged);
  changed.current = onChanged;
  const cmp = useMemo(() => comparator(filters.sort), [filters.sort]);
  const cmpRef = useRef(cmp);
  cmpRef.current = cmp;
  const itemsRef = useRef<Item[]>([]);
  itemsRef.current = state.items;

  /** The open conversation is read (the view marks it seen): never shown unread. */
  const seen = useCallback((it: Item) => (it.id === openRef.current && it.unread ? { ...it, unread: 0 } : it), []);

  const load = useCallback(
    async (pages: number, keep: boolean) => {
      const mine = ++gen.current;
      const f = filtersRef.current;
      if (!keep) setState(INITIAL);
      try {
        let items: Item[] = [];
        let hasMore = true;
        for (let p = 1; p <= pages && hasMore; p++) {
          const r = await fetchPage(accountId, f, p);
          if (mine !== gen.current) return;
          items = appendNew(items, r.items.map(seen));
          hasMore = r.hasMore;
        }
        setState({ phase: 'ready', error: null, items, hasMore, more: 'idle', moreError: null });
      } catch (err) {
        if (mine !== gen.current) return;
        // A failed refetch keeps what is on screen and says so where the next page would load.
        setState((s) => (keep && s.phase === 'ready' ? { ...s, more: 'error', moreError: errorText(err) } : { ...INITIAL, phase: 'error', error: errorText(err) }));
      }
    },
    [accountId, seen],
  );

  useEffect(() => {
    void load(1, false);
  }, [key, load]);

  const retry = useCallback(() => void load(1, false), [load]);

  useReconnected(() => {
    void load(Math.min(RELOAD_PAGES, Math.max(1, Math.ceil(itemsRef.current.length / PER_PAGE))), true);
    changed.current();
  });

  const loadMore = useCallback(async () => {
    const s = stateRef.current;
    if (s.phase !== 'ready' || !s.hasMore || s.more === 'loading') return;
    const mine = gen.current;
    setState((x) => ({ ...x, more: 'loading', moreError: null }));
    // Live changes shift the server's pages: the page holding the row after the last loaded one,
    // overlaps dropped.
    const page = Math.floor(s.items.length / PER_PAGE) + 1;
    try {
      const r = await fetchPage(accountId, filtersRef.current, page);
      if (mine !== gen.current) return;
      setState((x) => ({ ...x, items: appendNew(x.items, r.items.map(seen)), hasMore: r.hasMore, more: 'idle' }));
    } catch (err) {
      if (mine !== gen.current) return;
      setState((x) => ({ ...x, more: 'error', moreError: errorText(err) }));
    }
  }, [accountId, seen]);
  const stateRef = useRef(state);
  stateRef.current = state;

  /** Puts `it` where it belongs in the view, or takes it out. */
  const apply = useCallback(
    (it: Item) => {
      setState((s) => {
        if (s.phase !== 'ready') return s;
        const had = s.items.find((x) => x.id === it.id);
        // Events may arrive after a fetch that already holds their change (or a later one).
        if (had === it || (had && had.updatedAt > it.updatedAt)) return s;
        const inList = !!had;
        if (!matches(it, filtersRef.current, profile.id, inList)) return inList ? { ...s, items: s.items.filter((x) => x.id !== it.id) } : s;
        return { ...s, items: placeItem(s.items, seen(it), cmpRef.current, s.hasMore) };
      });
    },
    [profile.id, seen],
  );

  /** Changes rows already loaded (bulk results): each is re-placed or dropped. */
  const update = useCallback(
    (ids: number[], change: (it: Item) => Item) => {
      const want = new Set(ids);
      for (const it of itemsRef.current) if (want.has(it.id)) apply(change(it));
    },
    [apply],
  );

  // A conversation not loaded that a message touched: fetched once, then placed if it matches.
  const fetching = useRef(new Set<number>());
  const fetchOne = useCallback(
    async (id: number) => {
      if (fetching.current.has(id)) return;
      fetching.current.add(id);
      const mine = gen.current;
      try {
        const c = await unwrap(api.GET('/api/v1/accounts/{account_id}/conversations/{conversation_id}', { params: { path: { account_id: accountId, conversation_id: id } } }));
        if (mine === gen.current) apply(itemFromJson(c));
      } catch {
        /* gone or not visible: nothing to show */
      } finally {
        fetching.current.delete(id);
      }
    },
    [accountId, apply],
  );

  const onConversation = (c: ConversationEvent) => {
    apply(itemFromEvent(c, itemsRef.current.find((x) => x.id === c.id)));
    changed.current();
  };
  useLiveEvent('conversation.created', onConversation);
  useLiveEvent('conversation.updated', onConversation);
  useLiveEvent('conversation.status_changed', onConversation);
  useLiveEvent('assignee.changed', onConversation);
  useLiveEvent('team.changed', onConversation);
  useLiveEvent('conversation.deleted', (d) => {
    setState((s) => (s.items.some((x) => x.id === d.id) ? { ...s, items: s.items.filter((x) => x.id !== d.id) } : s));
    changed.current();
  });
  useLiveEvent('conversation.read', onConversation as (c: unknown) => void);

  useLiveEvent('message.created', (m) => {
    const it = itemsRef.current.find((x) => x.id === m.conversation_id);
    if (it) apply(itemWithMessage(it, m));
    else if (stateRef.current.phase === 'ready') void fetchOne(m.conversation_id);
    changed.current();
  });
  useLiveEvent('message.updated', (m) => {
    const it = itemsRef.current.find((x) => x.id === m.conversation_id);
    const preview = previewOf(m);
    if (it?.preview?.messageId === m.id && preview) apply({ ...it, preview });
  });
  useLiveEvent('contact.updated', (c) => {
    const contact = c as { id?: number; name?: string | null; email?: string | null; phone_number?: string | null };
    if (contact.id == null) return;
    setState((s) => {
      if (!s.items.some((x) => x.contactId === contact.id)) return s;
      const name = contact.name?.trim() || contact.email || contact.phone_number || 'Unknown contact';
      const search = [contact.name, contact.email, contact.phone_number].filter(Boolean).join(' ').toLowerCase();
      return { ...s, items: s.items.map((x) => (x.contactId === contact.id ? { ...x, contactName: name, contactSearch: search } : x)) };
    });
  });

  // Opening a conversation reads it.
  useEffect(() => {
    if (openId == null) return;
    setState((s) => (s.items.some((x) => x.id === openId && x.unread) ? { ...s, items: s.items.map((x) => (x.id === openId ? { ...x, unread: 0 } : x)) } : s));
  }, [openId]);

  return { state, retry, loadMore, update };
}

/** Counts for the tabs (same filters as the view, every assignee type) and the inbox sidebar. */
export type Counts = { mine: number; unassigned: number; all: number };
export type InboxCount = { open: number; unread: number };
/** Per account label (lowercased title): its open conversations the user can see. */
export type LabelCount = { open: number; unread: number };

export function useCounts(filters: Filters) {
  const { accountId } = useSession();
  const [counts, setCounts] = useState<Counts | null>(null);
  const [inboxes, setInboxes] = useState<Map<number, InboxCount> | null>(null);
  const [labels, setLabels] = useState<Map<string, LabelCount> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify([accountId, apiQuery(filters, false)]);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const gen = useRef(0);

  const fetchCounts = useCallback(async () => {
    const mine = ++gen.current;
    try {
      const r = await unwrap(api.GET('/api/v1/accounts/{account_id}/conversations/meta', { params: { path: { account_id: accountId }, query: apiQuery(filtersRef.current, false) } }));
      if (mine !== gen.current) return;
      setCounts({ mine: r.meta.mine_count, unassigned: r.meta.unassigned_count, all: r.meta.all_count });
      const per = (r.meta as { inboxes?: { inbox_id: number; open_count: number; unread_count: number }[] }).inboxes;
      if (per) setInboxes(new Map(per.map((x) => [x.inbox_id, { open: x.open_count, unread: x.unread_count }])));
      setLabels(new Map(r.meta.labels.map((x) => [x.title.toLowerCase(), { open: x.open_count, unread: x.unread_count }])));
      setError(null);
    } catch (err) {
      if (mine === gen.current) setError(errorText(err));
    }
  }, [accountId]);

  // The previous view's counts stay until these arrive (no jump in the tabs).
  useEffect(() => void fetchCounts(), [key, fetchCounts]);

  // Events come in bursts: one refetch per burst.
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refresh = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void fetchCounts(), 600);
  }, [fetchCounts]);
  useEffect(() => () => clearTimeout(timer.current), []);

  return { counts, inboxes, labels, error, refresh };
}
