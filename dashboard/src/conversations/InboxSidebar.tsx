import { onLinkClick } from '../router.js';
import type { InboxCount, LabelCount } from './useConversationList.js';
import { isHexColor, type Label, type Team } from '../catalog.js';

export type InboxRef = { id: number; name: string; channelType: string };

type Props = {
  inboxes: InboxRef[] | null;
  error: string | null;
  onRetry: () => void;
  counts: ReadonlyMap<number, InboxCount> | null;
  current: number | null;
  hrefOf: (inboxId: number | null) => string;
  /** The account's labels shown in the sidebar (show_on_sidebar), their counts, the label filtered by. */
  labels?: Label[] | null;
  labelCounts?: ReadonlyMap<string, LabelCount> | null;
  currentLabel?: string | null;
  labelHref?: (title: string | null) => string;
  /** The account's teams and the team filtered by. */
  teams?: Team[] | null;
  currentTeam?: number | null;
  teamHref?: (teamId: number | null) => string;
};

function CountBadges({ c }: { c: InboxCount | undefined }) {
  if (!c) return null;
  return (
    <span className="cx-inbox-counts">
      {c.unread > 0 && (
        <span className="cx-unread" title={`${c.unread} open conversations with unread messages`}>
          <span aria-hidden="true">{c.unread > 99 ? '99+' : c.unread}</span>
          <span className="sr-only">, {c.unread} unread</span>
        </span>
      )}
      <span className="cx-open-count" title={`${c.open} open`}>
        <span aria-hidden="true">{c.open}</span>
        <span className="sr-only">, {c.open} open</span>
      </span>
    </span>
  );
}

/** The inbox sidebar: every inbox with its open and unread counts; at narrow widths a select (below). */
export function InboxSidebar({ inboxes, error, onRetry, counts, current, hrefOf, labels, labelCounts, currentLabel, labelHref, teams, currentTeam, teamHref }: Props) {
  const shown = (labels ?? []).filter((l) => l.show_on_sidebar).sort((a, b) => a.title.localeCompare(b.title));
  let total: InboxCount | undefined;
  if (counts) {
    total = { open: 0, unread: 0 };
    for (const c of counts.values()) (total.open += c.open), (total.unread += c.unread);
  }
  return (
    <nav className="cx-sidebar" aria-label="Inboxes and labels">
      <h2 className="cx-sidebar-title">Inboxes</h2>
      <ul>
        <li>
          <a href={hrefOf(null)} onClick={onLinkClick} aria-current={current == null ? 'page' : undefined}>
            <span className="cx-inbox-name">All inboxes</span>
            <CountBadges c={total} />
          </a>
        </li>
        {inboxes?.map((i) => (
          <li key={i.id}>
            <a href={hrefOf(i.id)} onClick={onLinkClick} aria-current={current === i.id ? 'page' : undefined} title={i.name}>
              <span className="cx-inbox-name">{i.name}</span>
              <CountBadges c={counts?.get(i.id)} />
            </a>
          </li>
        ))}
      </ul>
      {!inboxes && !error && <p className="muted cx-sidebar-note">Loading inboxes…</p>}
      {error && (
        <div className="cx-sidebar-note">
          <p role="alert" className="error">
            {error}
          </p>
          <button type="button" className="button" onClick={onRetry}>
            Try again
          </button>
        </div>
      )}
      {inboxes?.length === 0 && <p className="muted cx-sidebar-note">No inboxes yet.</p>}
      {labelHref && shown.length > 0 && (
        <>
          <h2 className="cx-sidebar-title cx-sidebar-labels" id="cx-labels-title">
            Labels
          </h2>
          <ul aria-labelledby="cx-labels-title" data-testid="sidebar-labels">
            {shown.map((l) => {
              const on = currentLabel?.toLowerCase() === l.title.toLowerCase();
              const n = labelCounts?.get(l.title.toLowerCase());
              return (
                <li key={l.id}>
                  <a href={labelHref(on ? null : l.title)} onClick={onLinkClick} aria-current={on ? 'page' : undefined} title={l.description || l.title} data-label={l.title}>
                    <span className="cx-label-dot" style={{ background: isHexColor(l.color) ? l.color : 'var(--muted)' }} aria-hidden="true" />
                    <span className="cx-inbox-name">{l.title}</span>
                    {n && (
                      <span className="cx-inbox-counts">
                        <span className="cx-open-count" title={`${n.open} open`}>
                          <span aria-hidden="true">{n.open}</span>
                          <span className="sr-only">, {n.open} open</span>
                        </span>
                      </span>
                    )}
                  </a>
                </li>
              );
            })}
          </ul>
        </>
      )}
      {teamHref && !!teams?.length && (
        <>
          <h2 className="cx-sidebar-title cx-sidebar-labels" id="cx-teams-title">
            Teams
          </h2>
          <ul aria-labelledby="cx-teams-title" data-testid="sidebar-teams">
            {teams.map((t) => {
              const on = currentTeam === t.id;
              return (
                <li key={t.id}>
                  <a href={teamHref(on ? null : t.id)} onClick={onLinkClick} aria-current={on ? 'page' : undefined} title={t.description || t.name}>
                    <span className="cx-inbox-name">{t.name}</span>
                  </a>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </nav>
  );
}

/** The same choice as a select, for narrow windows. */
export function InboxSelect({ inboxes, current, onChange }: { inboxes: InboxRef[] | null; current: number | null; onChange: (id: number | null) => void }) {
  return (
    <select className="cx-inbox-select" aria-label="Inbox" value={current ?? ''} onChange={(e) => onChange(e.target.value ? Number(e.target.value) : null)}>
      <option value="">All inboxes</option>
      {inboxes?.map((i) => (
        <option key={i.id} value={i.id}>
          {i.name}
        </option>
      ))}
      {current != null && !inboxes?.some((i) => i.id === current) && <option value={current}>Inbox {current}</option>}
    </select>
  );
}
