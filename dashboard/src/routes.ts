/**
 * The signed-in pages and their paths. `matchRoute` turns a path into a page and its params;
 * every link in the dashboard is one of these paths.
 */
export type Route =
  | { page: 'conversations'; conversationId: number | null }
  | { page: 'contacts'; contactId: number | null }
  | { page: 'inboxes' }
  | { page: 'inbox-new' }
  | { page: 'inbox'; inboxId: number; tab: string | null }
  | { page: 'agents' }
  | { page: 'teams' }
  | { page: 'labels' }
  | { page: 'canned-responses' }
  | { page: 'webhooks' }
  | { page: 'webhook'; webhookId: number }
  | { page: 'profile' }
  | { page: 'invitations' };

export type NavSection = 'conversations' | 'contacts' | 'settings' | 'profile';

export const HOME = '/app/conversations';

const id = (s: string | undefined) => (s && /^[1-9]\d{0,15}$/.test(s) ? Number(s) : null);

export function matchRoute(path: string): Route | null {
  const parts = path.replace(/\/+$/, '').split('/').slice(1);
  if (parts[0] !== 'app') return null;
  const [, a, b, c, d] = parts;
  if (a === 'conversations') {
    if (b === undefined) return { page: 'conversations', conversationId: null };
    const cid = id(b);
    return cid && c === undefined ? { page: 'conversations', conversationId: cid } : null;
  }
  if (a === 'contacts') {
    if (b === undefined) return { page: 'contacts', contactId: null };
    const cid = id(b);
    return cid && c === undefined ? { page: 'contacts', contactId: cid } : null;
  }
  if (a === 'settings') {
    if (b === 'inboxes') {
      if (c === undefined) return { page: 'inboxes' };
      if (c === 'new' && d === undefined) return { page: 'inbox-new' };
      const iid = id(c);
      return iid && parts.length <= 5 ? { page: 'inbox', inboxId: iid, tab: d ?? null } : null;
    }
    if (b === 'agents' && c === undefined) return { page: 'agents' };
    if (b === 'teams' && c === undefined) return { page: 'teams' };
    if (b === 'labels' && c === undefined) return { page: 'labels' };
    if (b === 'canned-responses' && c === undefined) return { page: 'canned-responses' };
    if (b === 'webhooks') {
      if (c === undefined) return { page: 'webhooks' };
      const wid = id(c);
      return wid && d === undefined ? { page: 'webhook', webhookId: wid } : null;
    }
    return null;
  }
  if (a === 'profile') {
    if (b === undefined) return { page: 'profile' };
    if (b === 'invitations' && c === undefined) return { page: 'invitations' };
  }
  return null;
}

export function sectionOf(route: Route): NavSection {
  switch (route.page) {
    case 'conversations':
      return 'conversations';
    case 'contacts':
      return 'contacts';
    case 'profile':
    case 'invitations':
      return 'profile';
    default:
      return 'settings';
  }
}

export const paths = {
  conversations: (query = '') => `/app/conversations${query}`,
  conversation: (cid: number, query = '') => `/app/conversations/${cid}${query}`,
  contacts: () => '/app/contacts',
  contact: (cid: number) => `/app/contacts/${cid}`,
  inboxes: () => '/app/settings/inboxes',
  newInbox: () => '/app/settings/inboxes/new',
  inbox: (iid: number, tab?: string) => `/app/settings/inboxes/${iid}${tab ? `/${tab}` : ''}`,
  agents: () => '/app/settings/agents',
  teams: () => '/app/settings/teams',
  labels: () => '/app/settings/labels',
  cannedResponses: () => '/app/settings/canned-responses',
  webhooks: () => '/app/settings/webhooks',
  webhook: (wid: number) => `/app/settings/webhooks/${wid}`,
  profile: () => '/app/profile',
  invitations: () => '/app/profile/invitations',
};
