import { useState, type FormEvent } from 'react';
import { api, errorText, unwrap, type Profile } from './api.js';
import { Field, FormError } from './ui.js';

/** The centred card of the signed-out pages. */
export function AuthCard({ title, intro, children }: { title: string; intro?: React.ReactNode; children: React.ReactNode }) {
  return (
    <main className="auth">
      <section className="auth-card" aria-labelledby="auth-title">
        <p className="brand">ChannelX</p>
        <h1 id="auth-title">{title}</h1>
        {intro && <p className="muted">{intro}</p>}
        {children}
      </section>
    </main>
  );
}

/** First run: the account and its administrator (the same as `npm run channelx -- setup`). */
export function Setup({ onDone }: { onDone: (p: Profile) => void }) {
  const [form, setForm] = useState({ account: '', name: '', email: '', password: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/auth/setup', { body: form }));
      onDone(await unwrap(api.GET('/api/v1/profile')));
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <AuthCard title="Set up ChannelX" intro="Create your account and its first administrator. You can invite your team afterwards.">
      <form onSubmit={submit} className="stack">
        <Field label="Account name" name="account" value={form.account} onChange={set('account')} required autoComplete="organization" placeholder="Acme Support" />
        <Field label="Your name" name="name" value={form.name} onChange={set('name')} required autoComplete="name" />
        <Field label="E-mail" name="email" type="email" value={form.email} onChange={set('email')} required autoComplete="email" />
        <Field label="Password" name="password" type="password" value={form.password} onChange={set('password')} required minLength={8} autoComplete="new-password" hint="At least 8 characters." />
        <FormError message={error} />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
    </AuthCard>
  );
}

export function SignIn({ onDone }: { onDone: (p: Profile) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/auth/sign_in', { body: { email, password } }));
      onDone(await unwrap(api.GET('/api/v1/profile')));
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <AuthCard title="Sign in">
      <form onSubmit={submit} className="stack">
        <Field label="E-mail" name="email" type="email" value={email} onChange={setEmail} required autoComplete="username" />
        <Field label="Password" name="password" type="password" value={password} onChange={setPassword} required autoComplete="current-password" />
        <FormError message={error} />
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </AuthCard>
  );
}
