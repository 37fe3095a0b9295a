import { useCallback, useEffect, useRef, useState } from 'react';
import { initials, type CableUser } from './model.js';

/** Collision detection: the other agents who have this conversation open, and who of them is writing. */

const EXPIRE_MS = 45_000;

export type Viewer = { id: number; name: string; viewing: boolean; typing: false | 'reply' | 'note'; seenAt: number };

export function useViewers(meId: number) {
  const [map, setMap] = useState<Map<number, Viewer>>(new Map());
  const update = useCallback(
    (user: Pick<CableUser, 'id' | 'name' | 'available_name'>, f: (v: Viewer) => Viewer | null) => {
      if (user.id === meId) return;
      setMap((m) => {
        const next = new Map(m);
        const cur = next.get(user.id) ?? { id: user.id, name: user.available_name || user.name, viewing: false, typing: false, seenAt: Date.now() };
        const v = f({ ...cur, name: user.available_name || user.name || cur.name, seenAt: Date.now() });
        if (v && (v.viewing || v.typing)) next.set(user.id, v);
        else next.delete(user.id);
        return next;
      });
    },
    [meId],
  );

  // Viewers who stopped refreshing are gone.
  useEffect(() => {
    const t = setInterval(() => {
      setMap((m) => {
        const cut = Date.now() - EXPIRE_MS;
        if (![...m.values()].some((v) => v.seenAt < cut)) return m;
        return new Map([...m].filter(([, v]) => v.seenAt >= cut));
      });
    }, 5000);
    return () => clearInterval(t);
  }, []);

  const ref = useRef({ update });
  ref.current.update = update;
  return {
    list: [...map.values()].sort((a, b) => a.name.localeCompare(b.name)),
    viewing: (user: CableUser, viewing: boolean, typing?: boolean) =>
      update(user, (v) => (viewing ? { ...v, viewing: true, typing: typing === undefined ? v.typing : typing ? v.typing || 'reply' : false } : null)),
    typing: (user: CableUser, on: boolean, isPrivate: boolean) => update(user, (v) => ({ ...v, viewing: true, typing: on ? (isPrivate ? 'note' : 'reply') : false })),
  };
}

export function Viewers({ list }: { list: Viewer[] }) {
  return (
    <div className="cv-viewers" data-testid="viewers" aria-live="polite" hidden={!list.length}>
      {list.map((v) => (
        <span key={v.id} className={`cv-viewer ${v.typing ? 'typing' : ''}`} data-user-id={v.id}>
          <span className="cv-viewer-avatar" aria-hidden="true">
            {initials(v.name)}
          </span>
          {v.typing === 'reply' ? `${v.name} is typing a reply` : v.typing === 'note' ? `${v.name} is writing a private note` : `${v.name} is also viewing`}
        </span>
      ))}
    </div>
  );
}
