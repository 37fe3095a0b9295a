import { useEffect, useState, type FormEvent } from 'react';
import { api, errorText, isStatus, unwrap, type Profile } from './api.js';
import { AuthCard } from './auth.js';
import { Field, FormError } from './ui.js';
import { onLinkClick } from './router.js';
import { Splash } from './App.js';

type Preview = { email: string; name: string; account_name: string; role: string; expires_at: string };

/** /app/accept-invitation?token=…: the invited agent sets name and password and lands signed in. */
export function AcceptInvitation({ token, onDone }: { token: string; onDone: (p: Profile) => void }) {
  const [preview, setPreview] = useState<Preview | 'invalid' | { error: string } | null>(null);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!token) return setPreview('invalid');
    api
      .GET('/auth/invitations/{token}', { params: { path: { token } } })
      .then(async (r) => {
        const p = await unwrap(Promise.resolve(r));
        setPreview(p);
        setName(p.name);
      })
      .catch((err) => setPreview(isStatus(err, 404) || isStatus(err, 422) ? 'invalid' : { error: errorText(err) }));
  }, [token]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password !== confirm) return setError('The passwords do not match.');
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/auth/invitations/{token}', { params: { path: { token } }, body: { name, password, password_confirmation: confirm } }));
      onDone(await unwrap(api.GET('/api/v1/profile')));
    } catch (err) {
      setError(isStatus(err, 404) ? 'This invitation link was used or has expired in the meantime.' : errorText(err));
      setBusy(false);
    }
  }

  if (preview === null) return <Splash>Loading…</Splash>;
  if (preview === 'invalid') {
    return (
      <AuthCard title="This invitation link no longer works">
        <p>It has already been used, or it has expired. Ask an administrator of the account for a new invitation.</p>
        <p>
          Already set a password?{' '}
          <a href="/" onClick={onLinkClick}>
            Sign in
          </a>
          .
        </p>
      </AuthCard>
    );
  }
  if ('error' in preview) {
    return (
      <AuthCard title="The invitation could not be loaded">
        <p role="alert" className="error">
          {preview.error}
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard
      title={`Join ${preview.account_name}`}
      intro={
        <>
          You are invited as {preview.role === 'administrator' ? 'an administrator' : 'an agent'} with <strong>{preview.email}</strong>. Choose your name and a password.
        </>
      }
    >
      <form onSubmit={submit} className="stack">
        <Field label="Your name" name="name" value={name} onChange={setName} required autoComplete="name" />
        <Field label="Password" name="password" type="password" value={password} onChange={setPassword} required minLength={8} autoComplete="new-password" hint="At least 8 characters." />
        <Field label="Confirm password" name="password_confirmation" type="password" value={confirm} onChange={setConfirm} required autoComplete="new-password" />
        <FormError message={error} />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Joining…' : 'Join and sign in'}
        </button>
      </form>
    </AuthCard>
  );
}

type Invitation = { id: number; account_name: string; role: string; inviter_name: string | null };

/** /app/profile/invitations: accounts that invite the signed-in user. */
export function ProfileInvitations({ onChange }: { onChange: (p: Profile) => void }) {
  const [list, setList] = useState<Invitation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);

  const load = () =>
    unwrap(api.GET('/api/v1/profile/invitations'))
      .then((r) => setList(r.payload))
      .catch((err) => setError(errorText(err)));
  useEffect(() => void load(), []);

  async function answer(id: number, accept: boolean) {
    setBusy(id);
    setError(null);
    try {
      if (accept) onChange(await unwrap(api.POST('/api/v1/profile/invitations/{id}/accept', { params: { path: { id } } })));
      else await unwrap(api.POST('/api/v1/profile/invitations/{id}/decline', { params: { path: { id } } }));
      setList((l) => l?.filter((i) => i.id !== id) ?? null);
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(null);
  }

  return (
    <div className="page">
      <h1>Invitations</h1>
      <FormError message={error} />
      {list === null && !error && <p className="muted">Loading…</p>}
      {list?.length === 0 && <p className="muted card">No pending invitations. When an account invites you, it appears here.</p>}
      {list?.map((inv) => (
        <section className="card invitation" key={inv.id} aria-label={`Invitation to ${inv.account_name}`}>
          <div>
            <h2>{inv.account_name}</h2>
            <p className="muted">
              As {inv.role}
              {inv.inviter_name ? `, invited by ${inv.inviter_name}` : ''}
            </p>
          </div>
          <div className="actions">
            <button type="button" className="button primary" disabled={busy !== null} onClick={() => void answer(inv.id, true)}>
              Accept
            </button>
            <button type="button" className="button" disabled={busy !== null} onClick={() => void answer(inv.id, false)}>
              Decline
            </button>
          </div>
        </section>
      ))}
    </div>
  );
}
