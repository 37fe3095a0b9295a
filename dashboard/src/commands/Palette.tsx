import { useCallback, useEffect, useId, useMemo, useRef, useState } from 'react';
import { api, errorText } from '../api.js';
import { useCommandList, useCommands, type Command } from '../commands.js';
import { navigate } from '../router.js';
import { paths } from '../routes.js';
import { useSession } from '../session.js';
import { eventStep, isMac, isTypingTarget, parseShortcut, shortcutKeys, spokenShortcut } from './keys.js';
import { rank } from './rank.js';
import { setTheme, storedTheme, type Theme } from './theme.js';
import './commands.css';

/** How long the second key of a sequence ("g" then "i") may wait. */
const SEQUENCE_MS = 1000;

type Layer = 'palette' | 'help' | null;

/**
 * The keyboard layer of the shell: runs the registered commands' shortcuts, the command palette
 * (Ctrl/⌘+K) that lists every command, and the `?` list of shortcuts. Registers the global
 * navigation, theme and account commands.
 */
export function KeyboardLayer() {
  const { isAdministrator } = useSession();
  const commands = useCommandList();
  const [layer, setLayer] = useState<Layer>(null);
  const [theme, setThemeState] = useState<Theme>(storedTheme);
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const returnFocus = useRef<HTMLElement | null>(null);
  // Where focus goes back to once a closed layer has left the page; a layer opened before that
  // frame takes it over (the frame must not pull focus out of the new layer's field).
  const pendingReturn = useRef<HTMLElement | null>(null);
  const opened = useRef(0);

  const open = useCallback((which: Exclude<Layer, null>) => {
    opened.current += 1;
    setLayer((current) => {
      if (current === null) {
        const a = document.activeElement;
        returnFocus.current = a instanceof HTMLElement && a !== document.body ? a : pendingReturn.current;
      }
      return which;
    });
  }, []);

  const close = useCallback(() => {
    setLayer(null);
    const back = returnFocus.current;
    returnFocus.current = null;
    pendingReturn.current = back;
    const generation = opened.current;
    // After the dialog has left the page, unless another layer opened since.
    requestAnimationFrame(() => {
      if (opened.current !== generation) return;
      pendingReturn.current = null;
      if (back && back.isConnected) back.focus();
    });
  }, []);

  const chooseTheme = (t: Theme) => {
    setTheme(t);
    setThemeState(t);
    setNotice({ text: t === 'system' ? 'Theme follows the system setting.' : `${t === 'dark' ? 'Dark' : 'Light'} theme.` });
  };

  const signOut = async () => {
    setNotice({ text: 'Signing out…' });
    try {
      const { error, response } = await api.DELETE('/auth/sign_out');
      if (error && response.status !== 401) throw new Error(`The server answered ${response.status}.`);
      window.location.reload();
    } catch (err) {
      setNotice({ text: `Could not sign out: ${err instanceof Error && err.message.startsWith('The server') ? err.message : errorText(err)}`, error: true });
    }
  };

  const current = (t: Theme) => (theme === t ? ' (current)' : '');
  useCommands([
    { id: 'nav.conversations', title: 'Go to conversations', group: 'Navigation', shortcut: 'g c', keywords: 'inbox chats home', run: () => navigate(paths.conversations()) },
    { id: 'nav.contacts', title: 'Go to contacts', group: 'Navigation', shortcut: 'g o', keywords: 'people customers', run: () => navigate(paths.contacts()) },
    { id: 'nav.settings', title: 'Go to settings', group: 'Navigation', shortcut: 'g s', keywords: 'configuration', run: () => navigate(paths.inboxes()) },
    { id: 'nav.inboxes', title: 'Go to inboxes settings', group: 'Navigation', keywords: 'channels api channel', run: () => navigate(paths.inboxes()) },
    { id: 'nav.agents', title: 'Go to agents settings', group: 'Navigation', keywords: 'team users members', run: () => navigate(paths.agents()) },
    { id: 'nav.teams', title: 'Go to teams settings', group: 'Navigation', keywords: 'groups departments', run: () => navigate(paths.teams()) },
    { id: 'nav.labels', title: 'Go to labels settings', group: 'Navigation', keywords: 'tags colors', run: () => navigate(paths.labels()) },
    { id: 'nav.canned-responses', title: 'Go to canned responses settings', group: 'Navigation', keywords: 'templates snippets saved replies short codes', run: () => navigate(paths.cannedResponses()) },
    ...(isAdministrator
      ? [{ id: 'nav.webhooks', title: 'Go to webhooks settings', group: 'Navigation', keywords: 'integrations events', run: () => navigate(paths.webhooks()) }]
      : []),
    { id: 'nav.profile', title: 'Go to profile', group: 'Navigation', shortcut: 'g p', keywords: 'account me password access token notifications sound', run: () => navigate(paths.profile()) },
    { id: 'nav.invitations', title: 'Go to invitations', group: 'Navigation', keywords: 'accounts join', run: () => navigate(paths.invitations()) },
    { id: 'theme.system', title: `Theme: system${current('system')}`, group: 'Appearance', keywords: 'toggle theme appearance automatic os', run: () => chooseTheme('system') },
    { id: 'theme.light', title: `Theme: light${current('light')}`, group: 'Appearance', keywords: 'toggle theme appearance light mode', run: () => chooseTheme('light') },
    { id: 'theme.dark', title: `Theme: dark${current('dark')}`, group: 'Appearance', keywords: 'toggle theme appearance dark mode night', run: () => chooseTheme('dark') },
    { id: 'account.sign-out', title: 'Sign out', group: 'Account', keywords: 'log out logout exit', run: () => void signOut() },
    { id: 'help.shortcuts', title: 'Show keyboard shortcuts', group: 'Help', shortcut: '?', keywords: 'help keys', run: () => open('help') },
    { id: 'help.palette', title: 'Open command palette', group: 'Help', shortcut: 'mod+k', keywords: 'search actions', allowInInput: true, run: () => open('palette') },
  ]);

  // The shortcut dispatcher.
  const latest = useRef({ commands, layer, close });
  latest.current = { commands, layer, close };
  useEffect(() => {
    let pending: string | null = null;
    let pendingTimer: ReturnType<typeof setTimeout> | undefined;
    const clearPending = () => {
      pending = null;
      clearTimeout(pendingTimer);
    };
    const run = (e: KeyboardEvent, c: Command) => {
      e.preventDefault();
      clearPending();
      try {
        c.run();
      } catch {
        setNotice({ text: `“${c.title}” failed. Try again.`, error: true });
      }
    };

    function onKeyDown(e: KeyboardEvent) {
      if (e.defaultPrevented || e.isComposing) return;
      const step = eventStep(e);
      if (!step) return;
      const { commands, layer, close } = latest.current;
      // Our dialogs handle their own keys; Ctrl/⌘+K toggles the palette.
      if (layer) {
        if (step === 'mod+k' && layer === 'palette') (e.preventDefault(), close());
        return;
      }
      // Another modal dialog is open: the page behind it takes no shortcuts.
      if (document.querySelector('[aria-modal="true"], dialog[open]')) return clearPending();
      const target = e.target instanceof Element ? e.target : document.activeElement;
      const typing = isTypingTarget(target);
      const candidates = commands
        .filter((c) => c.shortcut && (!typing || c.allowInInput))
        .map((c) => ({ c, steps: parseShortcut(c.shortcut!) }));

      if (pending) {
        const first = pending;
        clearPending();
        const match = !e.repeat && candidates.find((x) => x.steps.length === 2 && x.steps[0] === first && x.steps[1] === step);
        if (match) return run(e, match.c);
      }
      if (typing && step === 'escape') {
        // Escape leaves the field (the page's own Escape handling ran first and would have prevented this).
        if (!candidates.some((x) => x.steps.length === 1 && x.steps[0] === 'escape')) {
          (target as HTMLElement).blur();
          return;
        }
      }
      if (!e.repeat && candidates.some((x) => x.steps.length === 2 && x.steps[0] === step)) {
        e.preventDefault();
        pending = step;
        pendingTimer = setTimeout(clearPending, SEQUENCE_MS);
        return;
      }
      const single = candidates.find((x) => x.steps.length === 1 && x.steps[0] === step);
      if (single) run(e, single.c);
    }

    window.addEventListener('keydown', onKeyDown);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      clearPending();
    };
  }, []);

  useEffect(() => {
    if (!notice || notice.text === 'Signing out…') return;
    const t = setTimeout(() => setNotice(null), notice.error ? 8000 : 3000);
    return () => clearTimeout(t);
  }, [notice]);

  const runFromLayer = (c: Command) => {
    close();
    // The command runs once focus is back where it was (it may move focus itself).
    requestAnimationFrame(() => requestAnimationFrame(() => c.run()));
  };

  return (
    <>
      <div className="keys-hint">
        <button type="button" className="keys-hint-button" onClick={() => open('palette')} aria-keyshortcuts={ariaShortcut('mod+k')}>
          <span>Commands</span>
          <Keys shortcut="mod+k" />
        </button>
        <button type="button" className="keys-hint-button keys-hint-help" onClick={() => open('help')} aria-label="Keyboard shortcuts" aria-keyshortcuts="?">
          <kbd aria-hidden="true">?</kbd>
        </button>
      </div>
      {layer === 'palette' && <CommandPalette commands={commands} onClose={close} onRun={runFromLayer} />}
      {layer === 'help' && <ShortcutsHelp commands={commands} onClose={close} onOpenPalette={() => open('palette')} />}
      <div className={notice ? `keys-notice${notice.error ? ' error' : ''}` : 'keys-notice hidden'} role={notice?.error ? 'alert' : 'status'}>
        {notice?.text ?? ''}
      </div>
    </>
  );
}

/** The aria-keyshortcuts value of a shortcut ("mod+k" → "Control+K" or "Meta+K"). */
function ariaShortcut(shortcut: string): string {
  return parseShortcut(shortcut)
    .map((step) =>
      step
        .split('+')
        .map((p) => (p === 'mod' ? (isMac ? 'Meta' : 'Control') : p === 'ctrl' ? 'Control' : p === 'alt' ? 'Alt' : p === 'shift' ? 'Shift' : p.length === 1 ? p.toUpperCase() : p[0]!.toUpperCase() + p.slice(1)))
        .join('+'),
    )
    .join(' ');
}

/** A shortcut on key caps: Ctrl K, or G then I. Read out once by the text beside it. */
export function Keys({ shortcut }: { shortcut: string }) {
  const steps = shortcutKeys(shortcut);
  return (
    <span className="keys">
      <span className="keys-caps" aria-hidden="true">
        {steps.map((keys, i) => (
          <span key={i} className="keys-step">
            {i > 0 && <span className="keys-then">then</span>}
            {keys.map((k, j) => (
              <kbd key={j}>{k}</kbd>
            ))}
          </span>
        ))}
      </span>
      <span className="sr-only">{spokenShortcut(shortcut)}</span>
    </span>
  );
}

function trapTab(e: React.KeyboardEvent<HTMLElement>) {
  if (e.key !== 'Tab') return;
  const focusables = [...e.currentTarget.querySelectorAll<HTMLElement>('button:not(:disabled), input:not(:disabled), a[href], [tabindex="0"]')];
  if (focusables.length === 0) return e.preventDefault();
  const first = focusables[0]!;
  const last = focusables[focusables.length - 1]!;
  if (e.shiftKey && document.activeElement === first) (e.preventDefault(), last.focus());
  else if (!e.shiftKey && document.activeElement === last) (e.preventDefault(), first.focus());
}

function CommandPalette({ commands, onClose, onRun }: { commands: Command[]; onClose: () => void; onRun: (c: Command) => void }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const id = useId();
  const listId = `${id}-list`;
  const optionId = (i: number) => `${id}-option-${i}`;
  const groups = useMemo(() => rank(commands, query), [commands, query]);
  const flat = useMemo(() => groups.flatMap((g) => g.items), [groups]);
  const activeIndex = flat.length ? Math.min(active, flat.length - 1) : -1;
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => inputRef.current?.focus(), []);
  useEffect(() => setActive(0), [query]);
  useEffect(() => {
    if (activeIndex >= 0) document.getElementById(optionId(activeIndex))?.scrollIntoView({ block: 'nearest' });
  }, [activeIndex]);

  function onKeyDown(e: React.KeyboardEvent<HTMLInputElement>) {
    const n = flat.length;
    if (e.key === 'ArrowDown' || (e.ctrlKey && e.key === 'n')) {
      e.preventDefault();
      if (n) setActive((activeIndex + 1) % n);
    } else if (e.key === 'ArrowUp' || (e.ctrlKey && e.key === 'p')) {
      e.preventDefault();
      if (n) setActive((activeIndex - 1 + n) % n);
    } else if (e.key === 'PageDown') {
      e.preventDefault();
      if (n) setActive(Math.min(n - 1, activeIndex + 8));
    } else if (e.key === 'PageUp') {
      e.preventDefault();
      if (n) setActive(Math.max(0, activeIndex - 8));
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const c = flat[activeIndex];
      if (c) onRun(c);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      onClose();
    }
  }

  let index = -1;
  return (
    <div className="keys-overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="palette" role="dialog" aria-modal="true" aria-label="Command palette" onKeyDown={trapTab}>
        <div className="palette-search">
          <svg className="palette-icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
            <circle cx="8.5" cy="8.5" r="5.5" />
            <path d="M13 13l4 4" />
          </svg>
          <input
            ref={inputRef}
            type="text"
            role="combobox"
            aria-label="Search commands"
            aria-expanded="true"
            aria-controls={listId}
            aria-autocomplete="list"
            aria-activedescendant={activeIndex >= 0 ? optionId(activeIndex) : undefined}
            placeholder="Type a command or search…"
            autoComplete="off"
            spellCheck={false}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={onKeyDown}
          />
          <kbd className="palette-esc" aria-hidden="true">
            Esc
          </kbd>
        </div>
        <div className="palette-results">
          <div id={listId} role="listbox" aria-label="Commands" className="palette-list">
            {groups.map((g) => (
              <div key={g.group} role="group" aria-label={g.group} className="palette-group">
                <div className="palette-group-title" aria-hidden="true">
                  {g.group}
                </div>
                {g.items.map((c) => {
                  const i = ++index;
                  return (
                    <div
                      key={c.id}
                      id={optionId(i)}
                      role="option"
                      aria-selected={i === activeIndex}
                      className="palette-option"
                      onMouseMove={() => i !== activeIndex && setActive(i)}
                      onMouseDown={(e) => e.preventDefault()}
                      onClick={() => onRun(c)}
                    >
                      <span className="palette-title">{c.title}</span>
                      {c.shortcut && <Keys shortcut={c.shortcut} />}
                    </div>
                  );
                })}
              </div>
            ))}
          </div>
          {flat.length === 0 && (
            <p className="palette-empty" role="status">
              No command matches “{query}”.
            </p>
          )}
        </div>
        <div className="palette-footer muted" aria-hidden="true">
          <span>
            <kbd>↑</kbd>
            <kbd>↓</kbd> move
          </span>
          <span>
            <kbd>Enter</kbd> run
          </span>
          <span>
            <kbd>Esc</kbd> close
          </span>
        </div>
      </div>
    </div>
  );
}

function ShortcutsHelp({ commands, onClose, onOpenPalette }: { commands: Command[]; onClose: () => void; onOpenPalette: () => void }) {
  const titleId = useId();
  const closeRef = useRef<HTMLButtonElement>(null);
  const groups = useMemo(() => rank(commands.filter((c) => c.shortcut), ''), [commands]);
  useEffect(() => closeRef.current?.focus(), []);

  return (
    <div className="keys-overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="shortcuts"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={(e) => {
          if (e.key === 'Escape') (e.preventDefault(), onClose());
          else trapTab(e);
        }}
      >
        <div className="shortcuts-head">
          <h2 id={titleId}>Keyboard shortcuts</h2>
          <button ref={closeRef} type="button" className="button" onClick={onClose}>
            Close
          </button>
        </div>
        <div className="shortcuts-body">
          {groups.map((g) => (
            <section key={g.group} className="shortcuts-group" aria-label={g.group}>
              <h3>{g.group}</h3>
              <dl>
                {g.items.map((c) => (
                  <div key={c.id} className="shortcuts-row">
                    <dt>{c.title}</dt>
                    <dd>
                      <Keys shortcut={c.shortcut!} />
                    </dd>
                  </div>
                ))}
              </dl>
            </section>
          ))}
        </div>
        <p className="shortcuts-foot muted">
          Shortcuts do not fire while you type in a field (press <kbd>Esc</kbd> to leave it).{' '}
          <button type="button" className="link-button" onClick={onOpenPalette}>
            Open the command palette
          </button>{' '}
          to find every command.
        </p>
      </div>
    </div>
  );
}
