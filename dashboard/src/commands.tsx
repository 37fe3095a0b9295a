import { createContext, useContext, useEffect, useRef, useState } from 'react';

/**
 * Every dashboard action is a command: pages register the ones that apply to what they show
 * (`useCommands`), the command palette (Ctrl/Cmd+K) lists them, and a command with a `shortcut`
 * also runs from the keyboard. `?` lists every shortcut.
 */
export type Command = {
  /** Stable id, e.g. `conversation.resolve`. */
  id: string;
  title: string;
  /** Palette section: "Conversation", "Navigation", … */
  group: string;
  /** A key sequence as shown and matched: "j", "shift+r", "mod+enter", "g i" (g then i). `mod` is Ctrl, or ⌘ on macOS. */
  shortcut?: string;
  /** Extra words the palette search matches. */
  keywords?: string;
  /** Shortcut also fires while typing in an input/textarea (e.g. mod+enter). */
  allowInInput?: boolean;
  run: () => void;
};

type Registry = {
  register(owner: symbol, commands: Command[]): void;
  unregister(owner: symbol): void;
  /** Every registered command, latest registration first for a duplicate id. */
  list(): Command[];
  subscribe(listener: () => void): () => void;
};

function createRegistry(): Registry {
  const byOwner = new Map<symbol, Command[]>();
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((l) => l());
  return {
    register(owner, commands) {
      byOwner.set(owner, commands);
      changed();
    },
    unregister(owner) {
      byOwner.delete(owner);
      changed();
    },
    list() {
      const seen = new Set<string>();
      const out: Command[] = [];
      for (const cmds of [...byOwner.values()].reverse())
        for (const c of cmds) if (!seen.has(c.id)) (seen.add(c.id), out.push(c));
      return out;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

const CommandsContext = createContext<Registry | null>(null);

export function CommandsProvider({ children }: { children: React.ReactNode }) {
  const [registry] = useState(createRegistry);
  return <CommandsContext.Provider value={registry}>{children}</CommandsContext.Provider>;
}

function useRegistry(): Registry {
  const r = useContext(CommandsContext);
  if (!r) throw new Error('commands outside CommandsProvider');
  return r;
}

/**
 * Registers `commands` while the component is mounted. The list may be rebuilt every render; the
 * registry is updated only when ids/titles/shortcuts change, and `run` always calls the latest closure.
 */
export function useCommands(commands: Command[]) {
  const registry = useRegistry();
  const [owner] = useState(() => Symbol('commands'));
  const latest = useRef(commands);
  latest.current = commands;
  const key = commands.map((c) => `${c.id}|${c.title}|${c.shortcut ?? ''}|${c.group}`).join('\n');
  useEffect(() => {
    registry.register(
      owner,
      latest.current.map((c) => ({ ...c, run: () => latest.current.find((x) => x.id === c.id)?.run() })),
    );
  }, [registry, owner, key]);
  useEffect(() => () => registry.unregister(owner), [registry, owner]);
}

/** The current command list, re-rendered when it changes. */
export function useCommandList(): Command[] {
  const registry = useRegistry();
  const [list, setList] = useState(() => registry.list());
  useEffect(() => {
    setList(registry.list());
    return registry.subscribe(() => setList(registry.list()));
  }, [registry]);
  return list;
}
