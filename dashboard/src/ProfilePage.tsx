import { useState, type FormEvent } from 'react';
import { api, errorText, unwrap, type Profile } from './api.js';
import { Field, FormError } from './ui.js';
import { NotificationPrefs } from './notifications/NotificationPrefs.js';
import { SecretValue } from './copy.js';

/** /app/profile: name, notifications, password, access token. */
export function ProfilePage({ profile, onChange }: { profile: Profile; onChange: (p: Profile) => void }) {
  return (
    <div className="page">
      <h1>Profile</h1>
      <NameForm profile={profile} onChange={onChange} />
      <NotificationPrefs />
      <PasswordForm onChange={onChange} />
      <AccessToken profile={profile} onChange={onChange} />
    </div>
  );
}

function Saved({ show }: { show: boolean }) {
  return (
    <span className="saved" role="status">
      {show ? 'Saved.' : ''}
    </span>
  );
}

function NameForm({ profile, onChange }: { profile: Profile; onChange: (p: Profile) => void }) {
  const [name, setName] = useState(profile.name);
  const [displayName, setDisplayName] = useState(profile.display_name ?? '');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      onChange(await unwrap(api.PUT('/api/v1/profile', { body: { name, display_name: displayName.trim() || null } })));
      setSaved(true);
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="name-title">
      <h2 id="name-title">Your name</h2>
      <form onSubmit={submit} className="stack">
        <Field label="Full name" name="name" value={name} onChange={setName} required maxLength={255} autoComplete="name" />
        <Field label="Display name" name="display_name" value={displayName} onChange={setDisplayName} maxLength={255} hint="Shown to contacts instead of your full name, if set." />
        <FormError message={error} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy}>
            Save
          </button>
          <Saved show={saved} />
        </div>
      </form>
    </section>
  );
}

function PasswordForm({ onChange }: { onChange: (p: Profile) => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    if (next !== confirm) return setError('The new passwords do not match.');
    setBusy(true);
    setError(null);
    try {
      onChange(await unwrap(api.PUT('/api/v1/profile', { body: { current_password: current, password: next, password_confirmation: confirm } })));
      setCurrent('');
      setNext('');
      setConfirm('');
      setSaved(true);
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form onSubmit={submit} className="stack">
        <Field label="Current password" name="current_password" type="password" value={current} onChange={setCurrent} required autoComplete="current-password" />
        <Field label="New password" name="password" type="password" value={next} onChange={setNext} required minLength={8} autoComplete="new-password" hint="At least 8 characters." />
        <Field label="Confirm new password" name="password_confirmation" type="password" value={confirm} onChange={setConfirm} required autoComplete="new-password" />
        <FormError message={error} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy}>
            Change password
          </button>
          <Saved show={saved} />
        </div>
      </form>
    </section>
  );
}

function AccessToken({ profile, onChange }: { profile: Profile; onChange: (p: Profile) => void }) {
  const [revealed, setRevealed] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const token = profile.access_token;

  async function rotate() {
    setBusy(true);
    setError(null);
    try {
      onChange(await unwrap(api.POST('/api/v1/profile/reset_access_token')));
      setRevealed(true);
      setNote('New token created. The old one no longer works: update your integrations.');
    } catch (err) {
      setError(errorText(err));
    }
    setConfirming(false);
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="token-title">
      <h2 id="token-title">Access Token</h2>
      <p className="muted">Send it as the <code>api_access_token</code> header to call the Application API as yourself. Keep it secret.</p>
      <SecretValue label="Access token" value={token} testId="access-token" revealed={revealed} onReveal={setRevealed} />
      <div className="actions">
        {confirming ? (
          <>
            <span>Replace the token? The current one stops working at once.</span>
            <button type="button" className="button danger" onClick={() => void rotate()} disabled={busy}>
              {busy ? 'Rotating…' : 'Yes, rotate'}
            </button>
            <button type="button" className="button" onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </button>
          </>
        ) : (
          <button type="button" className="button" onClick={() => setConfirming(true)}>
            Rotate token
          </button>
        )}
      </div>
      <FormError message={error} />
      <p className="muted" role="status">
        {note}
      </p>
    </section>
  );
}
