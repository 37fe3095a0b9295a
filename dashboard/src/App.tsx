import { useState, type FormEvent } from 'react';
import { ChannelxError, createApplicationClient, unwrap, type Profile } from '@channelx/client';

/**
 * Placeholder page: proves @channelx/client works from a browser bundle. Type an access token,
 * and the page loads GET /api/v1/profile from the server that serves it and shows the name.
 */
export function App() {
  const [token, setToken] = useState('');
  const [profile, setProfile] = useState<Profile | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function load(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const api = createApplicationClient({ baseUrl: window.location.origin, token });
    try {
      setProfile(await unwrap(api.GET('/api/v1/profile')));
    } catch (err) {
      setProfile(null);
      setError(err instanceof ChannelxError ? `${err.status}: ${err.message}` : String(err));
    }
  }

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 480, margin: '48px auto', lineHeight: 1.5 }}>
      <h1>ChannelX</h1>
      <form onSubmit={load}>
        <label>
          Access token{' '}
          <input name="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
        </label>{' '}
        <button type="submit">Load profile</button>
      </form>
      {profile && (
        <p>
          Signed in as <strong data-testid="profile-name">{profile.name}</strong> ({profile.email})
        </p>
      )}
      {error && (
        <p role="alert" style={{ color: '#b00020' }}>
          {error}
        </p>
      )}
    </main>
  );
}
