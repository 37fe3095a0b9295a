import { useId, useState, type FormEvent } from 'react';
import { useSession } from '../session.js';
import { useReconnected } from '../live.js';
import { useCommands } from '../commands.js';
import { Field, FormError, LoadError } from '../ui.js';
import { ConfirmDialog } from '../contacts/ConfirmDialog.js';
import { cannedApi, useLoaded, type CannedResponse } from '../catalog.js';
import { errorAttributes, problemText, useFlash } from './inboxes/common.js';
import { StatusLine } from './TeamsSettings.js';
import './settings.css';
import './admin.css';

/** Canned responses whose short code or content contains `q` (case-insensitive), short-code matches first. */
export function searchCanned(list: CannedResponse[], q: string): CannedResponse[] {
  const s = q.trim().toLowerCase();
  const sorted = [...list].sort((a, b) => a.short_code.localeCompare(b.short_code));
  if (!s) return sorted;
  const code = sorted.filter((c) => c.short_code.toLowerCase().includes(s));
  const content = sorted.filter((c) => !code.includes(c) && c.content.toLowerCase().includes(s));
  return [...code, ...content];
}

/**
 * Settings → Canned responses: saved replies (a short code and the text). In a reply, `/` and the
 * short code insert one. Everyone in the account may add one (as the API allows); administrators
 * also edit and delete.
 */
export function CannedResponsesPage() {
  const { accountId, isAdministrator } = useSession();
  const canned = useLoaded((a) => cannedApi.list(a));
  const [q, setQ] = useState('');
  const [editing, setEditing] = useState<CannedResponse | 'new' | null>(null);
  const [deleting, setDeleting] = useState<CannedResponse | null>(null);
  const flash = useFlash();
  const searchId = useId();
  useReconnected(() => void canned.reload());
  useCommands([{ id: 'canned.add', title: 'Add canned response', group: 'Canned responses', keywords: 'template saved reply short code new', run: () => setEditing('new') }]);

  const list = canned.data ? searchCanned(canned.data, q) : null;
  return (
    <div className="adm-page">
      <div className="adm-head">
        <h1>
          Canned responses
          {canned.data && <span className="adm-count">{canned.data.length}</span>}
        </h1>
        <button type="button" className="button primary" aria-expanded={editing === 'new'} onClick={() => setEditing((e) => (e === 'new' ? null : 'new'))}>
          Add canned response
        </button>
      </div>
      <p className="adm-lead">
        Saved replies for the questions you answer often. In the reply box, type <kbd>/</kbd> and the short code to insert one.
      </p>
      {!isAdministrator && <p className="muted">You can add canned responses; only administrators can change or delete them.</p>}

      {editing && (
        <CannedForm
          key={editing === 'new' ? 'new' : editing.id}
          accountId={accountId}
          canned={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(c, created) => {
            canned.set((d) => (created ? [...(d ?? []), c] : (d ?? []).map((x) => (x.id === c.id ? c : x))));
            setEditing(null);
            flash.show(created ? `Canned response /${c.short_code} added.` : `Canned response /${c.short_code} saved.`);
          }}
        />
      )}
      <StatusLine text={flash.text} />

      <div className="field canned-search">
        <label htmlFor={searchId}>Search canned responses</label>
        <input id={searchId} type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Short code or text" maxLength={255} />
      </div>

      {canned.error && !list && (
        <LoadError message={canned.error} onRetry={() => void canned.reload()} />
      )}
      {!list && !canned.error && (
        <p className="loading" aria-busy="true">
          Loading canned responses…
        </p>
      )}
      {list?.length === 0 && (
        <div className="empty-state">
          <p>{canned.data?.length ? `No canned response matches “${q.trim()}”.` : 'No canned responses yet.'}</p>
        </div>
      )}
      {list && list.length > 0 && (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sr-only">Canned responses of the account</caption>
            <thead>
              <tr>
                <th scope="col">Short code</th>
                <th scope="col">Content</th>
                {isAdministrator && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {list.map((c) => (
                <tr key={c.id} className="adm-row" data-testid={`canned-${c.short_code}`}>
                  <th scope="row" className="adm-nowrap">
                    <code>/{c.short_code}</code>
                  </th>
                  <td className="adm-wrap canned-content">{c.content}</td>
                  {isAdministrator && (
                    <td className="adm-actions">
                      <button type="button" className="button small" aria-label={`Edit canned response ${c.short_code}`} onClick={() => setEditing(c)}>
                        Edit
                      </button>
                      <button type="button" className="button small danger-outline" aria-label={`Delete canned response ${c.short_code}`} onClick={() => setDeleting(c)}>
                        Delete
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {deleting && (
        <ConfirmDialog
          title={`Delete the canned response /${deleting.short_code}?`}
          confirmLabel="Delete canned response"
          busyLabel="Deleting…"
          onConfirm={async () => {
            await cannedApi.remove(accountId, deleting.id);
            canned.set((d) => (d ?? []).filter((x) => x.id !== deleting.id));
            // An open edit form of the deleted response would only fail to save.
            setEditing((e) => (e !== 'new' && e?.id === deleting.id ? null : e));
            flash.show(`Canned response /${deleting.short_code} deleted.`);
            setDeleting(null);
          }}
          onClose={() => setDeleting(null)}
        >
          <p>Messages already sent with it are not affected.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function CannedForm({ accountId, canned, onSaved, onCancel }: { accountId: number; canned: CannedResponse | null; onSaved: (c: CannedResponse, created: boolean) => void; onCancel: () => void }) {
  const id = useId();
  const [code, setCode] = useState(canned?.short_code ?? '');
  const [content, setContent] = useState(canned?.content ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; fields: string[] } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const sc = code.trim().replace(/^\//, '');
    if (!sc) return setError({ message: 'Give it a short code.', fields: ['short_code'] });
    if (!content.trim()) return setError({ message: 'Write the text to insert.', fields: ['content'] });
    setBusy(true);
    setError(null);
    try {
      const body = { short_code: sc, content };
      const saved = canned ? await cannedApi.update(accountId, canned.id, body) : await cannedApi.create(accountId, body);
      onSaved(saved, !canned);
    } catch (err) {
      setError({ message: problemText(err), fields: errorAttributes(err) });
    }
    setBusy(false);
  }
  const fieldError = (f: string) => (error?.fields.includes(f) ? error.message : null);
  const general = error && !['short_code', 'content'].some((f) => error.fields.includes(f)) ? error.message : null;
  const contentError = fieldError('content');
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{canned ? `Edit /${canned.short_code}` : 'Add a canned response'}</h2>
      <Field label="Short code" name="short_code" value={code} onChange={setCode} maxLength={255} required error={fieldError('short_code')} hint="Typed after / in the reply box, e.g. thanks." autoComplete="off" spellCheck={false} />
      <div className="field">
        <label htmlFor={`${id}-content`}>Content</label>
        <textarea
          id={`${id}-content`}
          name="content"
          className="canned-textarea"
          rows={4}
          value={content}
          onChange={(e) => setContent(e.target.value)}
          required
          maxLength={10000}
          aria-invalid={contentError ? true : undefined}
          aria-describedby={contentError ? `${id}-content-error` : undefined}
        />
        {contentError && (
          <p id={`${id}-content-error`} className="field-error" role="alert">
            {contentError}
          </p>
        )}
      </div>
      <FormError message={general} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : canned ? 'Save canned response' : 'Add canned response'}
        </button>
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
