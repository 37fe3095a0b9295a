import { useId, useState } from 'react';
import { isHexColor, type Label } from '../catalog.js';
import './conversation.css';

/**
 * The label picker of the conversation view and the contact page: the current labels (each with
 * its account label's colour and a remove button), a free-text field, and the account's labels
 * (then other suggestions) to add with one click.
 */

/** A label's colour by title (account labels; case-insensitive), or null for a free-text label. */
export function labelColors(accountLabels: Label[] | null) {
  const m = new Map((accountLabels ?? []).map((l) => [l.title.toLowerCase(), l.color]));
  return (title: string) => m.get(title.toLowerCase()) ?? null;
}

export function LabelDot({ color }: { color: string | null }) {
  return color && isHexColor(color) ? <span className="cv-label-dot" style={{ background: color }} aria-hidden="true" /> : null;
}

export function LabelsPanel({ labels, accountLabels, suggestions, onChange }: { labels: string[]; accountLabels: Label[] | null; suggestions: string[]; onChange: (labels: string[]) => void }) {
  const colorOf = labelColors(accountLabels);
  const id = useId();
  const [text, setText] = useState('');
  const add = (l: string) => {
    const v = l.trim();
    if (!v || labels.includes(v)) return setText('');
    onChange([...labels, v]);
    setText('');
  };
  const q = text.trim().toLowerCase();
  const has = new Set(labels.map((l) => l.toLowerCase()));
  // The account's labels first (with their colours), then labels other conversations use.
  const fromAccount = (accountLabels ?? []).map((l) => l.title).sort((a, b) => a.localeCompare(b));
  const known = new Set(fromAccount.map((l) => l.toLowerCase()));
  const offered = [...fromAccount, ...suggestions.filter((s) => !known.has(s.toLowerCase()))].filter((s) => !has.has(s.toLowerCase()) && s.toLowerCase().includes(q)).slice(0, 10);
  return (
    <div className="cv-labels-panel">
      {labels.length ? (
        <ul className="cv-labels" aria-label="Current labels">
          {labels.map((l) => (
            <li key={l} className="cv-label">
              <LabelDot color={colorOf(l)} />
              {l}
              <button type="button" className="cv-label-x" aria-label={`Remove label ${l}`} onClick={() => onChange(labels.filter((x) => x !== l))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted cv-pop-note">No labels yet.</p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add(text);
        }}
      >
        <label htmlFor={id}>Add a label</label>
        <div className="cv-row-inline">
          <input id={id} value={text} maxLength={255} onChange={(e) => setText(e.target.value)} autoComplete="off" />
          <button type="submit" className="button" disabled={!text.trim()}>
            Add
          </button>
        </div>
      </form>
      {offered.length > 0 && (
        <div className="cv-suggest">
          <span className="muted">{accountLabels?.length ? 'Labels' : 'Suggestions'}</span>
          <ul className="cv-pop-list">
            {offered.map((s) => (
              <li key={s}>
                <button type="button" onClick={() => add(s)} aria-label={`Add label ${s}`}>
                  <span aria-hidden="true">+</span>
                  <LabelDot color={colorOf(s)} />
                  {s}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
