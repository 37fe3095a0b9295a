import { useEffect, useId, useRef, useState } from 'react';
import { api, errorText, unwrap } from '../api.js';
import { useSession } from '../session.js';

/**
 * The bar over the list while conversations are selected: Resolve, Assign to…, Add label…, and
 * Clear. The parent runs the action (progress and failures are its to show).
 */

export type Agent = { id: number; name: string };

type Props = {
  count: number;
  busy: boolean;
  knownLabels: string[];
  onResolve: () => void;
  onAssign: (agent: Agent | null) => void;
  onLabel: (label: string) => void;
  onClear: () => void;
};

/** A button that opens a small panel under it; Escape or a click outside closes it. */
function Popover({ label, name, disabled, children }: { label: string; name: string; disabled: boolean; children: (close: () => void) => React.ReactNode }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelId = useId();
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => !ref.current?.contains(e.target as Node) && setOpen(false);
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setOpen(false);
      buttonRef.current?.focus();
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);
  return (
    <div className="cx-popover-wrap" ref={ref}>
      <button ref={buttonRef} type="button" className="button cx-small" aria-expanded={open} aria-controls={panelId} aria-label={name} disabled={disabled} onClick={() => setOpen((o) => !o)}>
        {label}
      </button>
      {open && (
        <div className="cx-popover" id={panelId}>
          {children(() => setOpen(false))}
        </div>
      )}
    </div>
  );
}

function AgentPicker({ onPick }: { onPick: (a: Agent | null) => void }) {
  const { accountId } = useSession();
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    unwrap(api.GET('/api/v1/accounts/{account_id}/agents', { params: { path: { account_id: accountId } } }))
      .then((list) => live && setAgents(list.filter((a) => a.confirmed !== false).map((a) => ({ id: a.id, name: a.available_name || a.name }))))
      .catch((err) => live && setError(errorText(err)));
    return () => void (live = false);
  }, [accountId, attempt]);
  if (error) {
    return (
      <div className="cx-popover-body">
        <p role="alert" className="error">
          {error}
        </p>
        <button type="button" className="button cx-small" onClick={() => setAttempt((n) => n + 1)}>
          Try again
        </button>
      </div>
    );
  }
  if (!agents) return <p className="muted cx-popover-body">Loading agents…</p>;
  return (
    <ul className="cx-pick" aria-label="Agents">
      {agents.map((a) => (
        <li key={a.id}>
          <button type="button" onClick={() => onPick(a)}>
            {a.name}
          </button>
        </li>
      ))}
      <li>
        <button type="button" className="muted" onClick={() => onPick(null)}>
          Unassign
        </button>
      </li>
    </ul>
  );
}

function LabelForm({ knownLabels, onAdd }: { knownLabels: string[]; onAdd: (label: string) => void }) {
  const [text, setText] = useState('');
  const inputId = useId();
  const listId = useId();
  const label = text.trim();
  return (
    <form
      className="cx-popover-body cx-label-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (label) onAdd(label);
      }}
    >
      <label htmlFor={inputId}>Label</label>
      <div className="cx-label-row">
        <input id={inputId} value={text} onChange={(e) => setText(e.target.value)} list={listId} maxLength={255} autoFocus autoComplete="off" />
        <button type="submit" className="button primary cx-small" disabled={!label}>
          Add
        </button>
      </div>
      <datalist id={listId}>
        {knownLabels.map((l) => (
          <option key={l} value={l} />
        ))}
      </datalist>
      {knownLabels.length > 0 && (
        <div className="cx-known-labels" aria-label="Labels in the list" role="group">
          {knownLabels.slice(0, 12).map((l) => (
            <button key={l} type="button" className="cx-label cx-label-button" onClick={() => onAdd(l)}>
              {l}
            </button>
          ))}
        </div>
      )}
    </form>
  );
}

export function BulkBar({ count, busy, knownLabels, onResolve, onAssign, onLabel, onClear }: Props) {
  return (
    <div className="cx-bulk" role="group" aria-label="Bulk actions">
      <span className="cx-bulk-count">
        {count}
        <span className="cx-bulk-word"> selected</span>
      </span>
      <button type="button" className="button primary cx-small" onClick={onResolve} disabled={busy}>
        Resolve
      </button>
      <Popover label="Assign" name="Assign to…" disabled={busy}>
        {(close) => (
          <AgentPicker
            onPick={(a) => {
              close();
              onAssign(a);
            }}
          />
        )}
      </Popover>
      <Popover label="Label" name="Add label…" disabled={busy}>
        {(close) => (
          <LabelForm
            knownLabels={knownLabels}
            onAdd={(l) => {
              close();
              onLabel(l);
            }}
          />
        )}
      </Popover>
      <button type="button" className="button cx-small cx-bulk-clear" onClick={onClear} disabled={busy} aria-label="Clear selection" title="Clear selection">
        <span aria-hidden="true">✕</span>
      </button>
    </div>
  );
}
