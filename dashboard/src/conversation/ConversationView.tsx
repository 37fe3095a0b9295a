import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, errorText, isStatus, unwrap } from '../api.js';
import { useSession } from '../session.js';
import { useLive, useLiveEvent, useReconnected } from '../live.js';
import { useCommands, type Command } from '../commands.js';
import { useMessages } from './messages.js';
import { useConversationActions, type PatchConversation } from './actions.js';
import { MessageList } from './MessageList.js';
import { Composer, type ComposerHandle, type ComposerMode } from './Composer.js';
import { Header, type HeaderActions, type MenuName } from './Header.js';
import { ContactPanel, type OtherConversation } from './ContactPanel.js';
import { Viewers, useViewers } from './Viewers.js';
import { cannedApi } from '../catalog.js';
import { MESSAGE_TYPE, PRIORITIES, SNOOZE_PRESETS, toMsg, type Conversation, type Msg } from './model.js';
import './conversation.css';

const VIEWING_REFRESH_MS = 20_000;
const CONTACT_TYPING_MS = 10_000;
const SEEN_THROTTLE_MS = 3_000;
/** The contact panel opens by itself when the view is at least this wide. */
const PANEL_MIN_VIEW_WIDTH = 820;

/**
 * One open conversation: header with its actions, the messages (live, virtualised, paged back),
 * typing and collision indicators, the composer, and the contact panel.
 */
export function ConversationView({ conversationId, onAdvance }: { conversationId: number; onAdvance?: () => void }) {
  return <OpenConversation key={conversationId} conversationId={conversationId} onAdvance={onAdvance} />;
}

/** `deleted`: an administrator deleted it while it was open (conversation.deleted). */
type ConvState = { conv: Conversation | null; loading: boolean; error: string | null; missing: boolean; deleted?: boolean };

function OpenConversation({ conversationId, onAdvance }: { conversationId: number; onAdvance?: () => void }) {
  const { profile, accountId } = useSession();
  const live = useLive();
  const path = useMemo(() => ({ account_id: accountId, conversation_id: conversationId }), [accountId, conversationId]);

  /* ---------------- the conversation ---------------- */
  const [cs, setCs] = useState<ConvState>({ conv: null, loading: true, error: null, missing: false });
  const conv = cs.conv;
  const convRef = useRef(conv);
  convRef.current = conv;

  const loadConv = useCallback(async () => {
    try {
      const c = await unwrap(api.GET('/api/v1/accounts/{account_id}/conversations/{conversation_id}', { params: { path } }));
      setCs({ conv: c, loading: false, error: null, missing: false });
    } catch (err) {
      setCs((s) => ({ ...s, loading: false, error: errorText(err), missing: isStatus(err, 404) }));
    }
  }, [path]);
  useEffect(() => void loadConv(), [loadConv]);

  const refetchTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const refetchSoon = useCallback(() => {
    clearTimeout(refetchTimer.current);
    refetchTimer.current = setTimeout(() => void loadConv(), 150);
  }, [loadConv]);
  useEffect(() => () => clearTimeout(refetchTimer.current), []);

  /* ---------------- messages ---------------- */
  const msgs = useMessages(accountId, conversationId);
  const [followSignal, setFollowSignal] = useState(0);
  const [sendError, setSendError] = useState<string | null>(null);

  /* ---------------- seen ---------------- */
  const seen = useRef({ at: 0, timer: undefined as ReturnType<typeof setTimeout> | undefined });
  const markSeen = useCallback(() => {
    if (document.visibilityState !== 'visible') return;
    const s = seen.current;
    const wait = s.at + SEEN_THROTTLE_MS - Date.now();
    if (wait > 0) {
      if (!s.timer) s.timer = setTimeout(() => ((s.timer = undefined), markSeen()), wait);
      return;
    }
    s.at = Date.now();
    void api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/update_last_seen', { params: { path } }).catch(() => undefined);
  }, [path]);
  useEffect(() => {
    markSeen();
    const onVis = () => document.visibilityState === 'visible' && markSeen();
    document.addEventListener('visibilitychange', onVis);
    return () => {
      document.removeEventListener('visibilitychange', onVis);
      clearTimeout(seen.current.timer);
    };
  }, [markSeen]);

  /* ---------------- typing & collision ---------------- */
  const [contactTyping, setContactTyping] = useState(false);
  const contactTypingTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(contactTypingTimer.current), []);
  const viewers = useViewers(profile.id);
  const myTyping = useRef(false);

  useEffect(() => {
    if (!live.generation) return;
    const announce = () => live.perform('viewing', { conversation_id: conversationId, typing: myTyping.current });
    announce();
    const t = setInterval(() => document.visibilityState === 'visible' && announce(), VIEWING_REFRESH_MS);
    const onVis = () => (document.visibilityState === 'visible' ? announce() : live.perform('viewing', { conversation_id: null }));
    document.addEventListener('visibilitychange', onVis);
    return () => {
      clearInterval(t);
      document.removeEventListener('visibilitychange', onVis);
      live.perform('viewing', { conversation_id: null });
    };
  }, [live.generation, live.perform, conversationId]);

  const onTyping = useCallback(
    (typing: boolean, mode: ComposerMode) => {
      myTyping.current = typing;
      live.perform('viewing', { conversation_id: conversationId, typing });
      void api
        .POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/toggle_typing_status', {
          params: { path },
          body: { typing_status: typing ? 'on' : 'off', is_private: mode === 'note' },
        })
        .catch(() => undefined);
    },
    [live.perform, conversationId, path],
  );

  /* ---------------- live events ---------------- */
  const onMessage = (data: unknown, updated: boolean) => {
    const m = toMsg(data);
    if ((data as { conversation_id?: number }).conversation_id !== conversationId) return;
    msgs.upsert([m], { updated });
    if (!updated && m.messageType === MESSAGE_TYPE.incoming) {
      setContactTyping(false);
      markSeen();
    }
  };
  useLiveEvent('message.created', (d) => onMessage(d, false));
  useLiveEvent('message.updated', (d) => onMessage(d, true));
  const onConvEvent = (d: { id: number }) => d.id === conversationId && refetchSoon();
  useLiveEvent('conversation.updated', onConvEvent);
  useLiveEvent('conversation.status_changed', onConvEvent);
  useLiveEvent('conversation.read', onConvEvent);
  useLiveEvent('assignee.changed', onConvEvent);
  useLiveEvent('team.changed', onConvEvent);
  useLiveEvent('conversation.deleted', (d) => {
    if (d.id !== conversationId) return;
    clearTimeout(refetchTimer.current);
    setCs({ conv: null, loading: false, error: null, missing: true, deleted: true });
  });
  useLiveEvent('contact.updated', (d) => convRef.current?.meta.sender.id === d.id && refetchSoon());
  const onTypingEvent = (d: { conversation: { id: number }; user: { type: string; id: number } | null; is_private: boolean }, on: boolean) => {
    if (d.conversation.id !== conversationId || !d.user) return;
    if (d.user.type === 'contact') {
      clearTimeout(contactTypingTimer.current);
      setContactTyping(on);
      if (on) contactTypingTimer.current = setTimeout(() => setContactTyping(false), CONTACT_TYPING_MS);
    } else if (d.user.type === 'user') viewers.typing(d.user as never, on, d.is_private);
  };
  useLiveEvent('conversation.typing_on', (d) => onTypingEvent(d, true));
  useLiveEvent('conversation.typing_off', (d) => onTypingEvent(d, false));
  useLiveEvent('conversation.viewing', (d) => d.conversation_id === conversationId && viewers.viewing(d.user, d.viewing, d.typing));

  useReconnected(() => {
    void loadConv();
    void msgs.catchUp();
  });

  /* ---------------- sending ---------------- */
  const pendingSeq = useRef(0);
  const onSend = useCallback(
    async (text: string, mode: ComposerMode): Promise<boolean> => {
      setSendError(null);
      const echoId = `cx-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
      const pending: Msg = {
        id: -++pendingSeq.current,
        content: text,
        messageType: MESSAGE_TYPE.outgoing,
        private: mode === 'note',
        status: 'progress',
        error: null,
        createdAt: Math.floor(Date.now() / 1000),
        sender: { type: 'user', id: profile.id, name: profile.available_name || profile.name },
        echoId,
        attachments: [],
      };
      msgs.upsert([pending]);
      setFollowSignal((n) => n + 1);
      try {
        const m = await unwrap(
          api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages', {
            params: { path },
            body: { content: text, private: mode === 'note', message_type: 'outgoing', echo_id: echoId },
          }),
        );
        msgs.upsert([{ ...toMsg(m), echoId }], { keepExisting: true });
        return true;
      } catch (err) {
        msgs.remove(pending.id);
        setSendError(errorText(err));
        return false;
      }
    },
    [path, profile, msgs.upsert, msgs.remove],
  );

  /* ---------------- actions (./actions.ts) ---------------- */
  const patchConv = useCallback<PatchConversation>(
    (p) => setCs((s) => (s.conv ? { ...s, conv: typeof p === 'function' ? p(s.conv) : { ...s.conv, ...p } } : s)),
    [],
  );
  const composer = useRef<ComposerHandle>(null);
  const a = useConversationActions({ accountId, path, convRef, patchConv, refetchSoon });
  const { busy, actionError, setActionError, actionNote, menu, setMenu, setStatus, assign, assignTeam, setPriority, markUnread } = a;

  const onRetry = useCallback(
    async (messageId: number) => {
      msgs.setRetrying(messageId, true);
      try {
        const m = await unwrap(
          api.POST('/api/v1/accounts/{account_id}/conversations/{conversation_id}/messages/{message_id}/retry', {
            params: { path: { ...path, message_id: messageId } },
          }),
        );
        msgs.upsert([toMsg(m)]);
        setActionError(null);
      } catch (err) {
        setActionError(`The message could not be sent again: ${errorText(err)}`);
      }
      msgs.setRetrying(messageId, false);
    },
    [path, msgs.setRetrying, msgs.upsert],
  );

  const loadCanned = useCallback(() => cannedApi.list(accountId), [accountId]);

  /* ---------------- contact panel ---------------- */
  // Open by default when the view is wide enough for it beside the messages; the agent's toggle wins.
  const [rootEl, setRootEl] = useState<HTMLElement | null>(null);
  const [wide, setWide] = useState(false);
  useEffect(() => {
    if (!rootEl) return;
    const ro = new ResizeObserver(([e]) => setWide((e?.contentRect.width ?? 0) >= PANEL_MIN_VIEW_WIDTH));
    ro.observe(rootEl);
    return () => ro.disconnect();
  }, [rootEl]);
  const [panelPref, setPanelPref] = useState<boolean | null>(null);
  const panelOpen = panelPref ?? wide;
  const setPanelOpen = (f: (o: boolean) => boolean) => setPanelPref(f(panelOpen));
  const [others, setOthers] = useState<OtherConversation[] | null>(null);
  const [othersError, setOthersError] = useState<string | null>(null);
  const contactId = conv?.meta.sender.id;
  useEffect(() => {
    if (!contactId || !panelOpen) return;
    let stop = false;
    unwrap(api.GET('/api/v1/accounts/{account_id}/contacts/{id}/conversations', { params: { path: { account_id: accountId, id: contactId } } }))
      .then((r) => {
        if (stop) return;
        setOthers(
          r.payload
            .filter((c) => c.id !== conversationId)
            .map((c) => ({ id: c.id, status: c.status, lastActivityAt: c.last_activity_at, preview: c.last_non_activity_message?.content ?? '' })),
        );
      })
      .catch((err) => !stop && setOthersError(errorText(err)));
    return () => void (stop = true);
  }, [accountId, contactId, conversationId, panelOpen]);

  const inboxName = useInboxName(accountId, conv?.inbox_id ?? 0);

  /* ---------------- commands ---------------- */
  const ready = !!conv;
  const commands: Command[] = ready
    ? [
        { id: 'conversation.reply', title: 'Reply', group: 'Conversation', shortcut: 'r', run: () => composer.current?.focus('reply') },
        { id: 'conversation.note', title: 'Write a private note', group: 'Conversation', shortcut: 'n', run: () => composer.current?.focus('note') },
        { id: 'conversation.send', title: 'Send', group: 'Conversation', shortcut: 'mod+enter', allowInInput: true, run: () => composer.current?.send() },
        {
          id: 'conversation.resolve-next',
          title: 'Resolve and go to the next conversation',
          group: 'Conversation',
          shortcut: 'e',
          run: () => void setStatus('resolved').then(() => onAdvance?.()),
        },
        { id: 'conversation.resolve', title: 'Resolve', group: 'Conversation', run: () => void setStatus('resolved') },
        { id: 'conversation.reopen', title: 'Reopen', group: 'Conversation', shortcut: 'shift+e', run: () => void setStatus('open') },
        { id: 'conversation.assign-me', title: 'Assign to me', group: 'Conversation', shortcut: 'i', run: () => void assign(profile.id) },
        { id: 'conversation.assign', title: 'Assign to…', group: 'Conversation', keywords: 'agent assignee', run: () => setMenu('assign') },
        { id: 'conversation.unassign', title: 'Unassign', group: 'Conversation', run: () => void assign(null) },
        { id: 'conversation.team', title: 'Assign a team…', group: 'Conversation', keywords: 'team group department', run: () => setMenu('team') },
        { id: 'conversation.unassign-team', title: 'Remove the team', group: 'Conversation', keywords: 'team unassign', run: () => void assignTeam(null) },
        { id: 'conversation.canned', title: 'Insert a canned response', group: 'Conversation', keywords: 'template saved reply short code slash', run: () => composer.current?.slash() },
        { id: 'conversation.snooze', title: 'Snooze…', group: 'Conversation', shortcut: 's', run: () => setMenu('snooze') },
        ...SNOOZE_PRESETS.map((p) => ({ id: `conversation.snooze-${p.id}`, title: `Snooze ${p.title.toLowerCase()}`, group: 'Conversation', run: () => void setStatus('snoozed', p.until()) })),
        { id: 'conversation.labels', title: 'Labels…', group: 'Conversation', shortcut: 'l', keywords: 'tag', run: () => (a.loadLabelSuggestions(), setMenu('labels')) },
        { id: 'conversation.priority', title: 'Priority…', group: 'Conversation', shortcut: 'p', run: () => setMenu('priority') },
        ...PRIORITIES.map((p) => ({
          id: `conversation.priority-${p}`,
          title: p === 'none' ? 'Clear the priority' : `Set priority ${p}`,
          group: 'Conversation',
          run: () => void setPriority(p === 'none' ? null : p),
        })),
        { id: 'conversation.unread', title: 'Mark as unread', group: 'Conversation', run: () => void markUnread() },
        { id: 'conversation.contact-panel', title: panelOpen ? 'Hide the contact details' : 'Show the contact details', group: 'Conversation', run: () => setPanelOpen((o) => !o) },
      ]
    : [];
  useCommands(commands);

  /* ---------------- render ---------------- */
  if (!conv) {
    return (
      <section className="cv-root cv-state" data-testid="conversation-view" data-conversation-id={conversationId} aria-label="Conversation" aria-busy={cs.loading}>
        {cs.loading ? (
          <p className="muted">Loading the conversation…</p>
        ) : (
          <div className="cv-state-box">
            <p role="alert" className="error">
              {cs.deleted
                ? 'This conversation was deleted, with its messages.'
                : cs.missing
                  ? 'This conversation does not exist, or you do not have access to its inbox.'
                  : cs.error}
            </p>
            {!cs.missing && (
              <button type="button" className="button" onClick={() => (setCs((s) => ({ ...s, loading: true })), void loadConv())}>
                Try again
              </button>
            )}
          </div>
        )}
      </section>
    );
  }

  const contactName = conv.meta.sender.name || 'Contact';
  const actions: HeaderActions = { setStatus, assign, assignTeam, setPriority, setLabels: a.setLabels, loadLabelSuggestions: a.loadLabelSuggestions };
  return (
    <section ref={setRootEl} className={`cv-root ${panelOpen ? 'with-panel' : ''}`} data-testid="conversation-view" data-conversation-id={conversationId} aria-label={`Conversation with ${contactName}`}>
      <div className="cv-main">
        <Header
          conv={conv}
          inboxName={inboxName}
          agents={a.agents}
          agentsError={a.agentsError}
          meId={profile.id}
          busy={busy}
          menu={menu}
          setMenu={setMenu}
          actions={actions}
          labelSuggestions={a.labelSuggestions}
          accountLabels={a.accountLabels}
          teams={a.teams}
          teamsError={a.teamsError}
          panelOpen={panelOpen}
          onTogglePanel={() => setPanelOpen((o) => !o)}
        />
        {actionError && (
          <div className="error cv-action-error" role="alert">
            <span>{actionError}</span>
            <button type="button" className="cv-dismiss" aria-label="Dismiss" onClick={() => setActionError(null)}>
              ×
            </button>
          </div>
        )}
        <p className="sr-only" role="status">
          {actionNote}
        </p>
        <Viewers list={viewers.list} />
        {msgs.state.error && !msgs.state.list.length ? (
          <div className="cv-state-box cv-messages-error">
            <p role="alert" className="error">
              Messages could not be loaded: {msgs.state.error}
            </p>
            <button type="button" className="button" onClick={() => void msgs.reload()}>
              Try again
            </button>
          </div>
        ) : msgs.state.loading ? (
          <p className="muted cv-messages-loading">Loading messages…</p>
        ) : (
          <MessageList state={msgs.state} contactName={contactName} onLoadOlder={msgs.loadOlder} onRetry={(id) => void onRetry(id)} followSignal={followSignal} />
        )}
        <div className="cv-typing-slot" aria-live="polite">
          {contactTyping && (
            <p className="cv-typing" data-testid="typing-indicator">
              <span className="cv-dots" aria-hidden="true">
                <i />
                <i />
                <i />
              </span>
              {contactName} is typing…
            </p>
          )}
        </div>
        <Composer
          ref={composer}
          canReply={conv.can_reply}
          cannotReplyReason="Replies can't be sent in this conversation (its channel does not allow it now). You can still write a private note."
          onSend={onSend}
          onTyping={onTyping}
          error={sendError}
          loadCanned={loadCanned}
        />
      </div>
      {panelOpen && <ContactPanel conv={conv} others={others} othersError={othersError} />}
    </section>
  );
}

const inboxNames = new Map<string, string>();

/** The inbox's name (fetched once per tab). */
function useInboxName(accountId: number, inboxId: number): string {
  const key = `${accountId}:${inboxId}`;
  const [name, setName] = useState(() => inboxNames.get(key) ?? '');
  useEffect(() => {
    if (!inboxId) return;
    if (inboxNames.has(key)) return setName(inboxNames.get(key)!);
    let stop = false;
    unwrap(api.GET('/api/v1/accounts/{account_id}/inboxes', { params: { path: { account_id: accountId } } }))
      .then((r) => {
        for (const i of r.payload) inboxNames.set(`${accountId}:${i.id}`, i.name);
        if (!stop) setName(inboxNames.get(key) ?? `Inbox ${inboxId}`);
      })
      .catch(() => !stop && setName(`Inbox ${inboxId}`));
    return () => void (stop = true);
  }, [accountId, inboxId, key]);
  return name || 'Inbox';
}
