import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, errorText, unwrap } from '../api.js';
import { useSession } from '../session.js';
import { FormError } from '../ui.js';
import { notificationPermission, notificationsSupported, readNotifications, uiSettingsOf, type NotificationSettings, type Permission } from './prefs.js';
import { playChime } from './sound.js';
import './notifications.css';

/** The permission the browser gives this site, kept current (the agent may change it in the site settings). */
function usePermission(): [Permission, (p: Permission) => void] {
  const [permission, setPermission] = useState<Permission>(notificationPermission);
  useEffect(() => {
    const check = () => setPermission(notificationPermission());
    window.addEventListener('focus', check);
    let status: PermissionStatus | null = null;
    navigator.permissions
      ?.query({ name: 'notifications' })
      .then((s) => {
        status = s;
        s.onchange = check;
      })
      .catch(() => undefined);
    return () => {
      window.removeEventListener('focus', check);
      if (status) status.onchange = null;
    };
  }, []);
  return [permission, setPermission];
}

function Check({ label, hint, checked, disabled, onChange }: { label: string; hint?: React.ReactNode; checked: boolean; disabled?: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div className="notif-check">
      <input id={id} type="checkbox" checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} aria-describedby={hint ? `${id}-hint` : undefined} />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <small id={`${id}-hint`} className="notif-hint muted">
          {hint}
        </small>
      )}
    </div>
  );
}

/** The Notifications section of the profile: sound, browser notifications, and for what. */
export function NotificationPrefs() {
  const { profile, setProfile } = useSession();
  const stored = readNotifications(profile.ui_settings);
  const [draft, setDraft] = useState<NotificationSettings>(stored);
  const [permission, setPermission] = usePermission();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [soundNote, setSoundNote] = useState('');

  const set = (k: keyof NotificationSettings) => (v: boolean) => {
    setSaved(false);
    setDraft((d) => ({ ...d, [k]: v }));
  };
  const changed = (Object.keys(draft) as (keyof NotificationSettings)[]).some((k) => draft[k] !== stored[k]);

  async function allow() {
    if (!notificationsSupported()) return;
    setAsking(true);
    try {
      const p = await window.Notification.requestPermission();
      setPermission(p);
      if (p === 'granted') set('browser')(true);
    } catch {
      setPermission(notificationPermission());
    }
    setAsking(false);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      // ui_settings is replaced as a whole: keep what other settings put there.
      const ui_settings = { ...uiSettingsOf(profile.ui_settings), notifications: { ...draft } };
      const next = await unwrap(api.PATCH('/api/v1/profile', { body: { ui_settings } }));
      setProfile(next);
      setDraft(readNotifications(next.ui_settings));
      setSaved(true);
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(false);
  }

  function testSound() {
    setSoundNote(playChime() ? '' : 'This browser cannot play sounds.');
  }

  const browserHint =
    permission === 'unsupported' ? (
      'This browser does not support notifications.'
    ) : permission === 'denied' ? (
      <>
        <strong>Notifications are blocked</strong> for this site in your browser. Allow them in the browser’s site settings, then come back to this page.
      </>
    ) : permission === 'default' ? (
      'Your browser asks for permission first: use “Allow notifications”.'
    ) : (
      'Shown while this tab is in the background or another conversation is open. Click one to open its conversation.'
    );

  return (
    <section className="card" aria-labelledby="notifications-title" data-testid="notification-prefs">
      <h2 id="notifications-title">Notifications</h2>
      <p className="muted">While the dashboard is open in this browser. Saved with your profile, so they apply wherever you sign in.</p>
      <form onSubmit={submit} className="stack">
        <fieldset className="notif-fieldset">
          <legend>How</legend>
          <div className="notif-row">
            <Check label="Play a sound" checked={draft.sound} onChange={set('sound')} hint="A short chime. Browsers play it once you have clicked or typed in the page." />
            <button type="button" className="button small" onClick={testSound}>
              Play test sound
            </button>
          </div>
          {soundNote && <p className="notif-hint muted">{soundNote}</p>}
          <div className="notif-row">
            <Check
              label="Show browser notifications"
              checked={draft.browser && permission === 'granted'}
              disabled={permission !== 'granted'}
              onChange={set('browser')}
              hint={browserHint}
            />
            {permission === 'default' && (
              <button type="button" className="button small" onClick={() => void allow()} disabled={asking}>
                {asking ? 'Asking…' : 'Allow notifications'}
              </button>
            )}
          </div>
        </fieldset>
        <fieldset className="notif-fieldset">
          <legend>For</legend>
          <Check label="New conversations" checked={draft.new_conversations} onChange={set('new_conversations')} hint="Unassigned or assigned to you." />
          <Check label="Messages in conversations assigned to me" checked={draft.assigned_to_me} onChange={set('assigned_to_me')} />
          <Check label="Messages in unassigned conversations" checked={draft.unassigned} onChange={set('unassigned')} />
        </fieldset>
        <FormError message={error} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
          <span className="saved" role="status">
            {saved ? 'Saved.' : changed ? <span className="muted">Unsaved changes</span> : ''}
          </span>
        </div>
      </form>
    </section>
  );
}
