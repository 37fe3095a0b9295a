import { forwardRef, useCallback, useEffect, useImperativeHandle, useLayoutEffect, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { navigate } from '../router.js';
import { ConversationRow, ROW_HEIGHT } from './ConversationRow.js';
import type { Item } from './model.js';

/**
 * The rows of the view, virtualised (only what is on screen and a few more are in the DOM, so a
 * thousand loaded conversations scroll as fast as ten). Live changes above the first visible row keep
 * what the agent is looking at in place; at the top, new rows appear at the top. The next page loads
 * when the end comes near. Arrow keys move between rows.
 */

export type ListHandle = {
  /** Scrolls row `index` into view and focuses its link. */
  focusIndex(index: number): void;
  /** The index of the row holding the focus, or -1. */
  focusedIndex(): number;
};

type Props = {
  items: Item[];
  openId: number | null;
  selected: ReadonlySet<number>;
  inboxNames: ReadonlyMap<number, string>;
  hrefOf: (id: number) => string;
  myId: number;
  now: number;
  hasMore: boolean;
  onSelect: (id: number, selected: boolean) => void;
  onNearEnd: () => void;
  footer: React.ReactNode;
  labelledBy: string;
  id: string;
};

export const ConversationList = forwardRef<ListHandle, Props>(function ConversationList(
  { items, openId, selected, inboxNames, hrefOf, myId, now, hasMore, onSelect, onNearEnd, footer, labelledBy, id },
  ref,
) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (i) => items[i]?.id ?? i,
    overscan: 6,
    initialRect: { width: 360, height: 720 },
  });

  // The first row on screen and how far it is scrolled past: restored after the rows change.
  const anchor = useRef<{ id: number; offset: number } | null>(null);
  const remember = useCallback(() => {
    const el = scrollRef.current;
    if (!el || el.scrollTop <= 0) return void (anchor.current = null);
    const i = Math.min(itemsRef.current.length - 1, Math.floor(el.scrollTop / ROW_HEIGHT));
    const it = itemsRef.current[i];
    anchor.current = it ? { id: it.id, offset: el.scrollTop - i * ROW_HEIGHT } : null;
  }, []);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const a = anchor.current;
    if (!el || !a) return;
    const i = items.findIndex((x) => x.id === a.id);
    if (i < 0) return remember();
    const top = i * ROW_HEIGHT + a.offset;
    if (Math.abs(el.scrollTop - top) >= 1) el.scrollTop = top;
  }, [items, remember]);

  const onScroll = () => {
    remember();
    const el = scrollRef.current;
    if (el && hasMore && el.scrollTop + el.clientHeight > el.scrollHeight - ROW_HEIGHT * 5) onNearEnd();
  };
  // A short first page (or a tall window) may show the end without any scrolling.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && hasMore && el.scrollHeight <= el.clientHeight + ROW_HEIGHT * 5) onNearEnd();
  }, [hasMore, items.length, onNearEnd]);

  const focusIndex = useCallback(
    (index: number) => {
      const it = itemsRef.current[index];
      if (!it) return;
      virtualizer.scrollToIndex(index, { align: 'auto' });
      let tries = 0;
      const focus = () => {
        const link = scrollRef.current?.querySelector<HTMLAnchorElement>(`[data-row-link="${it.id}"]`);
        if (link) link.focus({ preventScroll: true });
        else if (tries++ < 5) requestAnimationFrame(focus);
      };
      requestAnimationFrame(focus);
    },
    [virtualizer],
  );

  useImperativeHandle(
    ref,
    () => ({
      focusIndex,
      focusedIndex() {
        const row = (document.activeElement as HTMLElement | null)?.closest?.('[data-testid="conversation-item"]');
        if (!row || !scrollRef.current?.contains(row)) return -1;
        const cid = Number(row.getAttribute('data-conversation-id'));
        return itemsRef.current.findIndex((x) => x.id === cid);
      },
    }),
    [focusIndex],
  );

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (!(e.target instanceof HTMLAnchorElement) || e.altKey || e.ctrlKey || e.metaKey) return;
    const row = e.target.closest('[data-index]');
    const i = Number(row?.getAttribute('data-index') ?? -1);
    const to = e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowUp' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? items.length - 1 : null;
    if (to == null || i < 0) return;
    e.preventDefault();
    focusIndex(Math.max(0, Math.min(items.length - 1, to)));
  };

  const onOpen = useCallback((e: React.MouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(e.currentTarget.getAttribute('href') ?? '/');
  }, []);

  return (
    <div className="cx-scroll" ref={scrollRef} onScroll={onScroll} role="tabpanel" id={id} aria-labelledby={labelledBy}>
      <ul className="cx-list" data-testid="conversation-list" aria-label="Conversations" style={{ height: virtualizer.getTotalSize() }} onKeyDown={onKeyDown}>
        {virtualizer.getVirtualItems().map((v) => {
          const it = items[v.index]!;
          return (
            <ConversationRow
              key={it.id}
              item={it}
              index={v.index}
              total={items.length}
              top={v.start}
              href={hrefOf(it.id)}
              inboxName={inboxNames.get(it.inboxId) ?? `Inbox ${it.inboxId}`}
              active={it.id === openId}
              selected={selected.has(it.id)}
              myId={myId}
              now={now}
              onSelect={onSelect}
              onOpen={onOpen}
            />
          );
        })}
      </ul>
      {footer}
    </div>
  );
});
