import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { api, errorText, unwrap } from '../api.js';
import { useCommands, type Command } from '../commands.js';
import { ConversationView } from '../conversation/ConversationView.js';
import { navigate, useLocation } from '../router.js';
import { paths } from '../routes.js';
import { useSession } from '../session.js';
import { BulkBar, type Agent } from './BulkBar.js';
import { bulkTasks, runBounded, type BulkFailure } from './bulk.js';
import { ConversationList, type ListHandle } from './ConversationList.js';
import { SkeletonRows } from './ConversationRow.js';
import { InboxSelect, InboxSidebar, type InboxRef } from './InboxSidebar.js';
import { filtersSearch, parseFilters, SORTS, STATUSES, TABS, type Filters, type Item, type Tab } from './model.js';
import { useConversationList, useCounts } from './useConversationList.js';
import { LabelColors, labelsApi, teamsApi, type Label, type Team } from '../catalog.js';
import { useReconnected } from '../live.js';
import './conversations.css';

/** The clock in whole minutes, ticking once a minute (relative times in the rows). */
function useMinute(): number {
  const [m, setM] = useState(() => Math.floor(Date.now() / 60_000));
  useEffect(() => {
    const t = setInterval(() => setM(Math.floor(Date.now() / 60_000)), 15_000);
    return () => clearInterval(t);
  }, []);
  return m;
}

function useInboxes() {
  const { accountId } = useSession();
  const [inboxes, setInboxes] = useState<InboxRef[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    setError(null);
    try {
      const r = await unwrap(api.GET('/api/v1/accounts/{account_id}/inboxes', { params: { path: { account_id: accountId } } }));
      setInboxes(r.payload.map((i) => ({ id: i.id, name: i.name, channelType: i.channel_type })));
    } catch (err) {
      setError(errorText(err));
    }
  }, [accountId]);
  useEffect(() => void load(), [load]);
  return { inboxes, error, reload: load };
}

/** The account's labels (for the sidebar) and teams (for the team filter). */
function useCatalog() {
  const { accountId } = useSession();
  const [labels, setLabels] = useState<Label[] | null>(null);
  const [teams, setTeams] = useState<Team[] | null>(null);
  const load = useCallback(() => {
    labelsApi.list(accountId).then(setLabels, () => setLabels((l) => l ?? []));
    teamsApi.list(accountId).then((t) => setTeams([...t].sort((a, b) => a.name.localeCompare(b.name))), () => setTeams((t) => t ?? []));
  }, [accountId]);
  useEffect(() => load(), [load]);
  useReconnected(load);
  return { labels, teams };
}

type BulkRun = { verb: string; done: number; total: number };
type BulkResult = { verb: string; total: number; failures: (BulkFailure & { name: string })[] };

const EMPTY: Record<Tab, string> = {
  mine: 'No conversations assigned to you',
  unassigned: 'No unassigned conversations — nice work',
  all: 'No conversations here',
};

/**
 * /app/conversations[/:id]: the workspace — inbox sidebar | the list (tabs Mine / Unassigned / All,
 * status, sort, search, bulk actions) | the open conversation. The list's state lives in the query
 * string, which every link keeps.
 */
export function ConversationsPage({ conversationId }: { conversationId: number | null }) {
  const { profile, accountId } = useSession();
  const { search } = useLocation();
  const filters = useMemo(() => parseFilters(search), [search]);
  const query = filtersSearch(filters);
  const now = useMinute();
  const uid = useId();
  const listId = `${uid}-list`;
  const tabId = (t: Tab) => `${uid}-tab-${t}`;

  const { inboxes, error: inboxError, reload: reloadInboxes } = useInboxes();
  const inboxNames = useMemo(() => new Map((inboxes ?? []).map((i) => [i.id, i.name])), [inboxes]);
  const { counts, inboxes: inboxCounts, labels: labelCounts, error: countsError, refresh: refreshCounts } = useCounts(filters);
  const { labels: accountLabels, teams } = useCatalog();
  const labelColors = useMemo(() => new Map((accountLabels ?? []).map((l) => [l.title.toLowerCase(), l.color])), [accountLabels]);
  const { state, retry, loadMore, update } = useConversationList(filters, conversationId, refreshCounts);
  const items = state.items;
  const itemsRef = useRef(items);
  itemsRef.current = items;

  /* ---------- navigation keeping the query ---------- */

  const go = useCallback(
    (f: Filters, replace = false) => {
      const s = filtersSearch(f);
      navigate(conversationId ? paths.conversation(conversationId, s) : paths.conversations(s), replace);
    },
    [conversationId],
  );
  const hrefOf = useCallback((id: number) => paths.conversation(id, query), [query]);
  const inboxHref = useCallback(
    (inboxId: number | null) => {
      const s = filtersSearch({ ...filters, inboxId });
      return conversationId ? paths.conversation(conversationId, s) : paths.conversations(s);
    },
    [filters, conversationId],
  );

  const labelHref = useCallback(
    (label: string | null) => {
      const s = filtersSearch({ ...filters, label });
      return conversationId ? paths.conversation(conversationId, s) : paths.conversations(s);
    },
    [filters, conversationId],
  );

  const teamHref = useCallback(
    (teamId: number | null) => {
      const s = filtersSearch({ ...filters, teamId });
      return conversationId ? paths.conversation(conversationId, s) : paths.conversations(s);
    },
    [filters, conversationId],
  );

  /* ---------- search (debounced into the URL) ---------- */

  const [text, setText] = useState(filters.q);
  const pushed = useRef(filters.q);
  useEffect(() => {
    // Back/forward or a link changed the search: show it.
    if (filters.q !== pushed.current) {
      pushed.current = filters.q;
      setText(filters.q);
    }
  }, [filters.q]);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  useEffect(() => {
    if (text === pushed.current) return;
    const t = setTimeout(() => {
      pushed.current = text;
      go({ ...filtersRef.current, q: text }, true);
    }, 250);
    return () => clearTimeout(t);
  }, [text, go]);
  const searchRef = useRef<HTMLInputElement>(null);

  /* ---------- selection ---------- */

  const [selected, setSelected] = useState<ReadonlySet<number>>(new Set());
  // Only rows in the view can be selected: a row that leaves it leaves the selection.
  useEffect(() => {
    setSelected((s) => {
      if (!s.size) return s;
      const ids = new Set(items.map((x) => x.id));
      const kept = [...s].filter((id) => ids.has(id));
      return kept.length === s.size ? s : new Set(kept);
    });
  }, [items]);
  // Another view starts with nothing selected.
  useEffect(() => setSelected(new Set()), [filters.tab, filters.status, filters.inboxId, filters.q, filters.sort, filters.label, filters.teamId]);
  const onSelect = useCallback((id: number, on: boolean) => {
    setSelected((s) => {
      const n = new Set(s);
      if (on) n.add(id);
      else n.delete(id);
      return n;
    });
  }, []);
  const allSelected = items.length > 0 && items.every((x) => selected.has(x.id));
  const someSelected = selected.size > 0 && !allSelected;
  const selectAll = (on: boolean) => setSelected(on ? new Set(items.map((x) => x.id)) : new Set());
  const selectAllRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (selectAllRef.current) selectAllRef.current.indeterminate = someSelected;
  }, [someSelected]);

  /* ---------- bulk actions ---------- */

  const [run, setRun] = useState<BulkRun | null>(null);
  const [result, setResult] = useState<BulkResult | null>(null);
  const knownLabels = useMemo(() => [...new Set(items.flatMap((x) => x.labels))].sort((a, b) => a.localeCompare(b)), [items]);

  async function bulk(verb: string, task: (id: number) => Promise<void>, change: (it: Item) => Item) {
    const ids = items.filter((x) => selected.has(x.id)).map((x) => x.id);
    if (!ids.length || run) return;
    const names = new Map(items.map((x) => [x.id, x.contactName]));
    setResult(null);
    setRun({ verb, done: 0, total: ids.length });
    const failures = await runBounded(ids, task, (done) => setRun({ verb, done, total: ids.length }));
    const failed = new Set(failures.map((f) => f.id));
    update(
      ids.filter((id) => !failed.has(id)),
      change,
    );
    refreshCounts();
    setRun(null);
    setSelected(new Set());
    setResult({ verb, total: ids.length, failures: failures.map((f) => ({ ...f, name: names.get(f.id) ?? `#${f.id}` })) });
  }
  const resolve = () => void bulk('Resolved', bulkTasks.resolve(accountId), (it) => ({ ...it, status: 'resolved' }));
  const assign = (a: Agent | null) =>
    void bulk(a ? `Assigned to ${a.name}` : 'Unassigned', bulkTasks.assign(accountId, a?.id ?? null), (it) => ({ ...it, assignee: a ? { id: a.id, name: a.name } : null }));
  const addLabel = (label: string) =>
    void bulk(`Labelled “${label}”`, bulkTasks.addLabel(accountId, label), (it) => ({ ...it, labels: it.labels.includes(label) ? it.labels : [...it.labels, label] }));
  // A finished run's note stays a while, then goes.
  useEffect(() => {
    if (!result || result.failures.length) return;
    const t = setTimeout(() => setResult(null), 6000);
    return () => clearTimeout(t);
  }, [result]);

  /* ---------- keyboard ---------- */

  const listRef = useRef<ListHandle>(null);
  const currentIndex = () => {
    const f = listRef.current?.focusedIndex() ?? -1;
    return f >= 0 ? f : items.findIndex((x) => x.id === conversationId);
  };
  const openAt = (i: number) => {
    const it = items[i];
    if (!it) return;
    navigate(hrefOf(it.id));
    listRef.current?.focusIndex(i);
  };
  const step = (d: 1 | -1) => {
    const i = currentIndex();
    openAt(i < 0 ? 0 : Math.max(0, Math.min(items.length - 1, i + d)));
  };
  const toggleCurrent = () => {
    const it = items[currentIndex()];
    if (it) onSelect(it.id, !selected.has(it.id));
  };
  const commands: Command[] = [
    { id: 'conversations.next', title: 'Next conversation', group: 'Conversations', shortcut: 'j', run: () => step(1) },
    { id: 'conversations.previous', title: 'Previous conversation', group: 'Conversations', shortcut: 'k', run: () => step(-1) },
    { id: 'conversations.search', title: 'Search conversations', group: 'Conversations', shortcut: '/', run: () => setTimeout(() => searchRef.current?.focus()) },
    { id: 'conversations.select', title: 'Select or deselect the current conversation', group: 'Conversations', shortcut: 'x', keywords: 'bulk', run: toggleCurrent },
    ...TABS.map((t) => ({ id: `conversations.tab.${t.id}`, title: `Show ${t.label === 'All' ? 'all conversations' : t.label === 'Mine' ? 'my conversations' : 'unassigned conversations'}`, group: 'Conversations', shortcut: t.shortcut, run: () => go({ ...filtersRef.current, tab: t.id }) })),
    { id: 'conversations.select-all', title: 'Select all conversations on screen', group: 'Conversations', keywords: 'bulk', run: () => selectAll(true) },
  ];
  for (const l of (accountLabels ?? []).filter((x) => x.show_on_sidebar)) {
    commands.push({ id: `conversations.label.${l.id}`, title: `Show conversations labelled ${l.title}`, group: 'Conversations', keywords: 'label filter tag', run: () => go({ ...filtersRef.current, label: l.title }) });
  }
  for (const t of teams ?? []) {
    commands.push({ id: `conversations.team.${t.id}`, title: `Show the conversations of team ${t.name}`, group: 'Conversations', keywords: 'team filter', run: () => go({ ...filtersRef.current, teamId: t.id }) });
  }
  if (filters.label || filters.teamId != null) {
    commands.push({ id: 'conversations.clear-label-team', title: 'Clear the label and team filters', group: 'Conversations', keywords: 'label team filter all', run: () => go({ ...filtersRef.current, label: null, teamId: null }) });
  }
  if (selected.size) {
    commands.push(
      { id: 'conversations.clear-selection', title: 'Clear the selection', group: 'Conversations', run: () => selectAll(false) },
      { id: 'conversations.bulk-resolve', title: `Resolve ${selected.size} selected conversations`, group: 'Conversations', keywords: 'bulk', run: resolve },
    );
  }
  useCommands(commands);

  // "Resolve and next" in the view: the next row of this order (else the previous one, else none).
  const onAdvance = useCallback(() => {
    const list = itemsRef.current;
    const i = list.findIndex((x) => x.id === conversationId);
    const next = i >= 0 ? (list[i + 1] ?? list[i - 1]) : list[0];
    navigate(next && next.id !== conversationId ? paths.conversation(next.id, filtersSearch(filtersRef.current)) : paths.conversations(filtersSearch(filtersRef.current)));
  }, [conversationId]);

  /* ---------- tabs ---------- */

  const onTabKey = (e: React.KeyboardEvent, t: Tab) => {
    const i = TABS.findIndex((x) => x.id === t);
    const to = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : null;
    if (to == null) return;
    e.preventDefault();
    const next = TABS[(to + TABS.length) % TABS.length]!;
    go({ ...filters, tab: next.id });
    document.getElementById(tabId(next.id))?.focus();
  };
  const countOf = (t: Tab) => (counts ? counts[t] : null);

  /* ---------- the list body ---------- */

  let body: React.ReactNode;
  if (state.phase === 'loading') {
    body = (
      <div className="cx-scroll" role="tabpanel" id={listId} aria-labelledby={tabId(filters.tab)} aria-busy="true">
        <p className="sr-only" role="status">
          Loading conversations…
        </p>
        <SkeletonRows />
      </div>
    );
  } else if (state.phase === 'error') {
    body = (
      <div className="cx-scroll cx-state" role="tabpanel" id={listId} aria-labelledby={tabId(filters.tab)}>
        <p role="alert" className="error">
          {state.error}
        </p>
        <button type="button" className="button" onClick={retry}>
          Try again
        </button>
      </div>
    );
  } else if (!items.length) {
    const q = filters.q.trim();
    body = (
      <div className="cx-scroll cx-state" role="tabpanel" id={listId} aria-labelledby={tabId(filters.tab)} data-testid="conversations-empty">
        <ul data-testid="conversation-list" aria-label="Conversations" className="cx-list-empty" />
        <p className="cx-empty-title">{q ? `No conversations match “${q}”` : EMPTY[filters.tab]}</p>
        <p className="muted">
          {q
            ? 'Search looks in messages and in the contact’s name, e-mail and phone.'
            : filters.status === 'all'
              ? 'New conversations appear here as they arrive.'
              : `Showing ${STATUSES.find((s) => s.id === filters.status)!.label.toLowerCase()} conversations${filters.inboxId != null ? ` in ${inboxNames.get(filters.inboxId) ?? 'this inbox'}` : ''}.`}
        </p>
        {q ? (
          <button type="button" className="button" onClick={() => (setText(''), (pushed.current = ''), go({ ...filters, q: '' }, true))}>
            Clear search
          </button>
        ) : (
          filters.status !== 'all' && (
            <button type="button" className="button" onClick={() => go({ ...filters, status: 'all' })}>
              Show all statuses
            </button>
          )
        )}
      </div>
    );
  } else {
    body = (
      <ConversationList
        ref={listRef}
        id={listId}
        labelledBy={tabId(filters.tab)}
        items={items}
        openId={conversationId}
        selected={selected}
        inboxNames={inboxNames}
        hrefOf={hrefOf}
        myId={profile.id}
        now={now}
        hasMore={state.hasMore && state.more !== 'error'}
        onSelect={onSelect}
        onNearEnd={loadMore}
        footer={
          <div className="cx-more">
            {state.more === 'loading' && (
              <p className="muted" role="status">
                Loading more…
              </p>
            )}
            {state.more === 'error' && (
              <>
                <p role="alert" className="error">
                  {state.moreError}
                </p>
                <button type="button" className="button cx-small" onClick={() => void loadMore()}>
                  Try again
                </button>
              </>
            )}
            {state.more === 'idle' && state.hasMore && (
              <button type="button" className="button cx-small" onClick={() => void loadMore()}>
                Load more
              </button>
            )}
          </div>
        }
      />
    );
  }

  return (
    <LabelColors.Provider value={labelColors}>
      <div className="cx-workspace">
        <h1 className="sr-only">Conversations</h1>
        <InboxSidebar
          inboxes={inboxes}
          error={inboxError}
          onRetry={() => void reloadInboxes()}
          counts={inboxCounts}
          current={filters.inboxId}
          hrefOf={inboxHref}
          labels={accountLabels}
          labelCounts={labelCounts}
          currentLabel={filters.label}
          labelHref={labelHref}
          teams={teams}
          currentTeam={filters.teamId}
          teamHref={teamHref}
        />

        <section className="cx-listpane" aria-label="Conversation list">
          <div className="cx-listhead">
            <div className="cx-searchrow">
              <InboxSelect inboxes={inboxes} current={filters.inboxId} onChange={(inboxId) => go({ ...filters, inboxId })} />
              <input
                ref={searchRef}
                type="search"
                className="cx-search"
                placeholder="Search…"
                aria-label="Search conversations"
                aria-keyshortcuts="/"
                value={text}
                maxLength={255}
                onChange={(e) => setText(e.target.value)}
                onKeyDown={(e) => e.key === 'Escape' && text && (e.preventDefault(), setText(''))}
              />
            </div>
            <div className="cx-tabs" role="tablist" aria-label="Assignee">
              {TABS.map((t) => {
                const on = filters.tab === t.id;
                const n = countOf(t.id);
                return (
                  <button
                    key={t.id}
                    id={tabId(t.id)}
                    type="button"
                    role="tab"
                    aria-selected={on}
                    aria-controls={listId}
                    tabIndex={on ? 0 : -1}
                    className="cx-tab"
                    onClick={() => go({ ...filters, tab: t.id })}
                    onKeyDown={(e) => onTabKey(e, t.id)}
                  >
                    {t.label}
                    {n != null && <span className="cx-tab-count"> {n}</span>}
                  </button>
                );
              })}
            </div>
            <div className="cx-controls">
              <input
                ref={selectAllRef}
                type="checkbox"
                className="cx-check"
                checked={allSelected}
                disabled={!items.length || !!run}
                onChange={(e) => selectAll(e.target.checked)}
                aria-label={`Select all ${items.length} conversations on screen`}
              />
              {selected.size > 0 || run ? (
                <BulkBar count={selected.size} busy={!!run} knownLabels={knownLabels} onResolve={resolve} onAssign={assign} onLabel={addLabel} onClear={() => selectAll(false)} />
              ) : (
                <div className="cx-filters">
                  <select aria-label="Status" value={filters.status} onChange={(e) => go({ ...filters, status: e.target.value as Filters['status'] })}>
                    {STATUSES.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.label}
                      </option>
                    ))}
                  </select>
                  <select aria-label="Sort by" value={filters.sort} onChange={(e) => go({ ...filters, sort: e.target.value as Filters['sort'] })}>
                    {SORTS.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.label}
                      </option>
                    ))}
                  </select>
                </div>
              )}
            </div>
            {/* Where the sidebar gives way (narrow windows), its labels and teams are these selects. */}
            <div className="cx-narrow-filters">
              <select aria-label="Label" value={filters.label ?? ''} onChange={(e) => go({ ...filters, label: e.target.value || null })}>
                <option value="">All labels</option>
                {accountLabels
                  ?.filter((l) => l.show_on_sidebar || l.title === filters.label)
                  .map((l) => (
                    <option key={l.id} value={l.title}>
                      {l.title}
                    </option>
                  ))}
                {filters.label && !accountLabels?.some((l) => l.title === filters.label) && <option value={filters.label}>{filters.label}</option>}
              </select>
              <select aria-label="Team" value={filters.teamId ?? ''} onChange={(e) => go({ ...filters, teamId: e.target.value ? Number(e.target.value) : null })}>
                <option value="">All teams</option>
                {teams?.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
                {filters.teamId != null && !teams?.some((t) => t.id === filters.teamId) && <option value={filters.teamId}>Team {filters.teamId}</option>}
              </select>
            </div>
            {filters.label && (
              <div className="cx-note cx-filter-note" data-testid="label-filter">
                <span>
                  Labelled <strong>{filters.label}</strong>
                </span>
                <button type="button" className="cx-link-button" onClick={() => go({ ...filters, label: null })} aria-label={`Clear the label filter ${filters.label}`}>
                  Clear
                </button>
              </div>
            )}
            <BulkNote run={run} result={result} onDismiss={() => setResult(null)} />
            {countsError && (
              <p className="cx-note error" role="alert">
                Counts could not be loaded: {countsError}
              </p>
            )}
          </div>
          {body}
        </section>

        <div className="cx-viewpane">
          {conversationId ? (
            <ConversationView key={conversationId} conversationId={conversationId} onAdvance={onAdvance} />
          ) : (
            <div className="cx-noview">
              <p className="cx-empty-title">Select a conversation</p>
              <p className="muted">
                Pick one from the list, or press <kbd>j</kbd> / <kbd>k</kbd> to move through it.
              </p>
            </div>
          )}
        </div>
      </div>
    </LabelColors.Provider>
  );
}

function BulkNote({ run, result, onDismiss }: { run: BulkRun | null; result: BulkResult | null; onDismiss: () => void }) {
  if (run) {
    return (
      <div className="cx-note" role="status" data-testid="bulk-progress">
        <span>
          Working… {run.done} of {run.total}
        </span>
        <progress max={run.total} value={run.done} aria-label="Bulk action progress" />
      </div>
    );
  }
  if (!result) return <div className="cx-note-slot" role="status" />;
  const failed = result.failures.length;
  return (
    <div className={`cx-note${failed ? ' cx-note-error' : ''}`} role={failed ? 'alert' : 'status'} data-testid="bulk-result">
      <span>
        {failed
          ? `${failed} of ${result.total} failed: ${result.failures
              .slice(0, 3)
              .map((f) => `${f.name} (${f.error})`)
              .join('; ')}${failed > 3 ? ` and ${failed - 3} more` : ''}`
          : `${result.verb}: ${result.total} conversation${result.total === 1 ? '' : 's'}.`}
      </span>
      <button type="button" className="cx-link-button" onClick={onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
