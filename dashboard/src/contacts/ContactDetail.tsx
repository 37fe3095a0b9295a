import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { ResponseBody } from '@channelx/client';
import { api, errorText, isStatus, unwrap } from '../api.js';
import { useSession } from '../session.js';
import { navigate, onLinkClick } from '../router.js';
import { paths } from '../routes.js';
import { useReconnected } from '../live.js';
import { Field } from '../ui.js';
import { ConfirmDialog } from './ConfirmDialog.js';
import { labelsApi, useLoaded } from '../catalog.js';
import { LabelsPanel } from '../conversation/LabelPicker.js';
import { attributeText, entriesOf, fullTime, invalidFields, isoOf, relativeTime } from './format.js';

type Contact = ResponseBody<'/api/v1/accounts/{account_id}/contacts/{id}', 'get'>['payload'];

const STATUS_LABEL: Record<string, string> = { open: 'Open', resolved: 'Resolved', pending: 'Pending', snoozed: 'Snoozed' };

/** /app/contacts/:id: the contact's details and attributes, editing, deleting (administrators) and their conversations. */
export function ContactDetail({ contactId }: { contactId: number }) {
  const { accountId, isAdministrator } = useSession();
  const [contact, setContact] = useState<Contact | null | 'missing'>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(false);
  const [deleting, setDeleting] = useState(false);

  const load = useCallback(async () => {
    try {
      setContact((await unwrap(api.GET('/api/v1/accounts/{account_id}/contacts/{id}', { params: { path: { account_id: accountId, id: contactId } } }))).payload);
      setError(null);
    } catch (err) {
      if (isStatus(err, 404)) setContact('missing');
      else setError(errorText(err));
    }
  }, [accountId, contactId]);
  useEffect(() => {
    setContact(null);
    setEditing(false);
    setSaved(false);
    void load();
  }, [load]);
  useReconnected(() => void load());

  const back = (
    <a href={paths.contacts()} onClick={onLinkClick} className="back-link" aria-label="Back to contacts">
      ← Contacts
    </a>
  );

  if (error && !contact) {
    return (
      <div className="adm-page">
        {back}
        <h1>Contact</h1>
        <p role="alert" className="error">
          {error}
        </p>
        <div className="actions" style={{ marginTop: '0.75rem' }}>
          <button type="button" className="button" onClick={() => void load()}>
            Try again
          </button>
        </div>
      </div>
    );
  }
  if (contact === null) {
    return (
      <div className="adm-page">
        {back}
        <p className="loading" aria-busy="true">
          Loading the contact…
        </p>
      </div>
    );
  }
  if (contact === 'missing') {
    return (
      <div className="adm-page">
        {back}
        <h1>Contact not found</h1>
        <p className="empty-state">This contact does not exist in this account (it may have been deleted).</p>
      </div>
    );
  }

  const custom = entriesOf(contact.custom_attributes);
  const additional = entriesOf(contact.additional_attributes);
  return (
    <div className="adm-page contact-page">
      {back}
      <div className="adm-head">
        <h1>
          {contact.name || 'Unnamed contact'}
          {contact.blocked && <span className="badge bad contacts-blocked">Blocked</span>}
        </h1>
        {!editing && (
          <button type="button" className="button" onClick={() => (setEditing(true), setSaved(false))}>
            Edit contact
          </button>
        )}
      </div>

      <div className="contact-columns">
        <div>
          <section className="card" aria-labelledby="contact-details-title">
            <h2 id="contact-details-title">Details</h2>
            {editing ? (
              <EditForm
                accountId={accountId}
                contact={contact}
                onCancel={() => setEditing(false)}
                onSaved={(c) => {
                  setContact(c);
                  setEditing(false);
                  setSaved(true);
                }}
              />
            ) : (
              <>
                <dl className="adm-dl">
                  <dt>Name</dt>
                  <dd>{contact.name || <span className="muted">—</span>}</dd>
                  <dt>E-mail</dt>
                  <dd>{contact.email ? <a href={`mailto:${contact.email}`}>{contact.email}</a> : <span className="muted">—</span>}</dd>
                  <dt>Phone</dt>
                  <dd>{contact.phone_number ?? <span className="muted">—</span>}</dd>
                  <dt>Identifier</dt>
                  <dd>{contact.identifier ?? <span className="muted">—</span>}</dd>
                  <dt>Last activity</dt>
                  <dd>
                    {contact.last_activity_at ? (
                      <time dateTime={isoOf(contact.last_activity_at)} title={fullTime(contact.last_activity_at)}>
                        {relativeTime(contact.last_activity_at)}
                      </time>
                    ) : (
                      'Never'
                    )}
                  </dd>
                  <dt>Created</dt>
                  <dd>{contact.created_at ? fullTime(contact.created_at) : '—'}</dd>
                </dl>
                <p className="adm-status ok" role="status" style={{ margin: '0.6rem 0 0' }}>
                  {saved ? 'Saved.' : ''}
                </p>
              </>
            )}
          </section>

          <ContactLabels contactId={contact.id} />

          <section className="card" aria-labelledby="contact-custom-title">
            <h2 id="contact-custom-title">Custom attributes</h2>
            {custom.length ? (
              <dl className="adm-dl" data-testid="custom-attributes">
                {custom.map(([k, v]) => (
                  <div key={k} className="contents">
                    <dt>{k}</dt>
                    <dd>{attributeText(v)}</dd>
                  </div>
                ))}
              </dl>
            ) : (
              <p className="muted">No custom attributes. They are set through the API (custom_attributes).</p>
            )}
            {additional.length > 0 && (
              <>
                <h3 className="contact-subhead">Additional attributes</h3>
                <dl className="adm-dl">
                  {additional.map(([k, v]) => (
                    <div key={k} className="contents">
                      <dt>{k}</dt>
                      <dd>{attributeText(v)}</dd>
                    </div>
                  ))}
                </dl>
              </>
            )}
          </section>

          {isAdministrator && (
            <section className="card adm-callout danger" aria-labelledby="contact-delete-title">
              <h2 id="contact-delete-title">Delete contact</h2>
              <p className="muted">Deletes the contact with all their conversations and messages. This cannot be undone.</p>
              <button type="button" className="button danger" onClick={() => setDeleting(true)}>
                Delete contact
              </button>
            </section>
          )}
        </div>

        <Conversations accountId={accountId} contactId={contact.id} />
      </div>

      {deleting && (
        <ConfirmDialog
          title={`Delete ${contact.name || 'this contact'}?`}
          confirmLabel="Delete contact"
          busyLabel="Deleting…"
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await unwrap(api.DELETE('/api/v1/accounts/{account_id}/contacts/{id}', { params: { path: { account_id: accountId, id: contact.id } } }));
            navigate(paths.contacts());
          }}
        >
          <p>Their conversations and messages are deleted with them, for every agent. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function EditForm({ accountId, contact, onSaved, onCancel }: { accountId: number; contact: Contact; onSaved: (c: Contact) => void; onCancel: () => void }) {
  const [name, setName] = useState(contact.name);
  const [email, setEmail] = useState(contact.email ?? '');
  const [phone, setPhone] = useState(contact.phone_number ?? '');
  const [identifier, setIdentifier] = useState(contact.identifier ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; fields: string[] } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    // Only what changed is sent; an emptied field clears it (null).
    const body: { name?: string; email?: string | null; phone_number?: string | null; identifier?: string | null } = {};
    if (name.trim() !== contact.name) body.name = name.trim();
    if (email.trim() !== (contact.email ?? '')) body.email = email.trim() || null;
    if (phone.trim() !== (contact.phone_number ?? '')) body.phone_number = phone.trim() || null;
    if (identifier.trim() !== (contact.identifier ?? '')) body.identifier = identifier.trim() || null;
    try {
      const r = Object.keys(body).length
        ? await unwrap(api.PATCH('/api/v1/accounts/{account_id}/contacts/{id}', { params: { path: { account_id: accountId, id: contact.id } }, body }))
        : { payload: contact };
      onSaved(r.payload);
    } catch (err) {
      setError({ message: errorText(err), fields: invalidFields(err) });
      setBusy(false);
    }
  }

  const invalid = (f: string) => (error?.fields.includes(f) ? true : undefined);
  return (
    <form onSubmit={submit} className="stack" aria-label="Edit contact">
      <div className="adm-grid">
        <Field label="Name" name="name" value={name} onChange={setName} maxLength={255} autoComplete="off" aria-invalid={invalid('name')} />
        <Field label="E-mail" name="email" type="email" value={email} onChange={setEmail} maxLength={255} autoComplete="off" aria-invalid={invalid('email')} />
        <Field label="Phone" name="phone_number" type="tel" value={phone} onChange={setPhone} maxLength={32} autoComplete="off" placeholder="+14155550123" hint="International format (E.164)." aria-invalid={invalid('phone_number')} />
        <Field label="Identifier" name="identifier" value={identifier} onChange={setIdentifier} maxLength={255} autoComplete="off" hint="Your own id for this person." aria-invalid={invalid('identifier')} />
      </div>
      {error && (
        <p role="alert" className="error">
          {error.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save contact'}
        </button>
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Conversations({ accountId, contactId }: { accountId: number; contactId: number }) {
  const {
    data: list,
    error,
    reload,
  } = useLoaded(async (account_id) => (await unwrap(api.GET('/api/v1/accounts/{account_id}/contacts/{id}/conversations', { params: { path: { account_id, id: contactId } } }))).payload, [contactId]);
  const [inboxes, setInboxes] = useState<Map<number, string>>(new Map());
  useEffect(() => {
    // Inbox names are a nicety: without them the inbox shows by number.
    unwrap(api.GET('/api/v1/accounts/{account_id}/inboxes', { params: { path: { account_id: accountId } } }))
      .then((r) => setInboxes(new Map(r.payload.map((i) => [i.id, i.name]))))
      .catch(() => undefined);
  }, [accountId]);

  return (
    <section className="card contact-conversations" aria-labelledby="contact-conversations-title">
      <h2 id="contact-conversations-title">
        Conversations
        {list && <span className="adm-count">{list.length === 20 ? '20 most recent' : list.length}</span>}
      </h2>
      {error && (
        <>
          <p role="alert" className="error">
            {error}
          </p>
          <button type="button" className="button small" onClick={() => void reload()} style={{ marginTop: '0.5rem' }}>
            Try again
          </button>
        </>
      )}
      {!list && !error && <p className="loading">Loading conversations…</p>}
      {list?.length === 0 && <p className="muted">No conversations with this contact in the inboxes you can see.</p>}
      {list && list.length > 0 && (
        <ul className="conversation-links">
          {list.map((c) => {
            const last = c.last_non_activity_message;
            const text = last?.content ?? (last ? 'Attachment' : 'No messages yet');
            return (
              <li key={c.id}>
                <a href={paths.conversation(c.id)} onClick={onLinkClick} data-testid="contact-conversation">
                  <span className="conversation-link-head">
                    <strong>#{c.id}</strong>
                    <span className={`badge ${c.status === 'open' ? 'accent' : c.status === 'resolved' ? 'ok' : 'wait'}`}>{STATUS_LABEL[String(c.status)] ?? String(c.status)}</span>
                    <span className="muted conversation-inbox">{inboxes.get(c.inbox_id) ?? `Inbox ${c.inbox_id}`}</span>
                    {c.last_activity_at ? (
                      <time className="muted" dateTime={isoOf(c.last_activity_at)} title={fullTime(c.last_activity_at)}>
                        {relativeTime(c.last_activity_at)}
                      </time>
                    ) : null}
                  </span>
                  <span className="conversation-excerpt">{text}</span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** The contact's labels: the account's labels offered with their colours, any other title works too (as on conversations). */
function ContactLabels({ contactId }: { contactId: number }) {
  const labels = useLoaded(async (account_id) => (await unwrap(api.GET('/api/v1/accounts/{account_id}/contacts/{id}/labels', { params: { path: { account_id, id: contactId } } }))).payload, [contactId]);
  // The colours and the offered titles are a nicety: free text works without them.
  const accountLabels = useLoaded(labelsApi.list);
  const { accountId } = useSession();
  const [saveError, setSaveError] = useState<string | null>(null);
  const [status, setStatus] = useState('');

  async function save(next: string[]) {
    const before = labels.data;
    labels.set(() => next);
    setStatus('Saving…');
    setSaveError(null);
    try {
      const saved = (await unwrap(api.POST('/api/v1/accounts/{account_id}/contacts/{id}/labels', { params: { path: { account_id: accountId, id: contactId } }, body: { labels: next } }))).payload;
      labels.set(() => saved);
      setStatus('Labels saved.');
    } catch (err) {
      labels.set(() => before);
      setStatus('');
      setSaveError(`The labels were not saved: ${errorText(err)}`);
    }
  }

  const error = saveError ?? labels.error;
  return (
    <section className="card contact-labels" aria-labelledby="contact-labels-title">
      <h2 id="contact-labels-title">Labels</h2>
      {labels.data === null && !error && <p className="loading">Loading labels…</p>}
      {labels.data !== null && <LabelsPanel labels={labels.data} accountLabels={accountLabels.data} suggestions={[]} onChange={(next) => void save(next)} />}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {labels.data === null && error && (
        <button type="button" className="button small" onClick={() => void labels.reload()} style={{ marginTop: '0.5rem' }}>
          Try again
        </button>
      )}
      <p className="adm-status ok" role="status" style={{ margin: '0.4rem 0 0' }}>
        {status}
      </p>
    </section>
  );
}

