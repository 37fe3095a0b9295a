import { useState } from 'react';

/**
 * A value to hand on (an invitation link, a signing secret): shown as selectable text with a Copy
 * button; masked with a Reveal toggle when `secret`. Copy failures say how to copy by hand.
 */
export function CopyValue({ value, label, secret = false, initiallyRevealed = false, testId }: { value: string; label: string; secret?: boolean; initiallyRevealed?: boolean; testId?: string }) {
  const [revealed, setRevealed] = useState(!secret || initiallyRevealed);
  const [note, setNote] = useState('');

  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setNote('Copied to the clipboard.');
    } catch {
      setRevealed(true);
      setNote('Copying is not allowed here: select the text and copy it.');
    }
  }

  return (
    <div role="group" aria-label={label}>
      <div className="adm-copy-row">
        <code className="adm-copy-value" data-testid={testId}>
          {revealed ? value : <span aria-label="hidden" role="img">{'•'.repeat(28)}</span>}
        </code>
        {secret && (
          <button type="button" className="button" onClick={() => setRevealed((r) => !r)} aria-pressed={revealed} aria-label={`${revealed ? 'Hide' : 'Reveal'} ${label.toLowerCase()}`}>
            {revealed ? 'Hide' : 'Reveal'}
          </button>
        )}
        <button type="button" className="button" onClick={() => void copy()} aria-label={`Copy ${label.toLowerCase()}`}>
          Copy
        </button>
      </div>
      <p className="muted adm-status" role="status">
        {note}
      </p>
    </div>
  );
}
