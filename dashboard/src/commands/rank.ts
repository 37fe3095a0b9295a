import type { Command } from '../commands.js';

/**
 * The palette's ranking: every query token must match a command's title or keywords (at a word
 * start, inside a word, or as a subsequence, best first); results grouped, the page's own groups first.
 */

/** Groups of the shell's own commands: listed after the commands of the page on screen. */
const GLOBAL_GROUPS = ['Navigation', 'Appearance', 'Account', 'Help'];

type Ranked = { command: Command; score: number; order: number };

const wordStart = (hay: string, t: string) => hay.startsWith(t) || hay.includes(` ${t}`) || hay.includes(`:${t}`);

function subsequence(hay: string, t: string): number | null {
  let i = 0;
  let gaps = 0;
  for (const ch of t) {
    const j = hay.indexOf(ch, i);
    if (j < 0) return null;
    if (j > i) gaps++;
    i = j + 1;
  }
  return gaps;
}

/** How well a command matches the query (higher is better), or null for no match: every word must match somewhere. */
function scoreOf(c: Command, tokens: string[]): number | null {
  const title = c.title.toLowerCase();
  const extra = `${c.keywords ?? ''} ${c.group}`.toLowerCase();
  let total = 0;
  for (const t of tokens) {
    let s: number;
    if (title.startsWith(t)) s = 100;
    else if (wordStart(title, t)) s = 80;
    else if (title.includes(t)) s = 60;
    else if (wordStart(extra, t)) s = 45;
    else if (extra.includes(t)) s = 30;
    else {
      const gaps = t.length > 1 ? subsequence(title, t) : null;
      if (gaps === null) return null;
      s = Math.max(1, 20 - gaps * 4);
    }
    total += s;
  }
  return total;
}

/** The palette's rows: matching commands, grouped; the groups in order of their best match. */
export function rank(commands: Command[], query: string): { group: string; items: Command[] }[] {
  const tokens = query.toLowerCase().split(/\s+/).filter(Boolean);
  const ranked: Ranked[] = [];
  commands.forEach((command, order) => {
    const score = tokens.length ? scoreOf(command, tokens) : 0;
    if (score !== null) ranked.push({ command, score, order });
  });
  if (tokens.length) ranked.sort((a, b) => b.score - a.score || a.order - b.order);
  else {
    // No query: the page's commands first, then the shell's, each group in a stable place.
    const g = (c: Command) => {
      const i = GLOBAL_GROUPS.indexOf(c.group);
      return i < 0 ? -1 : i;
    };
    ranked.sort((a, b) => g(a.command) - g(b.command) || a.order - b.order);
  }
  const groups = new Map<string, Command[]>();
  for (const r of ranked) {
    const list = groups.get(r.command.group) ?? [];
    list.push(r.command);
    groups.set(r.command.group, list);
  }
  return [...groups].map(([group, items]) => ({ group, items }));
}

/** Keeps Tab inside the dialog. */
