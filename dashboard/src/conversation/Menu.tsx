import { useEffect, useLayoutEffect, useRef, useState } from 'react';

/**
 * A button that opens a popover (a menu or a small panel). Open state is the caller's, so keyboard
 * commands can open it too. Escape or a click outside closes it and gives the focus back to the button.
 */
export function Popover({
  label,
  buttonText,
  open,
  onOpenChange,
  kind = 'menu',
  className,
  children,
  testId,
}: {
  /** The popover's accessible name. */
  label: string;
  buttonText: React.ReactNode;
  open: boolean;
  onOpenChange: (open: boolean) => void;
  kind?: 'menu' | 'dialog';
  className?: string;
  children: React.ReactNode;
  testId?: string;
}) {
  const wrap = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  // Placed in the viewport (fixed) under the button, so no scrolling or clipping pane cuts it off.
  const [pos, setPos] = useState<{ top: number; left: number; maxHeight: number } | null>(null);
  useLayoutEffect(() => {
    if (!open) return setPos(null);
    const place = () => {
      const b = button.current?.getBoundingClientRect();
      const w = panel.current?.offsetWidth ?? 240;
      if (!b) return;
      const left = Math.max(8, Math.min(b.right - w, window.innerWidth - w - 8));
      const top = b.bottom + 6;
      setPos({ top, left, maxHeight: Math.max(160, window.innerHeight - top - 12) });
    };
    place();
    window.addEventListener('resize', place);
    return () => window.removeEventListener('resize', place);
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const first = panel.current?.querySelector<HTMLElement>('[role^="menuitem"]:not([disabled]), input, button:not([disabled])');
    first?.focus();
    const onDown = (e: MouseEvent) => {
      if (!wrap.current?.contains(e.target as Node)) onOpenChange(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        onOpenChange(false);
        button.current?.focus();
      }
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey, true);
    };
  }, [open, onOpenChange]);

  // Arrow keys move between the items of a menu.
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (kind !== 'menu' || (e.key !== 'ArrowDown' && e.key !== 'ArrowUp')) return;
    const items = [...(panel.current?.querySelectorAll<HTMLElement>('[role^="menuitem"]:not([disabled])') ?? [])];
    if (!items.length) return;
    e.preventDefault();
    const i = items.indexOf(document.activeElement as HTMLElement);
    items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length]!.focus();
  };

  return (
    <div className={`cv-pop ${className ?? ''}`} ref={wrap}>
      <button ref={button} type="button" className="button cv-pop-button" aria-haspopup={kind} aria-expanded={open} onClick={() => onOpenChange(!open)}>
        {buttonText}
      </button>
      {open && (
        <div
          ref={panel}
          className="cv-pop-panel"
          role={kind}
          aria-label={label}
          onKeyDown={onKeyDown}
          data-testid={testId}
          style={pos ? { top: pos.top, left: pos.left, maxHeight: pos.maxHeight } : { top: 0, left: -9999 }}
        >
          {children}
        </div>
      )}
    </div>
  );
}
