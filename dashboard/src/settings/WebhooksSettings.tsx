import { useCallback, useEffect, useState } from 'react';
import { api, errorText, unwrap } from '../api.js';
import { useSession } from '../session.js';
import { navigate, onLinkClick } from '../router.js';
import { paths } from '../routes.js';
import { useCommands } from '../commands.js';
import { ConfirmDialog } from '../contacts/ConfirmDialog.js';
import { DeliveryLog } from './DeliveryLog.js';
import { WebhookForm, type Webhook } from './webhooks/WebhookForm.js';
import { SigningSecret } from './webhooks/SigningSecret.js';
import { CallbackWarning } from './webhooks/CallbackWarning.js';
import { eventLabel } from './webhooks/events.js';
import './settings.css';
import './admin.css';

function AdminsOnly() {
  return (
    <div className="adm-page">
      <h1>Webhooks</h1>
      <p className="empty-state">Only administrators of the account manage its webhooks.</p>
    </div>
  );
}

function useWebhooks(accountId: number, enabled: boolean) {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    if (!enabled) return;
    try {
      setWebhooks((await unwrap(api.GET('/api/v1/accounts/{account_id}/webhooks', { params: { path: { account_id: accountId } } }))).payload.webhooks);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    }
  }, [accountId, enabled]);
  useEffect(() => void load(), [load]);
  return { webhooks, setWebhooks, error, load };
}

const deleteWebhook = (accountId: number, id: number) => unwrap(api.DELETE('/api/v1/accounts/{account_id}/webhooks/{id}', { params: { path: { account_id: accountId, id } } }));

function DisabledBadge({ w }: { w: Webhook }) {
  if (w.disabled_at == null) return <span className="badge ok">Active</span>;
  return (
    <span className="badge bad" title={`Since ${new Date(w.disabled_at * 1000).toLocaleString()}`}>
      Disabled
    </span>
  );
}

function Events({ list }: { list: string[] }) {
  return (
    <ul className="adm-chips" aria-label={`${list.length} event${list.length === 1 ? '' : 's'}`}>
      {list.map((s) => (
        <li key={s} title={eventLabel(s)}>
          {s}
        </li>
      ))}
    </ul>
  );
}

/** Settings → Webhooks: the account's webhooks, add one, delete with confirmation. Administrators only. */
export function WebhooksPage() {
  const { accountId, isAdministrator } = useSession();
  const { webhooks, setWebhooks, error, load } = useWebhooks(accountId, isAdministrator);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [status, setStatus] = useState('');
  useCommands(isAdministrator ? [{ id: 'webhooks.add', title: 'Add webhook', group: 'Webhooks', run: () => setAdding(true) }] : []);
  if (!isAdministrator) return <AdminsOnly />;

  return (
    <div className="adm-page">
      <div className="adm-head">
        <h1>
          Webhooks
          {webhooks && <span className="adm-count">{webhooks.length}</span>}
        </h1>
        {!adding && (
          <button type="button" className="button primary" onClick={() => setAdding(true)}>
            Add webhook
          </button>
        )}
      </div>
      <p className="adm-lead">ChannelX sends each chosen event to your endpoint as a signed POST, retries failures with backoff and keeps a delivery log you can redeliver from.</p>

      {adding && (
        <section className="card" aria-labelledby="add-webhook-title">
          <h2 id="add-webhook-title">Add a webhook</h2>
          <WebhookForm accountId={accountId} onCancel={() => setAdding(false)} onSaved={(w) => navigate(paths.webhook(w.id))} />
        </section>
      )}

      <p className="adm-status ok" role="status">
        {status}
      </p>
      {error && (
        <div className="card">
          <p role="alert" className="error">
            {error}
          </p>
          <div className="actions" style={{ marginTop: '0.75rem' }}>
            <button type="button" className="button" onClick={() => void load()}>
              Try again
            </button>
          </div>
        </div>
      )}
      {!webhooks && !error && (
        <p className="loading" aria-busy="true">
          Loading webhooks…
        </p>
      )}
      {webhooks?.length === 0 && !adding && (
        <div className="empty-state">
          <p>
            <strong>No webhooks yet.</strong> Add one to receive conversations, messages and contacts as they change.
          </p>
          <button type="button" className="button primary" onClick={() => setAdding(true)}>
            Add webhook
          </button>
        </div>
      )}
      {webhooks && webhooks.length > 0 && (
        <div className="table-wrap">
          <table className="data-table">
            <caption className="sr-only">Account webhooks</caption>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Events</th>
                <th scope="col">Inbox</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {webhooks.map((w) => (
                <tr key={w.id} className="adm-row" data-testid="webhook-row">
                  <th scope="row" className="adm-wrap">
                    <a href={paths.webhook(w.id)} onClick={onLinkClick} className="cell-link">
                      {w.name || w.url}
                    </a>
                    {w.name && <span className="adm-sub">{w.url}</span>}
                  </th>
                  <td>
                    <Events list={w.subscriptions} />
                  </td>
                  <td>{w.inbox ? w.inbox.name || `Inbox ${w.inbox.id}` : <span className="muted">All inboxes</span>}</td>
                  <td>
                    <DisabledBadge w={w} />
                    {w.warnings?.length ? (
                      <span className="badge wait" title={w.warnings[0].message} data-testid="webhook-warning-badge">
                        Private address: not called
                      </span>
                    ) : null}
                  </td>
                  <td className="adm-actions">
                    <a href={paths.webhook(w.id)} onClick={onLinkClick} className="button small" aria-label={`Edit ${w.name || w.url}`}>
                      Edit
                    </a>
                    <button type="button" className="button small danger-outline" onClick={() => setDeleting(w)} aria-label={`Delete ${w.name || w.url}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {deleting && (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete webhook"
          busyLabel="Deleting…"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await deleteWebhook(accountId, deleting.id);
            setWebhooks((l) => l?.filter((x) => x.id !== deleting.id) ?? null);
            setStatus(`The webhook to ${deleting.url} was deleted.`);
            setDeleting(null);
          }}
        >
          <p>
            <strong className="adm-wrap">{deleting.url}</strong> stops receiving events, and its delivery log is deleted with it.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

/** /app/settings/webhooks/:id: edit, the signing secret, the delivery log, delete. */
export function WebhookPage({ webhookId }: { webhookId: number }) {
  const { accountId, isAdministrator } = useSession();
  const { webhooks, setWebhooks, error, load } = useWebhooks(accountId, isAdministrator);
  const [deleting, setDeleting] = useState(false);
  if (!isAdministrator) return <AdminsOnly />;

  const webhook = webhooks?.find((w) => w.id === webhookId);
  const replace = (w: Webhook) => setWebhooks((l) => l?.map((x) => (x.id === w.id ? w : x)) ?? null);
  const back = (
    <a href={paths.webhooks()} onClick={onLinkClick} className="back-link">
      ← Webhooks
    </a>
  );

  if (error) {
    return (
      <div className="adm-page">
        {back}
        <h1>Webhook</h1>
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
  if (!webhooks) {
    return (
      <div className="adm-page">
        {back}
        <p className="loading" aria-busy="true">
          Loading the webhook…
        </p>
      </div>
    );
  }
  if (!webhook) {
    return (
      <div className="adm-page">
        {back}
        <h1>Webhook not found</h1>
        <p className="empty-state">This webhook does not exist in this account (it may have been deleted).</p>
      </div>
    );
  }

  return (
    <div className="adm-page">
      {back}
      <div className="adm-head">
        <h1 className="adm-wrap">{webhook.name || webhook.url}</h1>
        <DisabledBadge w={webhook} />
      </div>
      {webhook.disabled_at != null && (
        <p className="notice warn">
          Deliveries stopped on {new Date(webhook.disabled_at * 1000).toLocaleString()}: the endpoint answered 410 Gone. Saving the webhook turns it back on.
        </p>
      )}

      <CallbackWarning warnings={webhook.warnings} what="webhook" />

      <section className="card" aria-labelledby="edit-webhook-title">
        <h2 id="edit-webhook-title">Endpoint and events</h2>
        <WebhookForm key={webhook.id} accountId={accountId} webhook={webhook} onSaved={replace} />
      </section>

      <SigningSecret accountId={accountId} webhook={webhook} onRotated={replace} />

      <div className="card">
        <DeliveryLog source={{ kind: 'webhook', webhookId: webhook.id }} intro={<p className="muted">Every event sent to this endpoint, newest first. Open a row for its attempts and the payload sent.</p>} />
      </div>

      <section className="card adm-callout danger" aria-labelledby="delete-webhook-title">
        <h2 id="delete-webhook-title">Delete webhook</h2>
        <p className="muted">The endpoint stops receiving events at once; the delivery log is deleted too.</p>
        <button type="button" className="button danger" onClick={() => setDeleting(true)}>
          Delete webhook
        </button>
      </section>

      {deleting && (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete webhook"
          busyLabel="Deleting…"
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await deleteWebhook(accountId, webhook.id);
            navigate(paths.webhooks());
          }}
        >
          <p>
            <strong className="adm-wrap">{webhook.url}</strong> stops receiving events, and its delivery log is deleted with it.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
