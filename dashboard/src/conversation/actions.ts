import { useCallback, useEffect, useState } from 'react';
import { api, errorText, unwrap } from '../api.js';
import { labelsApi, teamsApi, useLoaded, type Team } from '../catalog.js';
import type { MenuName } from './Header.js';
import type { Agent, Conversation } from './model.js';

export type PatchConversation = (p: Partial<Conversation> | ((c: Conversation) => Conversation)) => void;

/**
 * The open conversation's actions (status, snooze, assignee, team, priority, labels, unread): each
 * runs busy, reports its failure in `actionError` and its success in `actionNote` (for screen
 * readers), patches the shown conversation with the answer and asks for a refetch. Also what the
 * header's menus offer: the inbox's agents and the teams (loaded when their menu opens), the
 * account's labels and the labels other conversations use.
 */
export function useConversationActions({
  accountId,
  path,
  convRef,
  patchConv,
  refetchSoon,
}: {
  accountId: number;
  path: { account_id: number; conversation_id: number };
  convRef: { current: Conversation | null };
  patchConv: PatchConversation;
  refetchSoon: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [actionNote, setActionNote] = useState('');
  const [menu, setMenu] = useState<MenuName>(null);

  const act = useCallback(
    async (what: string, fn: () => Promise<void>, done?: string) => {
      setBusy(true);
      setActionError(null);
      try {
        await fn();
        if (done) setActionNote(done);
      } catch (err) {
        setActionError(`${what} failed: ${errorText(err)}`);
      }
      setBusy(false);
      refetchSoon();
    },
    [refetchSoon],
  );

  const setStatus = useCallback(
    (status: 'open' | 'resolved' | 'snoozed', snoozedUntil?: number | null) =>
      act(
        status === 'open' ? 'Reopening' : status === 'resolved' ? 'Resolving' : 'Snoozing',
        async () => {
          const r = await unwrap(
            api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/toggle_status', {
              params: { path },
              body: status === 'snoozed' ? { status, snoozed_until: snoozedUntil ?? null } : { status },
            }),
          );
          patchConv({ status: r.payload.current_status, snoozed_until: r.payload.snoozed_until });
        },
        status === 'open' ? 'Reopened.' : status === 'resolved' ? 'Resolved.' : 'Snoozed.',
      ),
    [act, path, patchConv],
  );

  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [agentsError, setAgentsError] = useState<string | null>(null);
  const loadAgents = useCallback(async () => {
    const c = convRef.current;
    if (!c) return;
    setAgentsError(null);
    try {
      const [all, members] = await Promise.all([
        unwrap(api.GET('/api/v1/accounts/{account_id}/agents', { params: { path: { account_id: accountId } } })),
        unwrap(api.GET('/api/v1/accounts/{account_id}/inbox_members/{inbox_id}', { params: { path: { account_id: accountId, inbox_id: c.inbox_id } } })),
      ]);
      const ids = new Set(members.payload.map((m) => m.id));
      setAgents(all.filter((a) => a.confirmed !== false && (ids.has(a.id) || a.role === 'administrator')));
    } catch (err) {
      setAgentsError(`Agents could not be loaded: ${errorText(err)}`);
    }
  }, [accountId]);

  const assign = useCallback(
    (agentId: number | null) =>
      act(
        agentId ? 'Assigning' : 'Unassigning',
        async () => {
          const a = await unwrap(
            api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments', { params: { path }, body: { assignee_id: agentId } }),
          );
          patchConv((c) => ({ ...c, meta: { ...c.meta, assignee: (a || undefined) as Conversation['meta']['assignee'] } }));
        },
        agentId ? 'Assigned.' : 'Unassigned.',
      ),
    [act, path, patchConv],
  );

  const setPriority = useCallback(
    (priority: string | null) =>
      act(
        'Changing the priority',
        async () => {
          const c = await unwrap(api.PATCH('/api/v1/accounts/{account_id}/conversations/{conversation_id}', { params: { path }, body: { priority } }));
          patchConv(() => c);
        },
        priority ? `Priority: ${priority}.` : 'Priority cleared.',
      ),
    [act, path, patchConv],
  );

  const setLabels = useCallback(
    (labels: string[]) =>
      act('Saving the labels', async () => {
        const r = await unwrap(api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/labels', { params: { path }, body: { labels } }));
        patchConv({ labels: r.payload });
      }),
    [act, path, patchConv],
  );

  const [labelSuggestions, setLabelSuggestions] = useState<string[]>([]);
  const loadLabelSuggestions = useCallback(async () => {
    try {
      const r = await unwrap(api.GET('/api/v1/accounts/{account_id}/conversations', { params: { path: { account_id: accountId }, query: { status: 'all' } } }));
      setLabelSuggestions([...new Set(r.data.payload.flatMap((c) => c.labels))].sort());
    } catch {
      /* suggestions are a convenience: free text still works */
    }
  }, [accountId]);

  const markUnread = useCallback(
    () =>
      act(
        'Marking unread',
        async () => {
          await unwrap(api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/unread', { params: { path } }));
        },
        'Marked unread.',
      ),
    [act, path],
  );

  useEffect(() => {
    if (menu === 'assign' && !agents) void loadAgents();
  }, [menu, agents, loadAgents]);

  /* teams (loaded when their menu opens) and account labels */
  const [teams, setTeams] = useState<Team[] | null>(null);
  const [teamsError, setTeamsError] = useState<string | null>(null);
  useEffect(() => {
    if (menu !== 'team') return;
    setTeamsError(null);
    teamsApi
      .list(accountId)
      .then((t) => setTeams([...t].sort((a, b) => a.name.localeCompare(b.name))))
      .catch((err) => setTeamsError(`Teams could not be loaded: ${errorText(err)}`));
  }, [menu, accountId]);

  const assignTeam = useCallback(
    (team: Team | null) =>
      act(
        team ? 'Assigning the team' : 'Removing the team',
        async () => {
          await unwrap(api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments', { params: { path }, body: { team_id: team?.id ?? 0 } }));
          patchConv((c) => ({ ...c, meta: { ...c.meta, team: team ?? undefined } }));
        },
        team ? `Team: ${team.name}.` : 'Team removed.',
      ),
    [act, path, patchConv],
  );

  // The picker still takes free text when they cannot be loaded; opening it loads them again.
  const accountLabels = useLoaded(labelsApi.list);

  const loadMenuLabels = useCallback(() => (void loadLabelSuggestions(), void accountLabels.reload()), [loadLabelSuggestions, accountLabels.reload]);
  return {
    busy,
    actionError,
    setActionError,
    actionNote,
    menu,
    setMenu,
    agents,
    agentsError,
    teams,
    teamsError,
    accountLabels: accountLabels.data,
    labelSuggestions,
    setStatus,
    assign,
    assignTeam,
    setPriority,
    setLabels,
    /** Opening the labels menu: the suggestions and the account's labels, fresh. */
    loadLabelSuggestions: loadMenuLabels,
    markUnread,
  };
}
