import { useCallback, useEffect, useRef, useState } from 'react';
import { api, unwrap } from '../api.js';
import { useLiveEvent, useReconnected } from '../live.js';
import { navigate, useLocation } from '../router.js';
import { matchRoute, paths } from '../routes.js';
import { useSession } from '../session.js';
import { notificationPermission, readNotifications } from './prefs.js';
import { playChime, unlockAudio } from './sound.js';

const BODY_MAX = 140;
/** One chime for a burst (a new conversation and its first message arrive together). */
const CHIME_GAP_MS = 1500;
const COUNT_DEBOUNCE_MS = 500;
const BASE_TITLE = 'ChannelX';

const truncate = (s: string, n: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
};

/** The unread conversations of the inboxes the agent sees: the sum of `meta.inboxes[].unread_count`. */
function unreadOf(meta: Record<string, unknown>): number {
  const inboxes = meta.inboxes;
  if (!Array.isArray(inboxes)) return 0;
  let n = 0;
  for (const i of inboxes) {
    const c = (i as { unread_count?: unknown } | null)?.unread_count;
    if (typeof c === 'number' && Number.isFinite(c) && c > 0) n += c;
  }
  return n;
}

/**
 * Tells the agent about new work while the dashboard is open: a chime and a browser notification
 * for new conversations and contact messages in conversations assigned to them or unassigned (as
 * their profile's notification preferences say), and the number of unread conversations in the tab
 * title, "(3) ChannelX".
 */
export function Notifier() {
  const { profile, accountId } = useSession();
  const prefs = readNotifications(profile.ui_settings);
  const { path } = useLocation();
  const route = matchRoute(path);
  const openConversation = route?.page === 'conversations' ? route.conversationId : null;

  const latest = useRef({ prefs, openConversation, me: profile.id });
  latest.current = { prefs, openConversation, me: profile.id };
  const lastChime = useRef(0);

  // Audio may start only after a gesture in the page: unlock it on the first one.
  useEffect(() => {
    const unlock = () => {
      unlockAudio();
      window.removeEventListener('pointerdown', unlock, true);
      window.removeEventListener('keydown', unlock, true);
    };
    window.addEventListener('pointerdown', unlock, true);
    window.addEventListener('keydown', unlock, true);
    return unlock;
  }, []);

  const alert = (a: { kind: 'conversation' | 'message'; conversationId: number; assigneeId: number | null; title: string; body: string }) => {
    const { prefs, openConversation, me } = latest.current;
    if (a.assigneeId !== null && a.assigneeId !== me) return;
    const inScope = a.kind === 'conversation' ? prefs.new_conversations : a.assigneeId === me ? prefs.assigned_to_me : prefs.unassigned;
    if (!inScope) return;
    if (prefs.sound && Date.now() - lastChime.current > CHIME_GAP_MS) {
      lastChime.current = Date.now();
      playChime();
    }
    const elsewhere = document.hidden || openConversation !== a.conversationId;
    if (prefs.browser && elsewhere && notificationPermission() === 'granted') {
      try {
        const n = new window.Notification(a.title, { body: a.body, tag: `channelx-conversation-${a.conversationId}` });
        n.onclick = () => {
          window.focus();
          navigate(paths.conversation(a.conversationId));
          n.close();
        };
      } catch {
        /* some browsers allow notifications only from a service worker: the chime and the title still tell */
      }
    }
  };

  // The unread count in the tab title.
  const [unread, setUnread] = useState(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const generation = useRef(0);
  const fetchCount = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const r = await unwrap(api.GET('/api/v1/accounts/{account_id}/conversations/meta', { params: { path: { account_id: accountId } } }));
      if (mine === generation.current) setUnread(unreadOf(r.meta));
    } catch {
      // The count stays as it was; the next event, reconnect or focus asks again.
    }
  }, [accountId]);
  const refresh = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void fetchCount(), COUNT_DEBOUNCE_MS);
  }, [fetchCount]);

  useEffect(() => {
    void fetchCount();
    const onVisible = () => document.visibilityState === 'visible' && refresh();
    window.addEventListener('focus', refresh);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearTimeout(timer.current);
      window.removeEventListener('focus', refresh);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [fetchCount, refresh]);
  useReconnected(refresh);

  useLiveEvent('message.created', (m) => {
    refresh();
    // Only what a contact wrote: not the agents' replies, notes or activity lines.
    if (m.message_type !== 0 || m.private) return;
    const sender = m.sender?.type === 'contact' ? m.sender.name : null;
    alert({
      kind: 'message',
      conversationId: m.conversation_id,
      assigneeId: m.conversation.assignee_id,
      title: sender || 'New message',
      body: m.content ? truncate(m.content, BODY_MAX) : 'Sent an attachment',
    });
  });
  useLiveEvent('conversation.created', (c) => {
    refresh();
    const first = c.messages.find((m) => m.message_type === 0 && !m.private)?.content;
    alert({
      kind: 'conversation',
      conversationId: c.id,
      assigneeId: c.meta.assignee?.id ?? null,
      title: c.meta.sender.name || 'New conversation',
      body: first ? truncate(first, BODY_MAX) : 'Started a new conversation',
    });
  });
  useLiveEvent('message.updated', refresh);
  useLiveEvent('conversation.updated', refresh);
  useLiveEvent('conversation.status_changed', refresh);
  useLiveEvent('conversation.read', refresh);
  useLiveEvent('assignee.changed', refresh);
  useLiveEvent('conversation.deleted', refresh);

  // "(N) ChannelX": kept in front of whatever title a page sets.
  useEffect(() => {
    const apply = () => {
      const base = document.title.replace(/^\(\d+\)\s*/, '') || BASE_TITLE;
      const want = unread > 0 ? `(${unread}) ${base}` : base;
      if (document.title !== want) document.title = want;
    };
    apply();
    const el = document.querySelector('title');
    if (!el) return;
    const observer = new MutationObserver(apply);
    observer.observe(el, { childList: true, characterData: true, subtree: true });
    return () => observer.disconnect();
  }, [unread]);
  useEffect(
    () => () => {
      document.title = document.title.replace(/^\(\d+\)\s*/, '') || BASE_TITLE;
    },
    [],
  );

  return null;
}
