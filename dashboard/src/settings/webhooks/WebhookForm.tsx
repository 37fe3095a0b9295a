import { useEffect, useId, useState, type FormEvent } from 'react';
import type { ResponseBody } from '@channelx/client';
import { api, errorText, unwrap } from '../../api.js';
import { Field } from '../../ui.js';
import { invalidFields } from '../../contacts/format.js';
import { WEBHOOK_EVENTS } from './events.js';

export type Webhook = ResponseBody<'/api/v1/accounts/{account_id}/webhooks', 'get'>['payload']['webhooks'][number];
type Inbox = { id: number; name: string };

/**
 * Add or edit an account webhook: URL, an optional name, which inbox's events (all by default) and
 * the events, as checkboxes. Saves with POST or PATCH; the server's 422 shows inline, on its field.
 */
export function WebhookForm({ accountId, webhook, onSaved, onCancel }: { accountId: number; webhook?: Webhook; onSaved: (w: Webhook) => void; onCancel?: () => void }) {
  const id = useId();
  const [url, setUrl] = useState(webhook?.url ?? '');
  const [name, setName] = useState(webhook?.name ?? '');
  const [inboxId, setInboxId] = useState<string>(webhook?.inbox?.id ? String(webhook.inbox.id) : '');
  const [events, setEvents] = useState<Set<string>>(() => new Set(webhook?.subscriptions ?? []));
  const [inboxes, setInboxes] = useState<Inbox[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<{ message: string; fields: string[] } | null>(null);

  useEffect(() => {
    unwrap(api.GET('/api/v1/accounts/{account_id}/inboxes', { params: { path: { account_id: accountId } } }))
      .then((r) => setInboxes(r.payload.map((i) => ({ id: i.id, name: i.name }))))
      // Without the list the webhook still covers every inbox (or keeps the one it has).
      .catch(() => setInboxes([]));
  }, [accountId]);

  const toggle = (ev: string, on: boolean) =>
    setEvents((s) => {
      const next = new Set(s);
      if (on) next.add(ev);
      else next.delete(ev);
      return next;
    });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    if (events.size === 0) return setError({ message: 'Choose at least one event to send.', fields: ['subscriptions'] });
    setBusy(true);
    setError(null);
    const body = {
      url: url.trim(),
      name: name.trim() || null,
      inbox_id: inboxId ? Number(inboxId) : null,
      subscriptions: WEBHOOK_EVENTS.map((ev) => ev.name).filter((n) => events.has(n)).concat([...events].filter((n) => !WEBHOOK_EVENTS.some((ev) => ev.name === n))),
    };
    try {
      const r = webhook
        ? await unwrap(api.PATCH('/api/v1/accounts/{account_id}/webhooks/{id}', { params: { path: { account_id: accountId, id: webhook.id } }, body }))
        : await unwrap(api.POST('/api/v1/accounts/{account_id}/webhooks', { params: { path: { account_id: accountId } }, body }));
      setSaved(true);
      onSaved(r.payload.webhook);
    } catch (err) {
      setError({ message: errorText(err), fields: invalidFields(err) });
    }
    setBusy(false);
  }

  const invalid = (f: string) => (error?.fields.includes(f) ? true : undefined);
  const knownInbox = !inboxId || !inboxes || inboxes.some((i) => String(i.id) === inboxId);
  return (
    <form onSubmit={submit} className="stack">
      <div className="adm-grid">
        <Field label="Endpoint URL" name="url" type="url" value={url} onChange={setUrl} required maxLength={2048} placeholder="https://example.com/channelx" aria-invalid={invalid('url')} hint="Receives a signed POST for every event below." />
        <Field label="Name (optional)" name="name" value={name} onChange={setName} maxLength={255} />
        <div className="field">
          <label htmlFor={`${id}-inbox`}>Inbox</label>
          <select id={`${id}-inbox`} value={inboxId} onChange={(e) => setInboxId(e.target.value)} aria-invalid={invalid('inbox_id')}>
            <option value="">All inboxes</option>
            {inboxes?.map((i) => (
              <option key={i.id} value={String(i.id)}>
                {i.name}
              </option>
            ))}
            {!knownInbox && <option value={inboxId}>{webhook?.inbox?.name ?? `Inbox ${inboxId}`}</option>}
          </select>
        </div>
      </div>
      <fieldset className="adm-events" aria-describedby={`${id}-events-hint`}>
        <legend>Events</legend>
        <div className="adm-checks-tools">
          <small id={`${id}-events-hint`} className="muted">
            {events.size} of {WEBHOOK_EVENTS.length} selected.
          </small>
          <button type="button" className="adm-link-button" onClick={() => setEvents(new Set(WEBHOOK_EVENTS.map((ev) => ev.name)))}>
            Select all
          </button>
          <button type="button" className="adm-link-button" onClick={() => setEvents(new Set())}>
            Clear
          </button>
        </div>
        <div className="adm-checks">
          {WEBHOOK_EVENTS.map((ev) => (
            <label key={ev.name}>
              <input type="checkbox" name="subscriptions" value={ev.name} checked={events.has(ev.name)} onChange={(e) => toggle(ev.name, e.target.checked)} />
              <span>
                {ev.label}
                <code>{ev.name}</code>
              </span>
            </label>
          ))}
        </div>
      </fieldset>
      {error && (
        <p role="alert" className="error">
          {error.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : webhook ? 'Save changes' : 'Add webhook'}
        </button>
        {onCancel && (
          <button type="button" className="button" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        )}
        {webhook && (
          <span className="saved" role="status">
            {saved ? 'Saved.' : ''}
          </span>
        )}
      </div>
    </form>
  );
}
