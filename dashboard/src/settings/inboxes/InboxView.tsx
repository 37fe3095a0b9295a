import { useCallback, useEffect, useState } from 'react';
import { api, isStatus, unwrap } from '../../api.js';
import { useCommands } from '../../commands.js';
import { navigate, onLinkClick } from '../../router.js';
import { paths } from '../../routes.js';
import { useSession } from '../../session.js';
import { DeliveryLog } from '../DeliveryLog.js';
import { channelLabel, problemText, type Inbox } from './common.js';
import { SettingsTab } from './SettingsTab.js';
import { AgentsTab } from './AgentsTab.js';
import { ConfigurationTab } from './ConfigurationTab.js';
import { CallbackWarning } from '../webhooks/CallbackWarning.js';

type Tab = 'settings' | 'agents' | 'configuration' | 'deliveries';
const TABS: { key: Tab; label: string; adminOnly?: boolean }[] = [
  { key: 'settings', label: 'Settings' },
  { key: 'agents', label: 'Agents' },
  { key: 'configuration', label: 'Configuration' },
  { key: 'deliveries', label: 'Deliveries', adminOnly: true },
];

/** /app/settings/inboxes/:id[/tab]: the inbox's name and callback, agents, configuration and delivery log. */
export function InboxView({ inboxId, tab }: { inboxId: number; tab: string | null }) {
  const { accountId, isAdministrator } = useSession();
  const [inbox, setInbox] = useState<Inbox | null>(null);
  const [error, setError] = useState<{ text: string; missing: boolean } | null>(null);
  const [attempt, setAttempt] = useState(0);

  const tabs = TABS.filter((t) => !t.adminOnly || isAdministrator);
  const known = tabs.find((t) => t.key === (tab ?? 'settings'));
  const current: Tab = known?.key ?? 'settings';

  // An unknown (or, for an agent, an administrator's) tab falls back to Settings.
  useEffect(() => {
    if (tab !== null && !known) navigate(paths.inbox(inboxId), true);
  }, [tab, known, inboxId]);

  useEffect(() => {
    let live = true;
    setError(null);
    unwrap(api.GET('/api/v1/accounts/{account_id}/inboxes/{id}', { params: { path: { account_id: accountId, id: inboxId } } }))
      .then((i) => live && setInbox(i))
      .catch((err) => live && setError({ text: isStatus(err, 404) ? 'This inbox does not exist, or you are not one of its agents.' : problemText(err), missing: isStatus(err, 404) }));
    return () => void (live = false);
  }, [accountId, inboxId, attempt]);

  const onChange = useCallback((i: Inbox) => setInbox(i), []);

  useCommands(
    tabs.map((t) => ({
      id: `inbox.tab.${t.key}`,
      title: `Inbox: ${t.label}`,
      group: 'Inbox settings',
      run: () => navigate(paths.inbox(inboxId, t.key === 'settings' ? undefined : t.key)),
    })),
  );

  if (error) {
    return (
      <div className="settings-page">
        <a className="back-link" href={paths.inboxes()} onClick={onLinkClick}>
          ← Inboxes
        </a>
        <h1>Inbox</h1>
        <div className="actions">
          <p role="alert" className="error">
            {error.text}
          </p>
          {!error.missing && (
            <button type="button" className="button" onClick={() => setAttempt((a) => a + 1)}>
              Try again
            </button>
          )}
        </div>
      </div>
    );
  }
  if (!inbox || inbox.id !== inboxId) {
    return (
      <div className="settings-page" aria-busy="true">
        <a className="back-link" href={paths.inboxes()} onClick={onLinkClick}>
          ← Inboxes
        </a>
        <p className="loading">Loading inbox…</p>
      </div>
    );
  }

  return (
    <div className="settings-page">
      <a className="back-link" href={paths.inboxes()} onClick={onLinkClick}>
        ← Inboxes
      </a>
      <div className="settings-header">
        <div>
          <h1>
            {inbox.name} <span className="badge accent">{channelLabel(inbox.channel_type)}</span>
          </h1>
        </div>
      </div>
      <CallbackWarning warnings={inbox.warnings} what="callback" />
      <nav className="tabs" aria-label="Inbox sections">
        {tabs.map((t) => (
          <a key={t.key} href={paths.inbox(inboxId, t.key === 'settings' ? undefined : t.key)} onClick={onLinkClick} aria-current={t.key === current ? 'page' : undefined}>
            {t.label}
          </a>
        ))}
      </nav>
      {current === 'settings' && <SettingsTab inbox={inbox} onChange={onChange} />}
      {current === 'agents' && <AgentsTab inbox={inbox} />}
      {current === 'configuration' && <ConfigurationTab inbox={inbox} onChange={onChange} />}
      {current === 'deliveries' && (
        <DeliveryLog
          source={{ kind: 'inbox', inboxId }}
          title="Callback deliveries"
          intro={
            inbox.webhook_url ? (
              <p className="card-lead">
                Every event posted to <code>{inbox.webhook_url}</code>, newest first. A failed delivery is retried (by default 7 more times over about a day) and then marked failed; Redeliver sends it again now.
              </p>
            ) : (
              <p className="notice warn">
                This inbox has no callback URL, so no events are sent. Set one on the{' '}
                <a href={paths.inbox(inboxId)} onClick={onLinkClick}>
                  Settings
                </a>{' '}
                tab.
              </p>
            )
          }
        />
      )}
    </div>
  );
}
