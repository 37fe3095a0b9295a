import { useEffect, useRef, useState } from 'react';
import { api, type Profile } from './api.js';
import { onLinkClick } from './router.js';
import { paths, type NavSection } from './routes.js';
import { useSession } from './session.js';
import { initials } from './ui.js';
import { ConnectionBanner } from './live.js';
import { KeyboardLayer } from './commands/Palette.js';
import { Notifier } from './notifications/Notifier.js';

/** The signed-in frame: top bar (account, connection, user menu), the left navigation and the keyboard layer. */
export function Shell({ section, current, onSignedOut, children }: { section: NavSection; current: string; onSignedOut: () => void; children: React.ReactNode }) {
  const { profile, accountId, isAdministrator } = useSession();
  const account = profile.accounts.find((a) => a.id === accountId);
  const here = (s: NavSection) => (section === s ? ('page' as const) : undefined);
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">ChannelX</span>
        <span className="account" data-testid="account-name">
          {account?.name ?? 'No account'}
        </span>
        <ConnectionBanner />
        <UserMenu profile={profile} onSignedOut={onSignedOut} />
      </header>
      <nav className="sidenav" aria-label="Main">
        <a href={paths.conversations()} onClick={onLinkClick} aria-current={here('conversations')}>
          Conversations
        </a>
        <a href={paths.contacts()} onClick={onLinkClick} aria-current={here('contacts')}>
          Contacts
        </a>
        <a href={paths.inboxes()} onClick={onLinkClick} aria-current={undefined}>
          Settings
        </a>
        {section === 'settings' && (
          <>
            <a className="subnav" href={paths.inboxes()} onClick={onLinkClick} aria-current={current.startsWith('inbox') ? 'page' : undefined}>
              Inboxes
            </a>
            <a className="subnav" href={paths.agents()} onClick={onLinkClick} aria-current={current === 'agents' ? 'page' : undefined}>
              Agents
            </a>
            <a className="subnav" href={paths.teams()} onClick={onLinkClick} aria-current={current === 'teams' ? 'page' : undefined}>
              Teams
            </a>
            <a className="subnav" href={paths.labels()} onClick={onLinkClick} aria-current={current === 'labels' ? 'page' : undefined}>
              Labels
            </a>
            <a className="subnav" href={paths.cannedResponses()} onClick={onLinkClick} aria-current={current === 'canned-responses' ? 'page' : undefined}>
              Canned responses
            </a>
            {isAdministrator && (
              <a className="subnav" href={paths.webhooks()} onClick={onLinkClick} aria-current={current.startsWith('webhook') ? 'page' : undefined}>
                Webhooks
              </a>
            )}
          </>
        )}
        <a href={paths.profile()} onClick={onLinkClick} aria-current={current === 'profile' ? 'page' : undefined}>
          Profile
        </a>
        {section === 'profile' && (
          <a className="subnav" href={paths.invitations()} onClick={onLinkClick} aria-current={current === 'invitations' ? 'page' : undefined}>
            Invitations
          </a>
        )}
      </nav>
      <main className="content" data-section={section}>
        {children}
      </main>
      <KeyboardLayer />
      <Notifier />
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
