import { forwardRef, useEffect, useImperativeHandle, useId, useLayoutEffect, useRef, useState } from 'react';
import type { CannedResponse } from '../catalog.js';
import { searchCanned } from '../settings/CannedSettings.js';

export type ComposerMode = 'reply' | 'note';
export type ComposerHandle = { focus(mode?: ComposerMode): void; send(): void; /** Types `/` at the caret (opens the canned responses). */ slash(): void };

const TYPING_IDLE_MS = 3000;
const TYPING_REFRESH_MS = 2500;
const MAX_HEIGHT = 220;

/** The `/query` the caret is in (a `/` that starts a word, then no space), or null. */
export function slashQueryAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|\s)\/([^\s/]*)$/.exec(before);
  if (!m) return null;
  return { start: before.length - m[2]!.length - 1, query: m[2]! };
}

/**
 * Reply or private note. Enter sends, Shift+Enter starts a new line (also Ctrl/⌘+Enter sends). While
 * the agent types, `onTyping(true, mode)` is reported (refreshed every few seconds) and
 * `onTyping(false)` after 3 s idle, on send, on a mode change and on leave. A failed send keeps the text.
 */
export const Composer = forwardRef<
  ComposerHandle,
  {
    canReply: boolean;
    cannotReplyReason: string;
    onSend: (text: string, mode: ComposerMode) => Promise<boolean>;
    onTyping: (typing: boolean, mode: ComposerMode) => void;
    error: string | null;
    /** The account's canned responses, for the `/` menu (loaded when it first opens). */
    loadCanned?: () => Promise<CannedResponse[]>;
  }
>(function Composer({ canReply, cannotReplyReason, onSend, onTyping, error, loadCanned }, ref) {
  const [mode, setMode] = useState<ComposerMode>('reply');
  const [text, setText] = useState('');
  const textRef = useRef(text);
  textRef.current = text;
  const area = useRef<HTMLTextAreaElement>(null);
  const sending = useRef(false);
  const typing = useRef<{ on: boolean; at: number; mode: ComposerMode }>({ on: false, at: 0, mode: 'reply' });
  const idle = useRef<ReturnType<typeof setTimeout>>(undefined);
  const onTypingRef = useRef(onTyping);
  onTypingRef.current = onTyping;
  const hintId = useId();
  const reasonId = useId();
  const disabled = mode === 'reply' && !canReply;

  /* ---------- canned responses: `/` at the start of a word ---------- */
  const listId = useId();
  const [slash, setSlash] = useState<{ start: number; query: string } | null>(null);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [canned, setCanned] = useState<{ list: CannedResponse[] | null; error: string | null }>({ list: null, error: null });
  const cannedLoading = useRef(false);
  const [active, setActive] = useState(0);
  const trackCaret = (value: string, el: HTMLTextAreaElement | null) => {
    if (!loadCanned || !el) return;
    const at = el.selectionStart === el.selectionEnd ? slashQueryAt(value, el.selectionStart) : null;
    setSlash((cur) => (cur?.start === at?.start && cur?.query === at?.query ? cur : at));
    // A dismissed menu stays closed while the caret stays in that `/…`.
    setDismissed((d) => (at && at.start === d ? d : null));
  };
  const menuOpen = !!slash && dismissed !== slash.start && !disabled;
  useEffect(() => {
    if (!menuOpen || canned.list || cannedLoading.current || !loadCanned) return;
    cannedLoading.current = true;
    loadCanned()
      .then((list) => setCanned({ list, error: null }))
      .catch(() => setCanned({ list: null, error: 'Canned responses could not be loaded.' }))
      .finally(() => (cannedLoading.current = false));
  }, [menuOpen, canned.list, loadCanned]);
  const matches = menuOpen && canned.list ? searchCanned(canned.list, slash!.query).slice(0, 8) : [];
  useEffect(() => setActive(0), [slash?.query, slash?.start]);
  const activeIndex = Math.min(active, Math.max(0, matches.length - 1));
  const optionId = (i: number) => `${listId}-o${i}`;

  const insertCanned = (c: CannedResponse) => {
    const el = area.current;
    if (!slash || !el) return;
    const end = slash.start + 1 + slash.query.length;
    const value = textRef.current;
    const next = value.slice(0, slash.start) + c.content + value.slice(end);
    const caret = slash.start + c.content.length;
    typed(next);
    textRef.current = next;
    setSlash(null);
    requestAnimationFrame(() => {
      el.focus();
      el.setSelectionRange(caret, caret);
    });
  };

  const stopTyping = () => {
    clearTimeout(idle.current);
    if (typing.current.on) {
      typing.current.on = false;
      onTypingRef.current(false, typing.current.mode);
    }
  };

  useEffect(() => () => stopTyping(), []);

  const typed = (value: string) => {
    setText(value);
    if (!value.trim()) return stopTyping();
    const t = Date.now();
    if (!typing.current.on || typing.current.mode !== mode || t - typing.current.at > TYPING_REFRESH_MS) {
      if (typing.current.on && typing.current.mode !== mode) onTypingRef.current(false, typing.current.mode);
      typing.current = { on: true, at: t, mode };
      onTypingRef.current(true, mode);
    }
    clearTimeout(idle.current);
    idle.current = setTimeout(stopTyping, TYPING_IDLE_MS);
  };

  // Grows with the text up to a bound, then scrolls.
  useLayoutEffect(() => {
    const el = area.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT)}px`;
  }, [text, mode]);

  async function send() {
    const value = textRef.current;
    if (sending.current || !value.trim() || disabled) return;
    sending.current = true;
    stopTyping();
    setText('');
    textRef.current = '';
    const ok = await onSend(value, mode);
    sending.current = false;
    if (!ok) setText((cur) => (cur ? cur : value));
    area.current?.focus();
  }

  const switchMode = (m: ComposerMode) => {
    if (m === mode) return;
    stopTyping();
    setMode(m);
  };

  useImperativeHandle(ref, () => ({
    focus(m) {
      if (m) switchMode(m);
      requestAnimationFrame(() => area.current?.focus());
    },
    send: () => void send(),
    slash() {
      const el = area.current;
      if (!el || el.disabled) return;
      const value = textRef.current;
      const at = el === document.activeElement ? el.selectionStart : value.length;
      const pre = value.slice(0, at);
      const insert = pre && !/\s$/.test(pre) ? ' /' : '/';
      const next = pre + insert + value.slice(at);
      typed(next);
      textRef.current = next;
      const caret = pre.length + insert.length;
      requestAnimationFrame(() => {
        el.focus();
        el.setSelectionRange(caret, caret);
        trackCaret(next, el);
      });
    },
  }));

  const label = mode === 'reply' ? 'Reply' : 'Private note';
  return (
    <div className={`cv-composer ${mode === 'note' ? 'note' : ''}`} data-mode={mode}>
      <div className="cv-modes" role="tablist" aria-label="Message kind">
        {(['reply', 'note'] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="tab"
            aria-selected={mode === m}
            tabIndex={mode === m ? 0 : -1}
            className="cv-mode"
            onClick={() => switchMode(m)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                e.preventDefault();
                const next = m === 'reply' ? 'note' : 'reply';
                switchMode(next);
                (e.currentTarget.parentElement?.querySelector(`[data-m="${next}"]`) as HTMLElement | null)?.focus();
              }
            }}
            data-m={m}
          >
            {m === 'reply' ? 'Reply' : 'Private note'}
          </button>
        ))}
        {mode === 'note' && <span className="cv-note-hint">Only agents see notes</span>}
      </div>
      {menuOpen && (
        <div className="cv-canned" data-testid="canned-menu">
          <p className="cv-canned-head muted" id={`${listId}-h`}>
            Canned responses{slash!.query ? ` matching “${slash!.query}”` : ''}
          </p>
          {matches.length > 0 ? (
            <ul role="listbox" id={listId} aria-labelledby={`${listId}-h`} className="cv-canned-list">
              {matches.map((c, i) => (
                <li
                  key={c.id}
                  id={optionId(i)}
                  role="option"
                  aria-selected={i === activeIndex}
                  className="cv-canned-option"
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => insertCanned(c)}
                  onMouseEnter={() => setActive(i)}
                >
                  <code>/{c.short_code}</code>
                  <span className="cv-canned-text">{c.content}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="cv-canned-note muted" role="status">
              {canned.error ?? (!canned.list ? 'Loading canned responses…' : canned.list.length ? 'No canned response matches.' : 'No canned responses yet. Add them in Settings → Canned responses.')}
            </p>
          )}
          <p className="cv-canned-foot muted" aria-hidden="true">
            ↑ ↓ to choose · Enter to insert · Esc to close
          </p>
        </div>
      )}
      <textarea
        ref={area}
        {...(menuOpen
          ? {
              role: 'combobox',
              'aria-expanded': true,
              'aria-autocomplete': 'list' as const,
              'aria-controls': matches.length ? listId : undefined,
              'aria-activedescendant': matches.length ? optionId(activeIndex) : undefined,
            }
          : {})}
        aria-label={label}
        className="cv-input"
        rows={2}
        value={text}
        disabled={disabled}
        placeholder={disabled ? '' : mode === 'reply' ? 'Write a reply…' : 'Write a private note for your team…'}
        aria-describedby={disabled ? reasonId : hintId}
        onChange={(e) => (typed(e.target.value), trackCaret(e.target.value, e.target))}
        onSelect={(e) => trackCaret(e.currentTarget.value, e.currentTarget)}
        onBlur={() => (setSlash(null), textRef.current.trim() ? undefined : stopTyping())}
        onKeyDown={(e) => {
          if (menuOpen && !e.nativeEvent.isComposing) {
            if (e.key === 'Escape') {
              e.preventDefault();
              setDismissed(slash!.start);
              return;
            }
            if (matches.length && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
              e.preventDefault();
              setActive((activeIndex + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length);
              return;
            }
            if (matches.length && (e.key === 'Enter' || e.key === 'Tab') && !e.shiftKey) {
              e.preventDefault();
              insertCanned(matches[activeIndex]!);
              return;
            }
          }
          if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void send();
          }
        }}
      />
      {error && (
        <p className="error cv-send-error" role="alert">
          Not sent: {error}
        </p>
      )}
      <div className="cv-composer-foot">
        {disabled ? (
          <span id={reasonId} className="muted cv-hint">
            {cannotReplyReason}
          </span>
        ) : (
          <span id={hintId} className="muted cv-hint">
            Enter to send · Shift+Enter for a new line
          </span>
        )}
        <button type="button" className="button primary" onClick={() => void send()} disabled={disabled || !text.trim()}>
          Send
        </button>
      </div>
    </div>
  );
});
