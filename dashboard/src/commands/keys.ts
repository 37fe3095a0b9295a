/**
 * Shortcut strings as commands declare them ("j", "?", "shift+e", "mod+k", "mod+enter", "g i") and
 * keyboard events, both reduced to one canonical form per step: modifiers in a fixed order, then
 * the key, e.g. "mod+shift+e". `mod` is ⌘ on macOS and Ctrl elsewhere.
 */

export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad|iPod/.test(navigator.platform || navigator.userAgent);

const MODIFIERS = ['mod', 'ctrl', 'alt', 'shift'] as const;
type Modifier = (typeof MODIFIERS)[number];

const ALIASES: Record<string, string> = {
  esc: 'escape',
  return: 'enter',
  ' ': 'space',
  up: 'arrowup',
  down: 'arrowdown',
  left: 'arrowleft',
  right: 'arrowright',
  del: 'delete',
  cmd: 'mod',
  command: 'mod',
  meta: 'mod',
  control: 'ctrl',
  option: 'alt',
};

function canonicalStep(mods: Set<string>, key: string): string {
  const ordered = MODIFIERS.filter((m) => mods.has(m));
  return [...ordered, key].join('+');
}

/** A declared shortcut as its steps: "g i" → ["g", "i"], "mod+K" → ["mod+k"]. */
export function parseShortcut(shortcut: string): string[] {
  return shortcut
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((step) => {
      // "shift++" and "+" name the plus key itself.
      const parts = step === '+' ? ['+'] : step.endsWith('++') ? [...step.slice(0, -2).split('+'), '+'] : step.split('+');
      const key = parts.pop()!.toLowerCase();
      const mods = new Set(parts.map((p) => ALIASES[p.toLowerCase()] ?? p.toLowerCase()));
      // On macOS a written "ctrl" means the Control key; elsewhere it is the same key as mod.
      if (!isMac && mods.delete('ctrl')) mods.add('mod');
      return canonicalStep(mods, ALIASES[key] ?? key);
    });
}

/** The canonical step of a keydown, or null for a lone modifier key. */
export function eventStep(e: KeyboardEvent): string | null {
  if (e.key === 'Shift' || e.key === 'Control' || e.key === 'Alt' || e.key === 'Meta' || e.key === 'AltGraph' || e.key === 'CapsLock') return null;
  let key = e.key.length === 1 ? e.key.toLowerCase() : e.key.toLowerCase();
  // Alt (Option on macOS) changes the character typed: take the letter or digit from the physical key.
  if (e.altKey || (e.ctrlKey && key.length === 1 && !/[a-z0-9]/.test(key))) {
    const m = /^(?:Key([A-Z])|Digit(\d))$/.exec(e.code);
    if (m) key = (m[1] ?? m[2]!).toLowerCase();
  }
  key = ALIASES[key] ?? key;
  const mods = new Set<Modifier | 'meta'>();
  if (isMac ? e.metaKey : e.ctrlKey) mods.add('mod');
  if (isMac && e.ctrlKey) mods.add('ctrl');
  if (!isMac && e.metaKey) mods.add('meta');
  if (e.altKey) mods.add('alt');
  // A printed symbol already says whether Shift was held ("?" is shift+/): only letters and named keys keep it.
  if (e.shiftKey && (key.length > 1 || /[a-z]/.test(key))) mods.add('shift');
  if (mods.has('meta')) return `meta+${canonicalStep(mods, key)}`;
  return canonicalStep(mods, key);
}

const LABELS: Record<string, string> = {
  mod: isMac ? '⌘' : 'Ctrl',
  ctrl: isMac ? '⌃' : 'Ctrl',
  alt: isMac ? '⌥' : 'Alt',
  shift: isMac ? '⇧' : 'Shift',
  enter: 'Enter',
  escape: 'Esc',
  space: 'Space',
  arrowup: '↑',
  arrowdown: '↓',
  arrowleft: '←',
  arrowright: '→',
  backspace: 'Backspace',
  delete: 'Delete',
  tab: 'Tab',
  pageup: 'Page Up',
  pagedown: 'Page Down',
  home: 'Home',
  end: 'End',
};

const SPOKEN: Record<string, string> = { mod: isMac ? 'Command' : 'Control', ctrl: 'Control', alt: isMac ? 'Option' : 'Alt', shift: 'Shift', escape: 'Escape', arrowup: 'Up arrow', arrowdown: 'Down arrow', arrowleft: 'Left arrow', arrowright: 'Right arrow', '?': 'question mark', '/': 'slash' };

/** The keys of each step as shown on <kbd> caps: "mod+k" → [["Ctrl", "K"]], "g i" → [["G"], ["I"]]. */
export function shortcutKeys(shortcut: string): string[][] {
  return parseShortcut(shortcut).map((step) => {
    const parts = step === '+' ? ['+'] : step.endsWith('++') ? [...step.slice(0, -2).split('+'), '+'] : step.split('+');
    return parts.map((p) => LABELS[p] ?? (p.length === 1 ? p.toUpperCase() : p[0]!.toUpperCase() + p.slice(1)));
  });
}

/** A shortcut read out: "mod+k" → "Control K", "g i" → "G then I". */
export function spokenShortcut(shortcut: string): string {
  return parseShortcut(shortcut)
    .map((step) =>
      step
        .split('+')
        .map((p) => SPOKEN[p] ?? (p.length === 1 ? p.toUpperCase() : p))
        .join(' '),
    )
    .join(' then ');
}

/** Whether focus is somewhere typing goes: an input, textarea, select or editable content. */
export function isTypingTarget(el: Element | null): boolean {
  if (!el || !(el instanceof HTMLElement)) return false;
  if (el.isContentEditable) return true;
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  if (el instanceof HTMLInputElement) {
    const nonText = ['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image'];
    return !nonText.includes(el.type);
  }
  return el.getAttribute('role') === 'textbox' || el.getAttribute('role') === 'combobox';
}
