import { memo, useContext } from 'react';
import { isHexColor, LabelColors } from '../catalog.js';
import { exactTime, initials, relativeTime, type Item } from './model.js';

/** Every row has this height (px): the list is virtualised by index, and the skeleton matches it. */
export const ROW_HEIGHT = 86;

type RowProps = {
  item: Item;
  index: number;
  total: number;
  top: number;
  href: string;
  inboxName: string;
  active: boolean;
  selected: boolean;
  myId: number;
  /** The clock, in minutes: rows re-render once a minute for their relative times. */
  now: number;
  onSelect: (id: number, selected: boolean) => void;
  onOpen: (e: React.MouseEvent<HTMLAnchorElement>) => void;
};

function PreviewText({ item, myId }: { item: Item; myId: number }) {
  const p = item.preview;
  if (!p) {
    return (
      <span className="cx-preview muted" data-testid="conversation-preview">
        No messages yet
      </span>
    );
  }
  const who = p.outgoing && !p.private ? (p.senderId === myId ? 'You' : p.senderName) : null;
  const text = p.text || (p.attachments ? (p.attachments === 1 ? 'Attachment' : `${p.attachments} attachments`) : 'Empty message');
  return (
    <span className="cx-preview-line">
      {p.private && <span className="cx-note-tag">Private note:</span>}
      {who && <span className="cx-who">{who}:</span>}
      <span className={`cx-preview${p.text ? '' : ' cx-preview-empty'}`} data-testid="conversation-preview">
        {text}
      </span>
    </span>
  );
}

const PRIORITY_LABEL: Record<string, string> = { urgent: 'Urgent', high: 'High', medium: 'Medium', low: 'Low' };

export const ConversationRow = memo(function ConversationRow({ item, index, total, top, href, inboxName, active, selected, myId, now, onSelect, onOpen }: RowProps) {
  const colors = useContext(LabelColors);
  const unread = active ? 0 : item.unread;
  const checkId = `cx-check-${item.id}`;
  return (
    <li
      className={`cx-row${active ? ' is-active' : ''}${selected ? ' is-selected' : ''}${unread ? ' is-unread' : ''}`}
      data-testid="conversation-item"
      data-conversation-id={item.id}
      data-index={index}
      aria-setsize={total}
      aria-posinset={index + 1}
      style={{ transform: `translateY(${top}px)`, height: ROW_HEIGHT }}
    >
      <input id={checkId} type="checkbox" className="cx-check" checked={selected} onChange={(e) => onSelect(item.id, e.target.checked)} aria-label={`Select conversation with ${item.contactName}`} />
      <a className="cx-row-link" href={href} onClick={onOpen} aria-current={active ? 'page' : undefined} data-row-link={item.id}>
        <span className="cx-avatar" aria-hidden="true">
          {initials(item.contactName)}
        </span>
        <span className="cx-row-main">
          <span className="cx-row-top">
            <span className="cx-name">{item.contactName}</span>
            {item.priority && PRIORITY_LABEL[item.priority] && (
              <span className={`cx-priority cx-priority-${item.priority}`} title={`Priority: ${PRIORITY_LABEL[item.priority]}`}>
                <span className="sr-only">Priority: </span>
                {PRIORITY_LABEL[item.priority]}
              </span>
            )}
            <time className="cx-time" dateTime={new Date(item.lastActivityAt * 1000).toISOString()} title={exactTime(item.lastActivityAt)}>
              {relativeTime(item.lastActivityAt, Math.max(Date.now(), now * 60_000))}
            </time>
          </span>
          <span className="cx-row-mid">
            <PreviewText item={item} myId={myId} />
            {unread > 0 && (
              <span className="cx-unread" data-testid="unread-badge" title={`${unread} unread`}>
                <span aria-hidden="true">{unread > 99 ? '99+' : unread}</span>
                <span className="sr-only">{unread} unread</span>
              </span>
            )}
          </span>
          <span className="cx-row-meta">
            <span className="cx-inbox">{inboxName}</span>
            {item.status !== 'open' && <span className="cx-status">{item.status}</span>}
            {item.labels.slice(0, 2).map((l) => {
              const color = colors.get(l.toLowerCase());
              return (
                <span className="cx-label" key={l}>
                  {color && isHexColor(color) && <span className="cx-label-dot small" style={{ background: color }} aria-hidden="true" />}
                  {l}
                </span>
              );
            })}
            {item.labels.length > 2 && (
              <span className="cx-label cx-label-more" title={item.labels.slice(2).join(', ')}>
                +{item.labels.length - 2}
              </span>
            )}
            {item.assignee && (
              <span className="cx-assignee" title={`Assigned to ${item.assignee.name}`}>
                <span aria-hidden="true">{initials(item.assignee.name)}</span>
                <span className="sr-only">Assigned to {item.assignee.name}</span>
              </span>
            )}
          </span>
        </span>
      </a>
    </li>
  );
});

/** Placeholder rows of the real height while the first page loads. */
export function SkeletonRows({ count = 8 }: { count?: number }) {
  return (
    <ul className="cx-skeleton" aria-hidden="true">
      {Array.from({ length: count }, (_, i) => (
        <li key={i} style={{ height: ROW_HEIGHT }}>
          <span className="cx-sk-avatar" />
          <span className="cx-sk-lines">
            <span style={{ width: `${50 + ((i * 17) % 30)}%` }} />
            <span style={{ width: `${70 + ((i * 11) % 25)}%` }} />
            <span style={{ width: '35%' }} />
          </span>
        </li>
      ))}
    </ul>
  );
}
