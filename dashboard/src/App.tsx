import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, errorText, isStatus, unwrap, type Profile } from './api.js';
import { navigate, useLocation } from './router.js';
import { Setup, SignIn } from './auth.js';
import { Shell } from './Shell.js';
import { ProfilePage } from './ProfilePage.js';
import { AcceptInvitation, ProfileInvitations } from './invitations.js';
import { HOME, matchRoute, sectionOf, type Route } from './routes.js';
import { SessionContext, sessionFor, useSession } from './session.js';
import { CommandsProvider } from './commands.js';
import { LiveProvider } from './live.js';
import { ConversationsPage } from './conversations/ConversationsPage.js';
import { ContactsPage } from './contacts/ContactsPage.js';
import { InboxesPage, InboxPage, NewInboxPage } from './settings/InboxesSettings.js';
import { AgentsPage } from './settings/AgentsSettings.js';
import { TeamsPage } from './settings/TeamsSettings.js';
import { LabelsPage } from './settings/LabelsSettings.js';
import { CannedResponsesPage } from './settings/CannedSettings.js';
import { WebhookPage, WebhooksPage } from './settings/WebhooksSettings.js';

type State =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'setup' }
  | { kind: 'signed-out' }
  | { kind: 'signed-in'; profile: Profile };

/**
 * The dashboard: first-run setup while no user exists, else sign-in, else the app shell. Client
 * routes live under /app/*; `/` goes to the first page of the shell.
 */
export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const { path, search } = useLocation();

  // A sign-in (e.g. on the invitation page) wins over a check still in flight.
  const generation = useRef(0);
  const load = useCallback(async () => {
    const mine = ++generation.current;
    const settle = (s: State) => mine === generation.current && setState(s);
    setState({ kind: 'loading' });
    try {
      const setup = await unwrap(api.GET('/auth/setup'));
      if (setup.required) return settle({ kind: 'setup' });
      settle({ kind: 'signed-in', profile: await unwrap(api.GET('/api/v1/profile')) });
    } catch (err) {
      settle(isStatus(err, 401) ? { kind: 'signed-out' } : { kind: 'error', message: errorText(err) });
    }
  }, []);

  useEffect(() => void load(), [load]);

  // One stable session object per profile: the live socket and every page depend on it.
  const setProfile = useCallback((profile: Profile) => setState({ kind: 'signed-in', profile }), []);
  const signedInProfile = state.kind === 'signed-in' ? state.profile : null;
  const session = useMemo(() => (signedInProfile ? sessionFor(signedInProfile, setProfile) : null), [signedInProfile, setProfile]);

  const signedIn = (profile: Profile) => {
    generation.current++;
    setState({ kind: 'signed-in', profile });
    if (!matchRoute(path)) navigate(HOME, true);
  };

  // The invitation link works whoever is signed in (or nobody): accepting signs in as the invited user.
  if (path.replace(/\/+$/, '') === '/app/accept-invitation') {
    return <AcceptInvitation token={new URLSearchParams(search).get('token') ?? ''} onDone={signedIn} />;
  }
  if (state.kind === 'loading') return <Splash>Loading…</Splash>;
  if (state.kind === 'error') {
    return (
      <Splash>
        <p role="alert">{state.message}</p>
        <button type="button" className="button" onClick={() => void load()}>
          Try again
        </button>
      </Splash>
    );
  }
  if (state.kind === 'setup') return <Setup onDone={signedIn} />;
  if (state.kind === 'signed-out') return <SignIn onDone={signedIn} />;

  const route = matchRoute(path);
  if (!route) {
    navigate(HOME, true);
    return null;
  }
  return (
    <SessionContext.Provider value={session!}>
      <CommandsProvider>
        <LiveProvider>
          <Shell section={sectionOf(route)} current={route.page} onSignedOut={() => setState({ kind: 'signed-out' })}>
            <Page route={route} />
          </Shell>
        </LiveProvider>
      </CommandsProvider>
    </SessionContext.Provider>
  );
}

function Page({ route }: { route: Route }) {
  const { profile, setProfile } = useSession();
  switch (route.page) {
    case 'conversations':
      return <ConversationsPage conversationId={route.conversationId} />;
    case 'contacts':
      return <ContactsPage contactId={route.contactId} />;
    case 'inboxes':
      return <InboxesPage />;
    case 'inbox-new':
      return <NewInboxPage />;
    case 'inbox':
      return <InboxPage inboxId={route.inboxId} tab={route.tab} />;
    case 'agents':
      return <AgentsPage />;
    case 'teams':
      return <TeamsPage />;
    case 'labels':
      return <LabelsPage />;
    case 'canned-responses':
      return <CannedResponsesPage />;
    case 'webhooks':
      return <WebhooksPage />;
    case 'webhook':
      return <WebhookPage webhookId={route.webhookId} />;
    case 'profile':
      return <ProfilePage profile={profile} onChange={setProfile} />;
    case 'invitations':
      return <ProfileInvitations onChange={setProfile} />;
  }
}

export function Splash({ children }: { children: React.ReactNode }) {
  return (
    <main className="splash" aria-busy={children === 'Loading…'}>
      <div className="splash-card">{children}</div>
    </main>
  );
}
