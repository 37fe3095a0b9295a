/**
 * The colour theme: the system setting by default, or light / dark chosen in the command palette.
 * The choice lives in this browser (localStorage) and is applied as `<html data-theme="…">`, which
 * commands.css maps onto the same CSS variables styles.css sets for each system theme.
 */
export type Theme = 'system' | 'light' | 'dark';

const KEY = 'channelx.theme';

export function storedTheme(): Theme {
  try {
    const t = window.localStorage.getItem(KEY);
    return t === 'light' || t === 'dark' ? t : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(theme: Theme) {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
}

export function setTheme(theme: Theme) {
  try {
    if (theme === 'system') window.localStorage.removeItem(KEY);
    else window.localStorage.setItem(KEY, theme);
  } catch {
    /* storage disabled: the choice lasts until the page is reloaded */
  }
  applyTheme(theme);
}

// Applied as soon as the bundle runs, before the first paint of the signed-in pages.
applyTheme(storedTheme());
