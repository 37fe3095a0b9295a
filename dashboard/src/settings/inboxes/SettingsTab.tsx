import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api.js';
import { navigate } from '../../router.js';
import { paths } from '../../routes.js';
import { useSession } from '../../session.js';
import { Field, FormError } from '../../ui.js';
import { errorAttributes, problemText, setNextPageFlash, useFlash, type Inbox } from './common.js';

/** Tab Settings: name and callback URL (administrators edit, agents read), and deleting the inbox. */
export function SettingsTab({ inbox, onChange }: { inbox: Inbox; onChange: (i: Inbox) => void }) {
  const { isAdministrator } = useSession();
  if (!isAdministrator) {
    return (
      <section className="card" aria-labelledby="inbox-settings-title">
        <h2 id="inbox-settings-title">Inbox settings</h2>
        <div className="stack">
          <div className="field">
            <span className="field-label">Channel name</span>
            <div className="readonly-value">{inbox.name}</div>
          </div>
          <div className="field">
            <span className="field-label">Callback URL</span>
            <div className="readonly-value">{inbox.webhook_url || <span className="muted">Not set</span>}</div>
          </div>
          <p className="muted">Only administrators can change this inbox.</p>
        </div>
      </section>
    );
  }
  return (
    <>
      <EditForm inbox={inbox} onChange={onChange} />
      <DangerZone inbox={inbox} />
    </>
  );
}

function EditForm({ inbox, onChange }: { inbox: Inbox; onChange: (i: Inbox) => void }) {
  const { accountId } = useSession();
  const [name, setName] = useState(inbox.name);
  const [url, setUrl] = useState(inbox.webhook_url ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; fields: string[] } | null>(null);
  const saved = useFlash();
  const dirty = name.trim() !== inbox.name || url.trim() !== (inbox.webhook_url ?? '');

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    saved.clear();
    try {
      const next = await unwrap(
        api.PATCH('/api/v1/accounts/{account_id}/inboxes/{id}', {
          params: { path: { account_id: accountId, id: inbox.id } },
          body: { name: name.trim(), channel: { webhook_url: url.trim() || null } },
        }),
      );
      onChange(next);
      setName(next.name);
      setUrl(next.webhook_url ?? '');
      saved.show('Saved.');
    } catch (err) {
      setError({ text: problemText(err), fields: errorAttributes(err) });
    }
    setBusy(false);
  }

  const urlError = error?.fields.some((f) => f.startsWith('webhook_url') || f.startsWith('channel')) ? error.text : null;
  const nameError = error?.fields.includes('name') ? error.text : null;
  const general = error && !urlError && !nameError ? error.text : null;
  return (
    <section className="card" aria-labelledby="inbox-settings-title">
      <h2 id="inbox-settings-title">Inbox settings</h2>
      <form className="stack" onSubmit={submit}>
        <Field label="Channel name" name="name" value={name} onChange={setName} required maxLength={255} autoComplete="off" error={nameError} />
        <Field
          label="Callback URL"
          name="webhook_url"
          type="url"
          value={url}
          onChange={setUrl}
          maxLength={2048}
          placeholder="https://example.com/channelx/callback"
          autoComplete="off"
          hint="Where ChannelX POSTs this inbox's messages and conversation changes. Leave empty to send nothing."
          error={urlError}
        />
        <FormError message={general} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy || !dirty || !name.trim()}>
            {busy ? 'Saving…' : 'Save changes'}
          </button>
          <span className="saved" role="status">
            {saved.text}
          </span>
        </div>
      </form>
    </section>
  );
}

function DangerZone({ inbox }: { inbox: Inbox }) {
  const { accountId } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.DELETE('/api/v1/accounts/{account_id}/inboxes/{id}', { params: { path: { account_id: accountId, id: inbox.id } } }));
      setNextPageFlash(`Inbox “${inbox.name}” deleted.`);
      navigate(paths.inboxes());
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  }

  return (
    <section className="card danger-zone" aria-labelledby="danger-title">
      <h2 id="danger-title">Danger zone</h2>
      <p className="card-lead">Deleting the inbox also deletes all of its conversations and messages. This cannot be undone.</p>
      {confirming ? (
        <div className="confirm-row" role="group" aria-label="Confirm deletion">
          <span>
            Delete “{inbox.name}” and all its conversations?
          </span>
          <button type="button" className="button danger" onClick={() => void remove()} disabled={busy} autoFocus>
            {busy ? 'Deleting…' : 'Yes, delete inbox'}
          </button>
          <button type="button" className="button" onClick={() => setConfirming(false)} disabled={busy}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="button danger-outline" onClick={() => setConfirming(true)}>
          Delete inbox
        </button>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}
