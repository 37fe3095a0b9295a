import { useEffect, useState } from 'react';
import { api, unwrap } from '../../api.js';
import { useSession } from '../../session.js';
import { problemText, type Agent } from './common.js';

/** The account's agents who can join an inbox (accepted members; pending invitations cannot). */
export function useAccountAgents() {
  const { accountId } = useSession();
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    unwrap(api.GET('/api/v1/accounts/{account_id}/agents', { params: { path: { account_id: accountId } } }))
      .then((list) => live && setAgents(list.filter((a) => a.confirmed !== false).sort((a, b) => a.name.localeCompare(b.name))))
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
      <legend className="visually-hidden">{label}</legend>
      <ul className="checklist">
        {agents.map((a) => (
          <li key={a.id}>
            <label>
              <input type="checkbox" checked={selected.has(a.id)} onChange={(e) => toggle(a.id, e.target.checked)} />
              <span className="who">
                <span>{a.available_name || a.name}</span>
                <small>{a.email}</small>
              </span>
              <span className="badge">{a.role === 'administrator' ? 'Administrator' : 'Agent'}</span>
            </label>
          </li>
        ))}
      </ul>
    </fieldset>
  );
}
