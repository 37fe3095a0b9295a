import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import type { ResponseBody } from '@channelx/client';
import { api, unwrap } from '../api.js';
import { useSession } from '../session.js';
import { useReconnected } from '../live.js';
import { useCommands } from '../commands.js';
import { Field, FormError, LoadError } from '../ui.js';
import { ConfirmDialog } from '../contacts/ConfirmDialog.js';
import { teamsApi, useLoaded, type Team, type TeamMember } from '../catalog.js';
import { errorAttributes, problemText, useFlash } from './inboxes/common.js';
import './settings.css';
import './admin.css';

type Agent = ResponseBody<'/api/v1/accounts/{account_id}/agents', 'get'>[number];

/** A status region that is always there (announces "Saved." without moving the page). */
export function StatusLine({ text }: { text: string }) {
  return (
    <div className="adm-status reserve">
      <p className="adm-ok" role="status" style={{ margin: 0 }}>
        {text}
      </p>
    </div>
  );
}

/**
 * Settings → Teams: the account's teams (name, description, auto-assignment) and their members.
 * Administrators create, edit, add and remove members, and delete; agents see the teams and who is in them.
 */
export function TeamsPage() {
  const { accountId, isAdministrator } = useSession();
  const teams = useLoaded(teamsApi.list);
  const [creating, setCreating] = useState(false);
  const [openId, setOpenId] = useState<number | null>(null);
  const [deleting, setDeleting] = useState<Team | null>(null);
  const flash = useFlash();
  useReconnected(() => void teams.reload());
  useCommands(isAdministrator ? [{ id: 'teams.create', title: 'Create team', group: 'Teams', keywords: 'new add group', run: () => (setOpenId(null), setCreating(true)) }] : []);

  const list = teams.data ? [...teams.data].sort((a, b) => a.name.localeCompare(b.name)) : null;
  const open = list?.find((t) => t.id === openId) ?? null;

  return (
    <div className="adm-page">
      <div className="adm-head">
        <h1>
          Teams
          {list && <span className="adm-count">{list.length}</span>}
        </h1>
        {isAdministrator && (
          <button type="button" className="button primary" aria-expanded={creating} onClick={() => (setOpenId(null), setCreating((v) => !v))}>
            Create team
          </button>
        )}
      </div>
      <p className="adm-lead">A team groups agents (e.g. Billing, Support). A conversation can be assigned to a team as well as to an agent.</p>
      {!isAdministrator && <p className="muted">Only administrators can create, change or delete teams.</p>}

      {creating && (
        <section className="card">
          <TeamForm
            accountId={accountId}
            team={null}
            onCancel={() => setCreating(false)}
            onSaved={(t) => {
              teams.set((d) => [...(d ?? []), t]);
              setCreating(false);
              setOpenId(t.id);
              flash.show(`Team ${t.name} created. Add its members below.`);
            }}
          />
        </section>
      )}
      {isAdministrator && <StatusLine text={flash.text} />}

      {teams.error && !list && (
        <LoadError message={teams.error} onRetry={() => void teams.reload()} />
      )}
      {!list && !teams.error && (
        <p className="loading" aria-busy="true">
          Loading teams…
        </p>
      )}
      {list?.length === 0 && (
        <div className="empty-state">
          <p>No teams yet.</p>
        </div>
      )}

      {open && (
        <TeamPanel
          key={open.id}
          team={open}
          onClose={() => setOpenId(null)}
          onSaved={(t) => {
            teams.set((d) => (d ?? []).map((x) => (x.id === t.id ? t : x)));
            flash.show(`Team ${t.name} saved.`);
          }}
          onDelete={() => setDeleting(open)}
        />
      )}

      {list && list.length > 0 && (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sr-only">Teams of the account</caption>
            <thead>
              <tr>
                <th scope="col">Team</th>
                <th scope="col">Description</th>
                <th scope="col">Auto-assignment</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.id} className="adm-row" data-testid={`team-${t.name}`}>
                  <th scope="row" className="adm-wrap">
                    {t.name}
                    {t.is_member && <span className="adm-you"> (your team)</span>}
                  </th>
                  <td className="adm-wrap">{t.description || <span className="muted">—</span>}</td>
                  <td>{t.allow_auto_assign ? <span className="badge ok">On</span> : <span className="badge wait">Off</span>}</td>
                  <td className="adm-actions">
                    <button type="button" className="button small" aria-expanded={openId === t.id} aria-label={isAdministrator ? `Manage team ${t.name}` : `Members of team ${t.name}`} onClick={() => (setCreating(false), setOpenId((o) => (o === t.id ? null : t.id)))}>
                      {isAdministrator ? 'Manage' : 'Members'}
                    </button>
                    {isAdministrator && (
                      <button type="button" className="button small danger-outline" aria-label={`Delete team ${t.name}`} onClick={() => setDeleting(t)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {deleting && (
        <ConfirmDialog
          title={`Delete the team ${deleting.name}?`}
          confirmLabel="Delete team"
          busyLabel="Deleting…"
          onConfirm={async () => {
            await teamsApi.remove(accountId, deleting.id);
            teams.set((d) => (d ?? []).filter((x) => x.id !== deleting.id));
            if (openId === deleting.id) setOpenId(null);
            flash.show(`Team ${deleting.name} deleted.`);
            setDeleting(null);
          }}
          onClose={() => setDeleting(null)}
        >
          <p>Its members stay in the account. Conversations assigned to the team are no longer assigned to a team.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function TeamForm({ accountId, team, onSaved, onCancel }: { accountId: number; team: Team | null; onSaved: (t: Team) => void; onCancel?: () => void }) {
  const id = useId();
  const [name, setName] = useState(team?.name ?? '');
  const [description, setDescription] = useState(team?.description ?? '');
  const [auto, setAuto] = useState(team?.allow_auto_assign ?? true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; fields: string[] } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) return setError({ message: 'Give the team a name.', fields: ['name'] });
    setBusy(true);
    setError(null);
    const body = { name: name.trim(), description: description.trim(), allow_auto_assign: auto };
    try {
      const saved = team ? await teamsApi.update(accountId, team.id, body) : await teamsApi.create(accountId, body);
      if (team) {
        // The edit form stays open: show what was stored (the name lowercased, trimmed), not what was typed.
        setName(saved.name);
        setDescription(saved.description ?? '');
        setAuto(saved.allow_auto_assign);
      }
      onSaved(saved);
    } catch (err) {
      setError({ message: problemText(err), fields: errorAttributes(err) });
    }
    setBusy(false);
  }
  const fieldError = (f: string) => (error?.fields.includes(f) ? error.message : null);
  const general = error && !['name', 'description'].some((f) => error.fields.includes(f)) ? error.message : null;
  return (
    <form className="stack" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`} className={team ? 'sr-only' : undefined}>
        {team ? `Details of ${team.name}` : 'Create a team'}
      </h2>
      <div className="adm-grid">
        <Field label="Team name" name="name" value={name} onChange={setName} maxLength={255} required error={fieldError('name')} autoComplete="off" />
        <Field label="Description" name="description" value={description} onChange={setDescription} maxLength={255} error={fieldError('description')} />
      </div>
      <label className="switch">
        <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} />
        <span className="switch-text">
          <strong>Allow auto-assignment</strong>
          <small>Conversations assigned to the team may be handed to one of its members automatically.</small>
        </span>
      </label>
      <FormError message={general} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : team ? 'Save team' : 'Create team'}
        </button>
        {onCancel && (
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}

/** One team: its details (a form for administrators) and its members. */
function TeamPanel({ team, onClose, onSaved, onDelete }: { team: Team; onClose: () => void; onSaved: (t: Team) => void; onDelete: () => void }) {
  const { accountId, isAdministrator } = useSession();
  const [members, setMembers] = useState<TeamMember[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [pick, setPick] = useState('');
  const [busy, setBusy] = useState(false);
  const [memberError, setMemberError] = useState<string | null>(null);
  const flash = useFlash();
  const pickId = useId();

  const load = useCallback(async () => {
    setError(null);
    try {
      setMembers(await teamsApi.members(accountId, team.id));
    } catch (err) {
      setError(problemText(err));
    }
  }, [accountId, team.id]);
  useEffect(() => void load(), [load]);
  useEffect(() => {
    if (!isAdministrator) return;
    unwrap(api.GET('/api/v1/accounts/{account_id}/agents', { params: { path: { account_id: accountId } } }))
      .then(setAgents)
      .catch(() => setAgents([]));
  }, [accountId, isAdministrator]);

  const memberIds = new Set(members?.map((m) => m.id));
  const candidates = (agents ?? []).filter((a) => a.confirmed !== false && !memberIds.has(a.id));
  const who = (m: { name: string; available_name?: string | null }) => m.available_name || m.name;

  async function change(add: boolean, ids: number[], name: string) {
    setBusy(true);
    setMemberError(null);
    try {
      if (add) await teamsApi.addMembers(accountId, team.id, ids);
      else await teamsApi.removeMembers(accountId, team.id, ids);
      await load();
      setPick('');
      flash.show(add ? `${name} added to ${team.name}.` : `${name} removed from ${team.name}.`);
    } catch (err) {
      setMemberError(problemText(err));
    }
    setBusy(false);
  }

  return (
    <section className="card team-panel" aria-label={`Team ${team.name}`} data-testid="team-panel">
      <div className="adm-head">
        <h2 style={{ margin: 0 }}>{team.name}</h2>
        <div className="actions">
          {isAdministrator && (
            <button type="button" className="button small danger-outline" onClick={onDelete}>
              Delete team
            </button>
          )}
          <button type="button" className="button small" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      {isAdministrator ? <TeamForm accountId={accountId} team={team} onSaved={onSaved} /> : team.description && <p>{team.description}</p>}

      <div className="setting-block">
        <h3>Members{members && <span className="adm-count">{members.length}</span>}</h3>
        {error && (
          <div className="actions">
            <p role="alert" className="error">
              {error}
            </p>
            <button type="button" className="button" onClick={() => void load()}>
              Try again
            </button>
          </div>
        )}
        {!members && !error && <p className="loading">Loading members…</p>}
        {members?.length === 0 && <p className="muted">No members yet.</p>}
        {members && members.length > 0 && (
          <ul className="member-list" aria-label={`Members of ${team.name}`}>
            {members.map((m) => (
              <li key={m.id}>
                <span className="who" style={{ flex: 1 }}>
                  <span>{who(m)}</span> <small className="muted">{m.email}</small>
                </span>
                {isAdministrator && (
                  <button type="button" className="button small danger-outline" disabled={busy} aria-label={`Remove ${who(m)} from ${team.name}`} onClick={() => void change(false, [m.id], who(m))}>
                    Remove
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
        {isAdministrator && (
          <form
            className="team-add"
            onSubmit={(e) => {
              e.preventDefault();
              const a = candidates.find((x) => String(x.id) === pick);
              if (a) void change(true, [a.id], who(a));
            }}
          >
            <label htmlFor={pickId}>Add a member</label>
            <div className="actions">
              <select id={pickId} value={pick} onChange={(e) => setPick(e.target.value)} disabled={!agents || busy}>
                <option value="">{!agents ? 'Loading agents…' : candidates.length ? 'Choose an agent…' : 'Every agent is a member'}</option>
                {candidates.map((a) => (
                  <option key={a.id} value={String(a.id)}>
                    {who(a)} ({a.email})
                  </option>
                ))}
              </select>
              <button type="submit" className="button" disabled={!pick || busy}>
                Add member
              </button>
            </div>
          </form>
        )}
        <FormError message={memberError} />
        <p className="adm-ok status-line" role="status">
          {flash.text}
        </p>
      </div>
    </section>
  );
}
