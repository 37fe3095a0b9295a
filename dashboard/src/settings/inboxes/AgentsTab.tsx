import { useEffect, useState } from 'react';
import { api, unwrap } from '../../api.js';
import { useSession } from '../../session.js';
import { AgentChecklist, membershipProblem, useAccountAgents } from './AgentChecklist.js';
import { problemText, type Agent, type Inbox, type Member } from './common.js';

const names = (list: { available_name?: string; name: string }[]) => list.map((a) => a.available_name || a.name).join(', ');

/** Tab Agents: the inbox's members; administrators tick agents in or out and save the set. */
export function AgentsTab({ inbox }: { inbox: Inbox }) {
  const { accountId, isAdministrator } = useSession();
  const [members, setMembers] = useState<Member[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setError(null);
    unwrap(api.GET('/api/v1/accounts/{account_id}/inbox_members/{inbox_id}', { params: { path: { account_id: accountId, inbox_id: inbox.id } } }))
      .then((r) => live && setMembers(r.payload))
      .catch((err) => live && setError(problemText(err)));
    return () => void (live = false);
  }, [accountId, inbox.id, attempt]);

  return (
    <section className="card" aria-labelledby="inbox-agents-title">
      <h2 id="inbox-agents-title">Agents</h2>
      <p className="card-lead">Agents of this inbox see its conversations and can be assigned to them. Administrators see every inbox.</p>
      {error && (
        <div className="actions">
          <p role="alert" className="error">
            {error}
          </p>
          <button type="button" className="button" onClick={() => setAttempt((a) => a + 1)}>
            Try again
          </button>
        </div>
      )}
      {!members && !error && <p className="loading">Loading agents…</p>}
      {members && (isAdministrator ? <MemberEditor inbox={inbox} members={members} onSaved={setMembers} /> : <MemberList members={members} />)}
    </section>
  );
}

function MemberList({ members }: { members: Member[] }) {
  if (!members.length) return <p className="muted">No agents in this inbox yet.</p>;
  return (
    <ul className="member-list" aria-label="Agents of this inbox">
      {members.map((m) => (
        <li key={m.id}>
          <span className="who">
            <span>{m.available_name || m.name}</span> <small className="muted">{m.email}</small>
          </span>
        </li>
      ))}
    </ul>
  );
}

function MemberEditor({ inbox, members, onSaved }: { inbox: Inbox; members: Member[]; onSaved: (m: Member[]) => void }) {
  const { accountId } = useSession();
  const { agents, error: loadError, retry } = useAccountAgents();
  const [selected, setSelected] = useState<Set<number>>(() => new Set(members.map((m) => m.id)));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState('');

  const memberIds = new Set(members.map((m) => m.id));
  const byId = new Map<number, Agent | Member>([...(agents ?? []).map((a) => [a.id, a] as const), ...members.map((m) => [m.id, m] as const)]);
  const adding = [...selected].filter((id) => !memberIds.has(id));
  const removing = [...memberIds].filter((id) => !selected.has(id));
  const dirty = adding.length > 0 || removing.length > 0;

  async function save() {
    setBusy(true);
    setError(null);
    setResult('');
    const added = adding.map((id) => byId.get(id)!).filter(Boolean);
    const removed = removing.map((id) => byId.get(id)!).filter(Boolean);
    try {
      const r = await unwrap(api.PATCH('/api/v1/accounts/{account_id}/inbox_members', { params: { path: { account_id: accountId } }, body: { inbox_id: inbox.id, user_ids: [...selected] } }));
      onSaved(r.payload);
      setSelected(new Set(r.payload.map((m) => m.id)));
      const parts = [added.length ? `Added ${names(added)}.` : '', removed.length ? `Removed ${names(removed)}.` : ''].filter(Boolean);
      setResult(parts.join(' ') || 'Saved.');
    } catch (err) {
      setError(membershipProblem(err, agents, problemText));
    }
    setBusy(false);
  }

  if (loadError) {
    return (
      <div className="actions">
        <p role="alert" className="error">
          {loadError}
        </p>
        <button type="button" className="button" onClick={retry}>
          Try again
        </button>
      </div>
    );
  }
  if (!agents) return <p className="loading">Loading agents…</p>;
  if (!agents.length) return <p className="muted">This account has no agents yet. Invite them under Settings → Agents.</p>;
  return (
    <>
      <p className="muted">
        {members.length} of {agents.length} agent{agents.length === 1 ? '' : 's'} in this inbox.
      </p>
      <AgentChecklist agents={agents} selected={selected} onChange={(s) => (setSelected(s), setResult(''))} label="Agents of this inbox" disabled={busy} />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="button primary" onClick={() => void save()} disabled={busy || !dirty}>
          {busy ? 'Saving…' : 'Save agents'}
        </button>
        {dirty && (
          <>
            <span className="muted">
              {[adding.length ? `${adding.length} to add` : '', removing.length ? `${removing.length} to remove` : ''].filter(Boolean).join(', ')}
            </span>
            <button type="button" className="button" onClick={() => setSelected(new Set(memberIds))} disabled={busy}>
              Undo changes
            </button>
          </>
        )}
      </div>
      <p className="status-line ok" role="status">
        {result}
      </p>
    </>
  );
}
