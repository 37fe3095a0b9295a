import { useCallback, useEffect, useState } from 'react';
import type { ResponseBody } from '@channelx/client';
import { api, errorText, isStatus, unwrap } from '../api.js';
import { useSession } from '../session.js';
import { useReconnected } from '../live.js';
import { useCommands } from '../commands.js';
import { ConfirmDialog } from '../contacts/ConfirmDialog.js';
import { InviteForm, InvitedNotice, type CreatedAgent } from './agents/InviteForm.js';
import './settings.css';
import './admin.css';
import { LoadError } from '../ui.js';

type Agent = ResponseBody<'/api/v1/accounts/{account_id}/agents', 'get'>[number];
type Role = 'agent' | 'administrator';

const roleLabel = (r: string) => (r === 'administrator' ? 'Administrator' : 'Agent');

/**
 * Settings → Agents: everyone sees who is in the account; administrators invite, change roles and
 * remove. An unconfirmed agent has not accepted yet ("Invitation pending").
 */
export function AgentsPage() {
  const { accountId, isAdministrator, profile, setProfile } = useSession();
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [inviting, setInviting] = useState(false);
  const [invited, setInvited] = useState<CreatedAgent | null>(null);
  const [status, setStatus] = useState<{ text: string; error?: boolean } | null>(null);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [removing, setRemoving] = useState<Agent | null>(null);
  const [demotingSelf, setDemotingSelf] = useState<Agent | null>(null);

  const load = useCallback(async () => {
    try {
      setAgents(await unwrap(api.GET('/api/v1/accounts/{account_id}/agents', { params: { path: { account_id: accountId } } })));
      setLoadError(null);
    } catch (err) {
      setLoadError(errorText(err));
    }
  }, [accountId]);
  useEffect(() => void load(), [load]);
  useReconnected(() => void load());

  useCommands(
    isAdministrator
      ? [{ id: 'agents.invite', title: 'Invite agent', group: 'Agents', run: () => (setInvited(null), setInviting(true)) }]
      : [],
  );

  const admins = agents?.filter((a) => a.role === 'administrator' && a.confirmed).length ?? 0;

  async function changeRole(agent: Agent, role: Role) {
    setBusyId(agent.id);
    setStatus(null);
    try {
      const updated = await unwrap(
        api.PATCH('/api/v1/accounts/{account_id}/agents/{id}', { params: { path: { account_id: accountId, id: agent.id } }, body: { role } }),
      );
      setAgents((list) => list?.map((a) => (a.id === agent.id ? { ...a, ...updated } : a)) ?? null);
      setStatus({ text: `${agent.available_name || agent.name} is now ${role === 'administrator' ? 'an administrator' : 'an agent'}.` });
      // Demoting yourself changes what this dashboard may do: take the new role from the profile.
      if (agent.id === profile.id) setProfile(await unwrap(api.GET('/api/v1/profile')));
    } catch (err) {
      const text =
        isStatus(err, 404) && !agent.confirmed
          ? `${agent.email} has not accepted the invitation yet, so the role cannot change now. Withdraw the invitation and invite again with the other role.`
          : errorText(err);
      setStatus({ text, error: true });
    }
    setBusyId(null);
  }

  async function remove(agent: Agent) {
    await unwrap(api.DELETE('/api/v1/accounts/{account_id}/agents/{id}', { params: { path: { account_id: accountId, id: agent.id } } }));
    setAgents((list) => list?.filter((a) => a.id !== agent.id) ?? null);
    setRemoving(null);
    setStatus({ text: agent.confirmed ? `${agent.available_name || agent.name} was removed from the account.` : `The invitation of ${agent.email} was withdrawn.` });
    if (invited?.id === agent.id) setInvited(null);
  }

  return (
    <div className="adm-page">
      <div className="adm-head">
        <h1>
          Agents
          {agents && <span className="adm-count">{agents.length}</span>}
        </h1>
        {isAdministrator && (
          <button type="button" className="button primary" aria-expanded={inviting} aria-controls="invite-form" onClick={() => (setInvited(null), setInviting((v) => !v))}>
            Invite agent
          </button>
        )}
      </div>
      {!isAdministrator && <p className="muted">Only administrators can invite, change or remove agents.</p>}

      {inviting && (
        <InviteForm
          accountId={accountId}
          onCancel={() => setInviting(false)}
          onInvited={(created) => {
            setInviting(false);
            setInvited(created);
            setStatus(null);
            void load();
          }}
        />
      )}
      {invited && <InvitedNotice created={invited} onDismiss={() => setInvited(null)} />}

      {isAdministrator && (
        <div className="adm-status reserve">
          <p className="adm-ok" role="status" style={{ margin: 0 }}>
            {status && !status.error ? status.text : ''}
          </p>
          {status?.error && (
            <p role="alert" className="error">
              {status.text}
            </p>
          )}
        </div>
      )}

      {loadError && (
        <LoadError message={loadError} onRetry={() => void load()} />
      )}
      {!agents && !loadError && <p className="loading" aria-busy="true">Loading agents…</p>}

      {agents && (
        <div className="table-wrap">
          <div>
            <table className="data-table">
              <caption className="sr-only">Agents of the account</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">E-mail</th>
                  <th scope="col">Role</th>
                  <th scope="col">Availability</th>
                  <th scope="col">Status</th>
                  {isAdministrator && (
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {agents.map((a) => {
                  const you = a.id === profile.id;
                  const who = a.available_name || a.name;
                  const lastAdmin = a.role === 'administrator' && a.confirmed && admins <= 1;
                  return (
                    <tr key={a.id} className="adm-row" data-testid={`agent-${a.email}`}>
                      <th scope="row" className="adm-wrap">
                        {who}
                        {you && <span className="adm-you"> (you)</span>}
                        {a.available_name && a.available_name !== a.name && <span className="adm-sub">{a.name}</span>}
                      </th>
                      <td className="adm-wrap">{a.email}</td>
                      <td>
                        {isAdministrator ? (
                          <>
                            <select
                              aria-label={`Role of ${who}`}
                              value={a.role}
                              disabled={busyId === a.id || lastAdmin}
                              aria-describedby={lastAdmin ? `last-admin-${a.id}` : undefined}
                              onChange={(e) => {
                                const role = e.target.value as Role;
                                if (you && role === 'agent') setDemotingSelf(a);
                                else void changeRole(a, role);
                              }}
                            >
                              <option value="agent">Agent</option>
                              <option value="administrator">Administrator</option>
                            </select>
                            {lastAdmin && (
                              <span className="adm-sub" id={`last-admin-${a.id}`}>
                                The only administrator
                              </span>
                            )}
                          </>
                        ) : (
                          roleLabel(a.role)
                        )}
                      </td>
                      <td>
                        <span className="badge wait">
                          <span className={`adm-dot ${a.availability_status}`} aria-hidden="true" />
                          {a.availability_status === 'online' ? 'Online' : a.availability_status === 'busy' ? 'Busy' : 'Offline'}
                        </span>
                      </td>
                      <td>{a.confirmed ? <span className="badge ok">Active</span> : <span className="badge accent">Invitation pending</span>}</td>
                      {isAdministrator && (
                        <td className="adm-actions">
                          {you ? (
                            <span className="muted">You cannot remove yourself</span>
                          ) : lastAdmin ? (
                            <span className="muted">The last administrator stays</span>
                          ) : (
                            <button type="button" className="button small danger-outline" disabled={busyId === a.id} onClick={() => setRemoving(a)} aria-label={`${a.confirmed ? 'Remove' : 'Withdraw invitation of'} ${who}`}>
                              {a.confirmed ? 'Remove' : 'Withdraw'}
                            </button>
                          )}
                        </td>
                      )}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </div>
      )}

      {removing && (
        <ConfirmDialog
          title={removing.confirmed ? `Remove ${removing.available_name || removing.name}?` : `Withdraw the invitation of ${removing.email}?`}
          confirmLabel={removing.confirmed ? 'Remove agent' : 'Withdraw invitation'}
          busyLabel="Removing…"
          onConfirm={() => remove(removing)}
          onClose={() => setRemoving(null)}
        >
          {removing.confirmed ? (
            <p>
              They lose access to this account at once and leave its inboxes; conversations assigned to them become unassigned. Their ChannelX user and other accounts are not affected.
            </p>
          ) : (
            <p>The invitation stops working. You can invite {removing.email} again later.</p>
          )}
        </ConfirmDialog>
      )}
      {demotingSelf && (
        <ConfirmDialog
          title="Make yourself an agent?"
          confirmLabel="Yes, make me an agent"
          busyLabel="Changing…"
          onConfirm={async () => {
            const me = demotingSelf;
            setDemotingSelf(null);
            await changeRole(me, 'agent');
          }}
          onClose={() => setDemotingSelf(null)}
        >
          <p>You will no longer manage agents, inboxes or webhooks of this account. Another administrator can make you an administrator again.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
