import { useEffect, useRef, useState } from 'react';

/** Values to hand on: shown as text with a Copy button (masked with Reveal for secrets); a refused clipboard selects the text instead. */

const NOTE_MS = 2500;

/**
 * Copies `text`; says "Copied" for a moment. When the clipboard API is missing or refuses, it
 * selects the text of `target` instead (after `reveal`, for masked values) and says to press the keys.
 */
export function useCopy() {
  const [note, setNote] = useState<{ kind: 'ok' | 'fallback'; text: string } | null>(null);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  function say(kind: 'ok' | 'fallback', text: string, ms: number) {
    setNote({ kind, text });
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setNote(null), ms);
  }

  async function copy(text: string, target: () => HTMLElement | null, reveal?: () => void) {
    try {
      if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      say('ok', 'Copied', NOTE_MS);
    } catch {
      reveal?.();
      // After a reveal the element re-renders with the real text: select on the next frame.
      requestAnimationFrame(() => {
        const el = target();
        if (el) {
          const range = document.createRange();
          range.selectNodeContents(el);
          const sel = window.getSelection();
          sel?.removeAllRanges();
          sel?.addRange(range);
          el.focus?.();
        }
      });
      const mac = /Mac|iPhone|iPad/.test(navigator.platform);
      say('fallback', `Copying is blocked here. The text is selected: press ${mac ? '⌘C' : 'Ctrl+C'}.`, 8000);
    }
  }
  return { note, copy };
}

export function CopyNote({ note }: { note: ReturnType<typeof useCopy>['note'] }) {
  return (
    <span className={`copied${note?.kind === 'fallback' ? ' fallback' : ''}`} role="status" aria-live="polite">
      {note?.text ?? ''}
    </span>
  );
}

/** A value with a Copy button (inbox identifier, invitation link, …). */
export function CopyValue({ label, value, testId }: { label: string; value: string; testId?: string }) {
  const ref = useRef<HTMLElement>(null);
  const { note, copy } = useCopy();
  return (
    <div className="value-row">
      <code className="value" ref={ref} tabIndex={-1} data-testid={testId} aria-label={label}>
        {value}
      </code>
      <button type="button" className="button" onClick={() => void copy(value, () => ref.current)} aria-label={`Copy ${label.toLowerCase()}`}>
        Copy
      </button>
      <CopyNote note={note} />
    </div>
  );
}

/**
 * A masked secret: Reveal/Hide and Copy (which copies the real value while it stays masked).
 * Controlled with `revealed` + `onReveal`, or on its own (starting as `initiallyRevealed`).
 */
export function SecretValue({
  label,
  value,
  testId,
  revealed: shown,
  onReveal,
  initiallyRevealed = false,
}: {
  label: string;
  value: string;
  testId?: string;
  revealed?: boolean;
  onReveal?: (r: boolean) => void;
  initiallyRevealed?: boolean;
}) {
  const ref = useRef<HTMLElement>(null);
  const { note, copy } = useCopy();
  const [own, setOwn] = useState(initiallyRevealed);
  const revealed = shown ?? own;
  const reveal = (r: boolean) => (onReveal ? onReveal(r) : setOwn(r));
  return (
    <div className="value-row">
      <code className="value" ref={ref} tabIndex={-1} data-testid={testId} aria-label={revealed ? label : `${label} (hidden)`}>
        {revealed ? value : '•'.repeat(28)}
      </code>
      <button type="button" className="button" aria-pressed={revealed} aria-label={`${revealed ? 'Hide' : 'Reveal'} ${label.toLowerCase()}`} onClick={() => reveal(!revealed)}>
        {revealed ? 'Hide' : 'Reveal'}
      </button>
      <button type="button" className="button" aria-label={`Copy ${label.toLowerCase()}`} onClick={() => void copy(value, () => ref.current, () => reveal(true))}>
        Copy
      </button>
      <CopyNote note={note} />
    </div>
  );
}
