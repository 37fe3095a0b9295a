import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { dayKey, dayLabel, fullDateTime, MESSAGE_TYPE, timeOf, type Delivery, type Msg } from './model.js';
import type { MessagesState } from './messages.js';

const TOP_HEIGHT = 48;
/** Older messages load when the scroll is this close to the top (px). */
const NEAR_TOP = 400;

type Row = { key: string; kind: 'day'; at: number } | { key: string; kind: 'msg'; msg: Msg };

/**
 * The messages, virtualised (only the rows on screen are in the DOM, each measured): opens at the
 * newest, follows new messages while at the bottom (a "New messages" pill otherwise), and loads
 * older pages when the top comes into view, keeping what is on screen in place.
 */
export function MessageList({
  state,
  contactName,
  onLoadOlder,
  onRetry,
  followSignal,
}: {
  state: MessagesState;
  contactName: string;
  onLoadOlder: () => void;
  onRetry: (id: number) => void;
  /** Changes when the view wants the newest message in sight (e.g. the agent just sent). */
  followSignal: number;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const { list, hasOlder, loadingOlder, olderError, retrying } = state;

  const rows = useMemo(() => {
    const out: Row[] = [];
    let day = '';
    for (const m of list) {
      const k = dayKey(m.createdAt);
      if (k !== day) {
        day = k;
        out.push({ key: `day-${k}`, kind: 'day', at: m.createdAt });
      }
      out.push({ key: m.id < 0 ? `pending-${m.echoId}` : `m-${m.id}`, kind: 'msg', msg: m });
    }
    return out;
  }, [list]);

  const v = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => (rows[i]?.kind === 'msg' ? 64 : 40),
    getItemKey: (i) => rows[i]?.key ?? i,
    overscan: 6,
    // The "Loading earlier messages" line sits in this padding, outside the rows.
    paddingStart: TOP_HEIGHT,
  });

  /*
   * Scroll position, kept by hand: while at the bottom the list stays at the bottom (new messages,
   * rows measured taller than estimated); otherwise the first row on screen is the anchor, and when
   * older rows are prepended the scroll moves by exactly what was added above it.
   */
  // A row above the top of the screen measured at a new height moves the scroll by as much (judged
  // by the element's real scrollTop: the virtualizer's own lags a frame behind a programmatic scroll).
  v.shouldAdjustScrollPositionOnItemSizeChange = (item) => !stick.current && item.start < (scrollRef.current?.scrollTop ?? 0);
  const stick = useRef(true);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const anchor = useRef<{ key: string; top: number } | null>(null);
  const firstKey = useRef<string | null>(null);
  const captureAnchor = () => {
    const el = scrollRef.current;
    let item = el ? v.getVirtualItemForOffset(el.scrollTop) : undefined;
    // A day separator's key survives a prepend within the same day: anchor to a message instead.
    if (item && rowsRef.current[item.index]?.kind === 'day') item = v.measurementsCache[item.index + 1] ?? item;
    anchor.current = item ? { key: String(item.key), top: item.start - el!.scrollTop } : null;
  };
  const toBottom = () => {
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  // 1. After the rows change: follow the bottom, or keep the anchor where it was.
  useLayoutEffect(() => {
    const el = scrollRef.current;
    const first = rows.find((r) => r.kind === 'msg')?.key ?? null;
    const prepended = firstKey.current !== null && first !== firstKey.current;
    firstKey.current = first;
    if (!el || !rows.length) return;
    if (stick.current) return toBottom();
    const a = anchor.current;
    if (!prepended || !a) return;
    const idx = rows.findIndex((r) => r.key === a.key);
    // Fresh measurements: rows just rendered at the top were measured during this commit.
    const at = idx >= 0 ? v.getOffsetForIndex(idx, 'start') : undefined;
    if (at) el.scrollTop = at[0] - a.top;
    // Then from the DOM itself, once the rows around it are rendered and measured: put the anchor
    // exactly back where it was on screen.
    let frames = 0;
    const settle = () => {
      const row = el.querySelector<HTMLElement>(`.cv-row[data-key="${CSS.escape(a.key)}"]`);
      if (row && !stick.current) {
        const off = row.getBoundingClientRect().top - el.getBoundingClientRect().top - a.top;
        if (Math.abs(off) >= 1) el.scrollTop += off;
      }
      if (++frames < 3) requestAnimationFrame(settle);
    };
    requestAnimationFrame(settle);
  }, [rows, v]);

  // 2. Rows measured: at the bottom, stay there.
  const total = v.getTotalSize();
  useLayoutEffect(() => {
    if (stick.current) toBottom();
  }, [total]);

  // 3. After every render, remember the row on screen for the next change.
  useLayoutEffect(() => captureAnchor());

  // Open at the newest message.
  const opened = useRef(false);
  useLayoutEffect(() => {
    if (opened.current || !list.length) return;
    opened.current = true;
    toBottom();
  }, [list.length]);

  // Older messages when the top is near (read from the element: the virtualizer hears of a scroll a frame later).
  const items = v.getVirtualItems();
  const older = useRef({ hasOlder, loadingOlder, olderError, onLoadOlder });
  older.current = { hasOlder, loadingOlder, olderError, onLoadOlder };
  const maybeLoadOlder = () => {
    const el = scrollRef.current;
    const o = older.current;
    if (el && opened.current && o.hasOlder && !o.loadingOlder && !o.olderError && el.scrollTop < NEAR_TOP) o.onLoadOlder();
  };
  useEffect(maybeLoadOlder, [hasOlder, loadingOlder, olderError, list.length]);

  // "New messages" when one arrives while the agent reads further up.
  const [unseen, setUnseen] = useState(false);
  const lastKey = useRef<string | null>(null);
  const atEnd = useRef(true);
  const [announce, setAnnounce] = useState('');
  useEffect(() => {
    const lastRow = rows[rows.length - 1];
    if (!lastRow) return;
    const last = lastRow.key;
    if (lastKey.current && last !== lastKey.current && !last.startsWith('pending-') && lastRow.kind === 'msg') {
      if (!atEnd.current) setUnseen(true);
      const m = lastRow.msg;
      if (m.messageType === MESSAGE_TYPE.incoming) setAnnounce(`New message from ${m.sender?.name || contactName}`);
    }
    lastKey.current = last;
  }, [rows, contactName]);

  useLayoutEffect(() => {
    if (!followSignal) return;
    stick.current = atEnd.current = true;
    toBottom();
    setUnseen(false);
  }, [followSignal]);

  const onScroll = () => {
    const el = scrollRef.current;
    if (!el) return;
    atEnd.current = stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    captureAnchor();
    maybeLoadOlder();
    if (atEnd.current) setUnseen(false);
  };

  return (
    <div className="cv-messages-wrap">
      <div
        ref={scrollRef}
        className="cv-messages"
        onScroll={onScroll}
        role="region"
        aria-label="Messages"
        tabIndex={0}
        data-testid="message-scroller"
        data-loaded={list.length}
      >
        <div className="cv-messages-inner" style={{ height: v.getTotalSize() }}>
          <div className="cv-top-slot">
            <TopRow hasOlder={hasOlder} loading={loadingOlder} error={olderError} onRetry={onLoadOlder} empty={!list.length} />
          </div>
          {items.map((it) => {
            const row = rows[it.index]!;
            return (
              <div key={it.key} data-index={it.index} data-key={row.key} ref={v.measureElement} className="cv-row" style={{ transform: `translateY(${it.start}px)` }}>
                {row.kind === 'day' ? (
                  <DaySeparator at={row.at} />
                ) : (
                  <MessageItem msg={row.msg} contactName={contactName} retrying={retrying.has(row.msg.id)} onRetry={onRetry} />
                )}
              </div>
            );
          })}
        </div>
      </div>
      <p className="sr-only" role="status">
        {announce}
      </p>
      {unseen && (
        <button type="button" className="cv-new-pill" onClick={() => ((stick.current = true), toBottom(), setUnseen(false))}>
          New messages ↓
        </button>
      )}
    </div>
  );
}

function TopRow({ hasOlder, loading, error, onRetry, empty }: { hasOlder: boolean; loading: boolean; error: string | null; onRetry: () => void; empty: boolean }) {
  if (error) {
    return (
      <div className="cv-top cv-top-error" role="alert">
        <span>Earlier messages could not be loaded: {error}</span>
        <button type="button" className="button" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  if (hasOlder || loading) return <div className="cv-top muted" role="status">Loading earlier messages…</div>;
  return <div className="cv-top muted">{empty ? 'No messages yet.' : 'Start of the conversation'}</div>;
}

function DaySeparator({ at }: { at: number }) {
  return (
    <div className="cv-day" role="separator" aria-label={dayLabel(at)}>
      <span>{dayLabel(at)}</span>
    </div>
  );
}

const STATUS_TEXT: Record<string, string> = { sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Failed', progress: 'Sending…' };

const MessageItem = memo(function MessageItem({ msg, contactName, retrying, onRetry }: { msg: Msg; contactName: string; retrying: boolean; onRetry: (id: number) => void }) {
  const status = msg.id < 0 || retrying ? 'progress' : msg.status;
  const common = { 'data-testid': 'message', 'data-message-id': msg.id, 'data-status': status, ...(msg.private ? { 'data-private': 'true' } : {}) };
  if (msg.messageType === MESSAGE_TYPE.activity) {
    return (
      <div className="cv-activity" {...common}>
        <span>{msg.content}</span>
        <time dateTime={new Date(msg.createdAt * 1000).toISOString()} title={fullDateTime(msg.createdAt)}>
          {timeOf(msg.createdAt)}
        </time>
      </div>
    );
  }
  const incoming = msg.messageType === MESSAGE_TYPE.incoming;
  const name = msg.sender?.name || (incoming ? contactName : msg.sender?.type === 'bot' ? 'Bot' : 'Agent');
  const cls = ['cv-msg', incoming ? 'in' : 'out', msg.private ? 'note' : '', status === 'failed' ? 'failed' : ''].filter(Boolean).join(' ');
  return (
    <article className={cls} {...common} aria-label={`${msg.private ? 'Private note' : 'Message'} from ${name}`}>
      <div className="cv-bubble">
        <header className="cv-meta">
          <span className="cv-sender">{name}</span>
          {msg.private && <span className="cv-note-label">Private note</span>}
          <time dateTime={new Date(msg.createdAt * 1000).toISOString()} title={fullDateTime(msg.createdAt)}>
            {timeOf(msg.createdAt)}
          </time>
        </header>
        {msg.content && <p className="cv-text">{msg.content}</p>}
        {msg.attachments.length > 0 && (
          <ul className="cv-attachments" aria-label="Attachments">
            {msg.attachments.map((a) => (
              <li key={a.url}>
                <a href={a.url} target="_blank" rel="noopener noreferrer">
                  {a.name}
                </a>
              </li>
            ))}
          </ul>
        )}
        {!incoming && !msg.private &&
          (msg.delivery?.state === 'retrying' && status !== 'failed' && status !== 'progress' ? (
            <div className="cv-foot">
              <RetryingNote delivery={msg.delivery} />
              <Status status={status} />
            </div>
          ) : (
            <Status status={status} />
          ))}
        {msg.private && status === 'progress' && <Status status={status} />}
      </div>
      {status === 'failed' && (
        <div className="cv-failed" role="alert">
          <span>
            Not delivered{msg.delivery?.state === 'failed' && msg.delivery.attempts > 1 ? ` after ${msg.delivery.attempts} attempts` : ''}
            {msg.error ? `: ${msg.error}` : '.'}
          </span>
          <button type="button" className="button" onClick={() => onRetry(msg.id)}>
            Retry
          </button>
        </div>
      )}
    </article>
  );
});

function Status({ status }: { status: string }) {
  const text = STATUS_TEXT[status] ?? status;
  const mark = status === 'sent' ? '✓' : status === 'delivered' || status === 'read' ? '✓✓' : status === 'failed' ? '!' : '…';
  return (
    <span className={`cv-status ${status}`} title={text}>
      <span aria-hidden="true">{mark}</span>
      <span className={status === 'progress' || status === 'failed' ? '' : 'sr-only'}>{status === 'progress' ? ' Sending…' : status === 'failed' ? ' Failed' : text}</span>
    </span>
  );
}

/** "in 40 s", "in 5 min", "in 3 h", "in 2 days" (rounded up: never sooner than it is). */
function inWords(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.ceil(seconds / 3600)} h`;
  return `${Math.ceil(seconds / 86400)} days`;
}

/**
 * The callback of an outgoing message failed and is retried: which attempt failed, when the next
 * one is, and why (the receiver's answer). Counts down on its own; the next message.updated
 * replaces it.
 */
function RetryingNote({ delivery }: { delivery: Delivery }) {
  const at = delivery.nextAttemptAt;
  const [now, setNow] = useState(() => Date.now());
  const left = at === null ? 0 : at - now / 1000;
  const tick = left > 0 && left < 90 ? 1000 : 20_000;
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), tick);
    return () => window.clearInterval(t);
  }, [tick]);
  const when = at === null || left <= 0 ? 'retrying now' : `next in ${inWords(left)}`;
  return (
    <span className="cv-delivery" data-testid="delivery-retrying" title={at === null ? undefined : `Next attempt ${fullDateTime(at)}`}>
      <span aria-hidden="true">↻ </span>
      Retrying delivery (attempt {delivery.attempts}, {when}){delivery.lastError ? `: ${delivery.lastError}` : ''}
    </span>
  );
}
