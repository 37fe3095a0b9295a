import { useEffect, useRef, useState } from 'react';
import { api, type Profile } from './api.js';
import { onLinkClick } from './router.js';

/** The signed-in frame: top bar (account, user menu) and the left navigation. */
export function Shell({ profile, current, onSignedOut, children }: { profile: Profile; current: 'profile' | 'invitations'; onSignedOut: () => void; children: React.ReactNode }) {
  const account = profile.accounts.find((a) => a.id === profile.account_id) ?? profile.accounts[0];
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">ChannelX</span>
        <span className="account" data-testid="account-name">
          {account?.name ?? 'No account'}
        </span>
        <UserMenu profile={profile} onSignedOut={onSignedOut} />
      </header>
      <nav className="sidenav" aria-label="Main">
        <a href="/app/profile" onClick={onLinkClick} aria-current={current === 'profile' ? 'page' : undefined}>
          Profile
        </a>
        <a href="/app/profile/invitations" onClick={onLinkClick} aria-current={current === 'invitations' ? 'page' : undefined}>
          Invitations
        </a>
      </nav>
      <main className="content">{children}</main>
    </div>
  );
}

function UserMenu({ profile, onSignedOut }: { profile: Profile; onSignedOut: () => void }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);

  async function signOut() {
    setBusy(true);
    await api.DELETE('/auth/sign_out').catch(() => undefined);
    onSignedOut();
  }

  return (
    <div className="usermenu" ref={ref}>
      <button type="button" className="avatar-button" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        <span className="avatar" aria-hidden="true">
          {initials(profile.available_name || profile.name)}
        </span>
        <span className="username">{profile.available_name || profile.name}</span>
      </button>
      {open && (
        <div className="menu" role="menu" aria-label="User menu">
          <p className="menu-email muted">{profile.email}</p>
          <a role="menuitem" href="/app/profile" onClick={(e) => (setOpen(false), onLinkClick(e))}>
            Profile
          </a>
          <button type="button" role="menuitem" onClick={() => void signOut()} disabled={busy}>
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}

const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join('') || '?';
