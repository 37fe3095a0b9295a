import { useEffect, useId, useRef, useState } from 'react';
import { errorText } from '../api.js';
import { FormError } from '../ui.js';
import '../settings/settings.css';
import '../settings/admin.css';

/**
 * A modal confirmation: role="dialog" with aria-modal, focus moved to its safe button on open and
 * back to where it was on close, Tab kept inside, Escape (or the backdrop) cancels. `onConfirm`
 * may be async: while it runs the buttons are disabled; if it throws, the error shows in the
 * dialog and it stays open. Used by Agents, Webhooks and Contacts.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busyLabel,
  danger = true,
  onConfirm,
  onClose,
}: {
  title: string;
  children: React.ReactNode;
  confirmLabel: string;
  busyLabel?: string;
  danger?: boolean;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  const busyRef = useRef(false);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    cancelRef.current?.focus();
    return () => {
      // Back to the control that opened it, if it is still on the page.
      if (before && document.contains(before)) before.focus();
    };
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        if (!busyRef.current) closeRef.current();
        return;
      }
      if (e.key !== 'Tab' || !ref.current) return;
      const focusable = [...ref.current.querySelectorAll<HTMLElement>('button:not(:disabled), [href], input:not(:disabled), [tabindex]:not([tabindex="-1"])')];
      if (!focusable.length) return;
      const first = focusable[0]!;
      const last = focusable[focusable.length - 1]!;
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      } else if (!ref.current.contains(document.activeElement)) {
        e.preventDefault();
        first.focus();
      }
    };
    // Capture: the dialog sees Escape before page-level shortcuts do.
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, []);

  async function confirm() {
    setBusy(true);
    busyRef.current = true;
    setError(null);
    try {
      await onConfirm();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
      busyRef.current = false;
    }
  }

  return (
    <div className="adm-backdrop" onMouseDown={(e) => e.target === e.currentTarget && !busy && onClose()}>
      <div className="adm-dialog" role="dialog" aria-modal="true" aria-labelledby={`${id}-title`} aria-describedby={`${id}-body`} ref={ref}>
        <h2 id={`${id}-title`}>{title}</h2>
        <div id={`${id}-body`} className="adm-dialog-body">
          {children}
        </div>
        <FormError message={error} />
        <div className="actions">
          <button type="button" className="button" ref={cancelRef} onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="button" className={`button ${danger ? 'danger' : 'primary'}`} onClick={() => void confirm()} disabled={busy}>
            {busy ? (busyLabel ?? 'Working…') : confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
