import { useEffect, useState } from 'react';
import { ChannelxError, api, unwrap } from '../../api.js';
import { useSession } from '../../session.js';
import { problemText, type Agent } from './common.js';

/** The account's agents (invited ones who have not accepted yet follow, `confirmed: false`). */
export function useAccountAgents() {
  const { accountId } = useSession();
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    unwrap(api.GET('/api/v1/accounts/{account_id}/agents', { params: { path: { account_id: accountId } } }))
      .then((list) => live && setAgents(list))
      .catch((err) => live && setError(problemText(err)));
    return () => void (live = false);
  }, [accountId, attempt]);
  return { agents, error, retry: () => setAttempt((a) => a + 1) };
}

/** Checkboxes, one per agent: name, email, role. */
export function AgentChecklist({ agents, selected, onChange, label, disabled }: { agents: Agent[]; selected: Set<number>; onChange: (s: Set<number>) => void; label: string; disabled?: boolean }) {
  const toggle = (id: number, on: boolean) => {
    const n = new Set(selected);
    if (on) n.add(id);
    else n.delete(id);
    onChange(n);
  };
  return (
    <fieldset className="plain-fieldset" disabled={disabled}>
      <legend className="sr-only">{label}</legend>
      <ul className="checklist">
        {agents.map((a) => (
          <li key={a.id}>
            <label>
              <input type="checkbox" checked={selected.has(a.id)} onChange={(e) => toggle(a.id, e.target.checked)} />
              <span className="who">
                <span>{a.available_name || a.name}</span>
                <small>{a.email}</small>
              </span>
              {!a.confirmed && <span className="badge wait">Invited</span>}
              <span className="badge">{a.role === 'administrator' ? 'Administrator' : 'Agent'}</span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}

/**
 * A refused membership change in words: the API names the users who are not members of the
 * account (an invitation not accepted yet) in `invalid_user_ids`.
 */
export function membershipProblem(err: unknown, agents: Agent[] | null, fallback: (e: unknown) => string): string {
  const ids = err instanceof ChannelxError ? err.body?.invalid_user_ids : undefined;
  if (Array.isArray(ids) && ids.length) {
    const who = ids.map((id) => agents?.find((a) => a.id === id)).map((a, i) => (a ? a.available_name || a.name : `user ${ids[i]}`));
    return `Not members of this account yet (their invitation is not accepted): ${who.join(', ')}. Untick them and try again.`;
  }
  return fallback(err);
}
