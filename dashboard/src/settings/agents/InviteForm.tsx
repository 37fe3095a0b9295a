import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ResponseBody } from '@channelx/client';
import { api, errorText, unwrap } from '../../api.js';
import { Field } from '../../ui.js';
import { invalidFields } from '../../contacts/format.js';
import { CopyValue } from '../../copy.js';

export type CreatedAgent = ResponseBody<'/api/v1/accounts/{account_id}/agents', 'post'>;

/** "Invite agent": name, e-mail and role → POST /agents; server errors inline, on the fields they name. */
export function InviteForm({ accountId, onInvited, onCancel }: { accountId: number; onInvited: (a: CreatedAgent) => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<'agent' | 'administrator'>('agent');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; fields: string[] } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await unwrap(api.POST('/api/v1/accounts/{account_id}/agents', { params: { path: { account_id: accountId } }, body: { name: name.trim(), email: email.trim(), role } }));
      setName('');
      setEmail('');
      setRole('agent');
      onInvited(created);
    } catch (err) {
      setError({ message: errorText(err), fields: invalidFields(err) });
    }
    setBusy(false);
  }

  const invalid = (f: string) => (error?.fields.includes(f) ? true : undefined);
  return (
    <section className="card" id="invite-form" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite an agent</h2>
      <p className="muted">They get a link to set their password. Someone who already uses ChannelX is invited to this account and joins when they accept.</p>
      <form onSubmit={submit} className="stack">
        <div className="adm-grid">
          <Field label="Name" name="name" value={name} onChange={setName} required maxLength={255} autoComplete="off" autoFocus aria-invalid={invalid('name')} />
          <Field label="E-mail" name="email" type="email" value={email} onChange={setEmail} required maxLength={255} autoComplete="off" aria-invalid={invalid('email')} />
          <div className="field">
            <label htmlFor="invite-role">Role</label>
            <select id="invite-role" name="role" value={role} onChange={(e) => setRole(e.target.value as 'agent' | 'administrator')}>
              <option value="agent">Agent</option>
              <option value="administrator">Administrator</option>
            </select>
          </div>
        </div>
        {error && (
          <p role="alert" className="error">
            {error.message}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? 'Inviting…' : 'Send invitation'}
          </button>
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

/** What the invitation gave: the one-time link of a new user, or the note that an existing user was invited. */
export function InvitedNotice({ created, onDismiss }: { created: CreatedAgent; onDismiss: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // The form that had focus is gone: the result takes it, so the link is read out next.
  useEffect(() => heading.current?.focus(), []);
  const url = typeof created.invitation_url === 'string' ? created.invitation_url : null;
  const expires = typeof created.invitation_expires_at === 'string' ? new Date(created.invitation_expires_at) : null;
  return (
    <section className="card adm-callout" aria-labelledby="invited-title" data-testid="invited-notice">
      <h2 id="invited-title" tabIndex={-1} ref={heading}>
        {created.name} is invited
      </h2>
      {url ? (
        <>
          <p>
            Send this link to {created.email}. It works once{expires ? `, until ${expires.toLocaleString()}` : ''}, and is not shown again.
          </p>
          <CopyValue value={url} label="Invitation link" testId="invitation-link" />
        </>
      ) : (
        <p>
          {created.email} already has a ChannelX account. They join this account when they accept the invitation in their profile
          {expires ? ` (before ${expires.toLocaleString()})` : ''}.
        </p>
      )}
      <div className="actions">
        <button type="button" className="button" onClick={onDismiss}>
          Done
        </button>
      </div>
    </section>
  );
}
