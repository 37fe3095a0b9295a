import { forwardRef, useEffect, useImperativeHandle, useId, useLayoutEffect, useRef, useState } from 'react';

export type ComposerMode = 'reply' | 'note';
export type ComposerHandle = { focus(mode?: ComposerMode): void; send(): void };

const TYPING_IDLE_MS = 3000;
const TYPING_REFRESH_MS = 2500;
const MAX_HEIGHT = 220;

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
  }
>(function Composer({ canReply, cannotReplyReason, onSend, onTyping, error }, ref) {
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
      <textarea
        ref={area}
        aria-label={label}
        className="cv-input"
        rows={2}
        value={text}
        disabled={disabled}
        placeholder={disabled ? '' : mode === 'reply' ? 'Write a reply…' : 'Write a private note for your team…'}
        aria-describedby={disabled ? reasonId : hintId}
        onChange={(e) => typed(e.target.value)}
        onBlur={() => (textRef.current.trim() ? undefined : stopTyping())}
        onKeyDown={(e) => {
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
