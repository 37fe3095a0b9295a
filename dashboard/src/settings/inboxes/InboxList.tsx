import { useEffect, useState } from 'react';
import { api, unwrap } from '../../api.js';
import { onLinkClick } from '../../router.js';
import { paths } from '../../routes.js';
import { useSession } from '../../session.js';
import { channelLabel, problemText, takeNextPageFlash, type Inbox } from './common.js';

/** /app/settings/inboxes: every inbox the user may see (agents: their member inboxes), with its agent count. */
export function InboxList() {
  const { accountId, isAdministrator } = useSession();
  const [inboxes, setInboxes] = useState<Inbox[] | null>(null);
  const [counts, setCounts] = useState<Record<number, number | null>>({});
  const [error, setError] = useState<string | null>(null);
  const [flash] = useState(takeNextPageFlash);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    setError(null);
    unwrap(api.GET('/api/v1/accounts/{account_id}/inboxes', { params: { path: { account_id: accountId } } }))
      .then((r) => {
        if (!live) return;
        setInboxes(r.payload);
        // Member counts: one small request per inbox, after the list shows (a failed count shows "—").
        for (const i of r.payload.slice(0, 100)) {
          unwrap(api.GET('/api/v1/accounts/{account_id}/inbox_members/{inbox_id}', { params: { path: { account_id: accountId, inbox_id: i.id } } }))
            .then((m) => live && setCounts((c) => ({ ...c, [i.id]: m.payload.length })))
            .catch(() => live && setCounts((c) => ({ ...c, [i.id]: null })));
        }
      })
      .catch((err) => live && setError(problemText(err)));
    return () => void (live = false);
  }, [accountId, attempt]);

  return (
    <div className="settings-page">
      <div className="settings-header">
        <div>
          <h1>Inboxes</h1>
          <p className="settings-lead">
            {isAdministrator
              ? 'An inbox receives conversations from one channel. Its agents see and answer them.'
              : 'The inboxes you are a member of. Administrators add inboxes and choose their agents.'}
          </p>
        </div>
        {isAdministrator && (
          <a className="button primary" href={paths.newInbox()} onClick={onLinkClick}>
            Add inbox
          </a>
        )}
      </div>
      {flash && (
        <p className="notice" role="status">
          {flash}
        </p>
      )}
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
      {!inboxes && !error && <p className="loading">Loading inboxes…</p>}
      {inboxes && inboxes.length === 0 && (
        <div className="empty-state">
          {isAdministrator ? (
            <>
              <p>No inboxes yet — add an API inbox to start receiving conversations.</p>
              <p>
                <a className="button primary" href={paths.newInbox()} onClick={onLinkClick}>
                  Add inbox
                </a>
              </p>
            </>
          ) : (
            <p>You are not a member of any inbox yet. An administrator of this account can add you to one.</p>
          )}
        </div>
      )}
      {inboxes && inboxes.length > 0 && (
        <div className="table-wrap">
          <table className="data-table" aria-label="Inboxes">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Channel</th>
                <th scope="col">Callback URL</th>
                <th scope="col">Agents</th>
              </tr>
            </thead>
            <tbody>
              {inboxes.map((i) => (
                <tr key={i.id}>
                  <td>
                    <a className="cell-link" href={paths.inbox(i.id)} onClick={onLinkClick}>
                      {i.name}
                    </a>
                  </td>
                  <td>
                    <span className="badge accent">{channelLabel(i.channel_type)}</span>
                  </td>
                  <td>
                    {i.webhook_url ? (
                      <span className="truncate" title={i.webhook_url}>
                        <code>{i.webhook_url}</code>
                      </span>
                    ) : (
                      <span className="muted">Not set</span>
                    )}
                  </td>
                  <td className="num">
                    {counts[i.id] == null ? <span className="muted">—</span> : counts[i.id]}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
