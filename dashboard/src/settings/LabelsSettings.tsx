import { useId, useState, type FormEvent } from 'react';
import { useSession } from '../session.js';
import { useReconnected } from '../live.js';
import { useCommands } from '../commands.js';
import { Field, FormError, LoadError } from '../ui.js';
import { ConfirmDialog } from '../contacts/ConfirmDialog.js';
import { isHexColor, labelsApi, textOn, useLoaded, type Label } from '../catalog.js';
import { errorAttributes, problemText, useFlash } from './inboxes/common.js';
import { StatusLine } from './TeamsSettings.js';
import './settings.css';
import './admin.css';

const DEFAULT_COLOR = '#1f93ff';

/**
 * Settings → Labels: the account's labels with their colour, description and whether the
 * conversations sidebar lists them. Administrators add, edit and delete; agents see the list.
 */
export function LabelsPage() {
  const { accountId, isAdministrator } = useSession();
  const labels = useLoaded(labelsApi.list);
  const [editing, setEditing] = useState<Label | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Label | null>(null);
  const flash = useFlash();
  useReconnected(() => void labels.reload());
  useCommands(isAdministrator ? [{ id: 'labels.add', title: 'Add label', group: 'Labels', keywords: 'tag new create', run: () => setEditing('new') }] : []);

  const list = labels.data ? [...labels.data].sort((a, b) => a.title.localeCompare(b.title)) : null;
  return (
    <div className="adm-page">
      <div className="adm-head">
        <h1>
          Labels
          {list && <span className="adm-count">{list.length}</span>}
        </h1>
        {isAdministrator && (
          <button type="button" className="button primary" aria-expanded={editing === 'new'} onClick={() => setEditing((e) => (e === 'new' ? null : 'new'))}>
            Add label
          </button>
        )}
      </div>
      <p className="adm-lead">Labels sort conversations and contacts. Those shown in the sidebar appear beside the conversation list with their counts.</p>
      {!isAdministrator && <p className="muted">Only administrators can add, change or delete labels.</p>}

      {editing && (
        <LabelForm
          key={editing === 'new' ? 'new' : editing.id}
          accountId={accountId}
          label={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(l, created) => {
            labels.set((d) => (created ? [...(d ?? []), l] : (d ?? []).map((x) => (x.id === l.id ? l : x))));
            setEditing(null);
            flash.show(created ? `Label ${l.title} added.` : `Label ${l.title} saved.`);
          }}
        />
      )}
      {isAdministrator && <StatusLine text={flash.text} />}

      {labels.error && !list && (
        <LoadError message={labels.error} onRetry={() => void labels.reload()} />
      )}
      {!list && !labels.error && (
        <p className="loading" aria-busy="true">
          Loading labels…
        </p>
      )}
      {list?.length === 0 && (
        <div className="empty-state">
          <p>No labels yet.</p>
          {isAdministrator && <p>Add one to tag conversations, e.g. “billing” or “bug”.</p>}
        </div>
      )}
      {list && list.length > 0 && (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sr-only">Labels of the account</caption>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Description</th>
                <th scope="col">Sidebar</th>
                {isAdministrator && (
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {list.map((l) => (
                <tr key={l.id} className="adm-row" data-testid={`label-${l.title}`}>
                  <th scope="row" className="adm-wrap">
                    <LabelChip label={l} />
                    <span className="adm-sub">{l.color}</span>
                  </th>
                  <td className="adm-wrap">{l.description || <span className="muted">—</span>}</td>
                  <td>{l.show_on_sidebar ? <span className="badge ok">Shown</span> : <span className="badge wait">Hidden</span>}</td>
                  {isAdministrator && (
                    <td className="adm-actions">
                      <button type="button" className="button small" aria-label={`Edit label ${l.title}`} onClick={() => setEditing(l)}>
                        Edit
                      </button>
                      <button type="button" className="button small danger-outline" aria-label={`Delete label ${l.title}`} onClick={() => setDeleting(l)}>
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
          title={`Delete the label ${deleting.title}?`}
          confirmLabel="Delete label"
          busyLabel="Deleting…"
          onConfirm={async () => {
            await labelsApi.remove(accountId, deleting.id);
            labels.set((d) => (d ?? []).filter((x) => x.id !== deleting.id));
            // An open edit form of the deleted label would only fail to save.
            setEditing((e) => (e !== 'new' && e?.id === deleting.id ? null : e));
            flash.show(`Label ${deleting.title} deleted.`);
            setDeleting(null);
          }}
          onClose={() => setDeleting(null)}
        >
          <p>It leaves the account's list of labels. Conversations already tagged with it keep the tag.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** A label as a coloured chip (the colour is the label's; the text colour keeps it readable). */
export function LabelChip({ label, small }: { label: Pick<Label, 'title' | 'color'>; small?: boolean }) {
  return (
    <span className={`lbl-chip${small ? ' small' : ''}`}>
      <span className="lbl-dot" style={{ background: isHexColor(label.color) ? label.color : 'var(--muted)' }} aria-hidden="true" />
      {label.title}
    </span>
  );
}

function LabelForm({ accountId, label, onSaved, onCancel }: { accountId: number; label: Label | null; onSaved: (l: Label, created: boolean) => void; onCancel: () => void }) {
  const id = useId();
  const [title, setTitle] = useState(label?.title ?? '');
  const [description, setDescription] = useState(label?.description ?? '');
  const [color, setColor] = useState(label?.color ?? DEFAULT_COLOR);
  const [sidebar, setSidebar] = useState(label?.show_on_sidebar ?? true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; fields: string[] } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const t = title.trim();
    if (!t) return setError({ message: 'Give the label a title.', fields: ['title'] });
    if (!isHexColor(color)) return setError({ message: 'The colour is #RRGGBB, e.g. #1f93ff.', fields: ['color'] });
    setBusy(true);
    setError(null);
    const body = { title: t, description: description.trim(), color, show_on_sidebar: sidebar };
    try {
      const saved = label ? await labelsApi.update(accountId, label.id, body) : await labelsApi.create(accountId, body);
      onSaved(saved, !label);
    } catch (err) {
      setError({ message: problemText(err), fields: errorAttributes(err) });
    }
    setBusy(false);
  }
  const fieldError = (f: string) => (error?.fields.includes(f) ? error.message : null);
  const general = error && !['title', 'color', 'description'].some((f) => error.fields.includes(f)) ? error.message : null;

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{label ? `Edit label ${label.title}` : 'Add a label'}</h2>
      <div className="adm-grid">
        <Field label="Title" name="title" value={title} onChange={setTitle} maxLength={255} required error={fieldError('title')} hint="Letters, numbers, - and _ (no spaces)." autoComplete="off" />
        <Field label="Description" name="description" value={description} onChange={setDescription} maxLength={255} error={fieldError('description')} />
        <div className="field">
          <label htmlFor={`${id}-color`}>Colour</label>
          <div className="lbl-color">
            <input type="color" id={`${id}-swatch`} aria-label="Colour picker" value={isHexColor(color) ? color.toLowerCase() : DEFAULT_COLOR} onChange={(e) => setColor(e.target.value)} />
            <input
              id={`${id}-color`}
              name="color"
              value={color}
              maxLength={7}
              onChange={(e) => setColor(e.target.value.startsWith('#') ? e.target.value : `#${e.target.value}`)}
              aria-invalid={fieldError('color') ? true : undefined}
              aria-describedby={`${id}-color-hint`}
              spellCheck={false}
              autoComplete="off"
            />
            <LabelChip label={{ title: title.trim() || 'preview', color }} />
          </div>
          <small id={`${id}-color-hint`} className="muted">
            #RRGGBB
          </small>
          {fieldError('color') && (
            <p className="field-error" role="alert">
              {fieldError('color')}
            </p>
          )}
        </div>
      </div>
      <label className="switch">
        <input type="checkbox" checked={sidebar} onChange={(e) => setSidebar(e.target.checked)} />
        <span className="switch-text">
          <strong>Show in the sidebar</strong>
          <small>Lists the label beside the conversations, with the number of its open conversations.</small>
        </span>
      </label>
      <FormError message={general} />
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : label ? 'Save label' : 'Add label'}
        </button>
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
