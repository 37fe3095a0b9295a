import { useId, useState } from 'react';
import { Popover } from './Menu.js';
import type { Label, Team } from '../catalog.js';
import { LabelDot, labelColors, LabelsPanel } from './LabelPicker.js';
import { fullDateTime, PRIORITIES, SNOOZE_PRESETS, STATUS_LABEL, type Agent, type Conversation } from './model.js';

export type MenuName = 'snooze' | 'assign' | 'team' | 'priority' | 'labels' | null;

export type HeaderActions = {
  setStatus: (status: 'open' | 'resolved' | 'snoozed', snoozedUntil?: number | null) => void;
  assign: (agentId: number | null) => void;
  assignTeam: (team: Team | null) => void;
  setPriority: (priority: string | null) => void;
  setLabels: (labels: string[]) => void;
  loadLabelSuggestions: () => void;
};

/** The conversation's title row and its actions: status, snooze, assignee, priority, labels. */
export function Header({
  conv,
  inboxName,
  agents,
  agentsError,
  meId,
  busy,
  menu,
  setMenu,
  actions,
  labelSuggestions,
  accountLabels,
  teams,
  teamsError,
  panelOpen,
  onTogglePanel,
}: {
  conv: Conversation;
  inboxName: string;
  agents: Agent[] | null;
  agentsError: string | null;
  meId: number;
  busy: boolean;
  menu: MenuName;
  setMenu: (m: MenuName) => void;
  actions: HeaderActions;
  labelSuggestions: string[];
  accountLabels: Label[] | null;
  teams: Team[] | null;
  teamsError: string | null;
  panelOpen: boolean;
  onTogglePanel: () => void;
}) {
  const contact = conv.meta.sender;
  const status = conv.status;
  const assignee = conv.meta.assignee;
  const team = conv.meta.team ?? null;
  const colorOf = labelColors(accountLabels);
  const openFor = (m: Exclude<MenuName, null>) => (o: boolean) => setMenu(o ? m : null);
  return (
    <header className="cv-header">
      <div className="cv-title">
        <h2 className="cv-name">{contact.name || 'Contact'}</h2>
        <span className="cv-sub muted">
          {inboxName} · #{conv.id}
        </span>
        <span className={`cv-badge status-${status}`} data-testid="conversation-status">
          {STATUS_LABEL[status] ?? status}
          {status === 'snoozed' && (conv.snoozed_until ? ` until ${fullDateTime(conv.snoozed_until)}` : ' until the next reply')}
        </span>
        {conv.priority && <span className={`cv-badge priority-${conv.priority}`}>Priority: {conv.priority}</span>}
      </div>
      <div className="cv-actions" aria-label="Conversation actions" role="group">
        {status === 'resolved' || status === 'snoozed' ? (
          <button type="button" className="button" disabled={busy} onClick={() => actions.setStatus('open')}>
            Reopen
          </button>
        ) : (
          <button type="button" className="button primary" disabled={busy} onClick={() => actions.setStatus('resolved')}>
            Resolve
          </button>
        )}
        <Popover label="Snooze" buttonText="Snooze" kind="dialog" open={menu === 'snooze'} onOpenChange={openFor('snooze')} testId="snooze-menu">
          <SnoozePanel
            onSnooze={(until) => {
              setMenu(null);
              actions.setStatus('snoozed', until);
            }}
          />
        </Popover>
        <Popover label="Assign" buttonText={<>{assignee ? `Assigned: ${assignee.available_name || assignee.name}` : 'Assign'}</>} open={menu === 'assign'} onOpenChange={openFor('assign')} className="cv-assign">
          <button type="button" role="menuitem" onClick={() => (setMenu(null), actions.assign(meId))} disabled={assignee?.id === meId}>
            Assign to me
          </button>
          {agentsError && (
            <div role="menuitem" aria-disabled="true" className="cv-pop-note error">
              {agentsError}
            </div>
          )}
          {!agents && !agentsError && (
            <div role="menuitem" aria-disabled="true" className="cv-pop-note muted">
              Loading agents…
            </div>
          )}
          {agents?.map((a) => (
            <button key={a.id} type="button" role="menuitemradio" aria-checked={assignee?.id === a.id} onClick={() => (setMenu(null), actions.assign(a.id))}>
              <span className="cv-check" aria-hidden="true">
                {assignee?.id === a.id ? '✓' : ''}
              </span>
              {a.available_name || a.name}
              {a.id === meId ? ' (you)' : ''}
            </button>
          ))}
          <button type="button" role="menuitem" onClick={() => (setMenu(null), actions.assign(null))} disabled={!assignee}>
            Unassign
          </button>
        </Popover>
        <Popover label="Team" buttonText={team ? `Team: ${team.name}` : 'Team'} open={menu === 'team'} onOpenChange={openFor('team')} className="cv-assign" testId="team-menu">
          {teamsError && (
            <div role="menuitem" aria-disabled="true" className="cv-pop-note error">
              {teamsError}
            </div>
          )}
          {!teams && !teamsError && (
            <div role="menuitem" aria-disabled="true" className="cv-pop-note muted">
              Loading teams…
            </div>
          )}
          {teams?.length === 0 && (
            <div role="menuitem" aria-disabled="true" className="cv-pop-note muted">
              No teams yet (Settings → Teams).
            </div>
          )}
          {teams?.map((t) => (
            <button key={t.id} type="button" role="menuitemradio" aria-checked={team?.id === t.id} onClick={() => (setMenu(null), actions.assignTeam(t))}>
              <span className="cv-check" aria-hidden="true">
                {team?.id === t.id ? '✓' : ''}
              </span>
              {t.name}
            </button>
          ))}
          <button type="button" role="menuitem" onClick={() => (setMenu(null), actions.assignTeam(null))} disabled={!team}>
            Remove the team
          </button>
        </Popover>
        <Popover label="Priority" buttonText="Priority" open={menu === 'priority'} onOpenChange={openFor('priority')}>
          {PRIORITIES.map((p) => {
            const current = (conv.priority ?? 'none') === p;
            return (
              <button key={p} type="button" role="menuitemradio" aria-checked={current} onClick={() => (setMenu(null), actions.setPriority(p === 'none' ? null : p))}>
                <span className="cv-check" aria-hidden="true">
                  {current ? '✓' : ''}
                </span>
                {p === 'none' ? 'No priority' : p[0]!.toUpperCase() + p.slice(1)}
              </button>
            );
          })}
        </Popover>
        <Popover
          label="Labels"
          buttonText="Labels"
          kind="dialog"
          open={menu === 'labels'}
          onOpenChange={(o) => {
            if (o) actions.loadLabelSuggestions();
            setMenu(o ? 'labels' : null);
          }}
        >
          <LabelsPanel labels={conv.labels} accountLabels={accountLabels} suggestions={labelSuggestions} onChange={actions.setLabels} />
        </Popover>
        <button type="button" className="button cv-panel-toggle" aria-pressed={panelOpen} onClick={onTogglePanel}>
          {panelOpen ? 'Hide contact' : 'Contact'}
        </button>
      </div>
      {conv.labels.length > 0 && (
        <ul className="cv-labels" aria-label="Labels">
          {conv.labels.map((l) => (
            <li key={l} className="cv-label">
              <LabelDot color={colorOf(l)} />
              {l}
            </li>
          ))}
        </ul>
      )}
    </header>
  );
}

function SnoozePanel({ onSnooze }: { onSnooze: (until: number | null) => void }) {
  const id = useId();
  const [custom, setCustom] = useState('');
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="cv-snooze">
      <ul className="cv-pop-list">
        {SNOOZE_PRESETS.map((p) => (
          <li key={p.id}>
            <button type="button" onClick={() => onSnooze(p.until())}>
              {p.title}
            </button>
          </li>
        ))}
      </ul>
      <form
        className="cv-snooze-custom"
        onSubmit={(e) => {
          e.preventDefault();
          const t = Date.parse(custom);
          if (!custom || !Number.isFinite(t)) return setError('Pick a date and time.');
          if (t <= Date.now()) return setError('Pick a time in the future.');
          onSnooze(Math.floor(t / 1000));
        }}
      >
        <label htmlFor={id}>Custom date and time</label>
        <div className="cv-row-inline">
          <input id={id} type="datetime-local" value={custom} onChange={(e) => (setCustom(e.target.value), setError(null))} />
          <button type="submit" className="button">
            Snooze
          </button>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </div>
  );
}
