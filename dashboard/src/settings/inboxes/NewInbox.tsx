import { useRef, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api.js';
import { navigate, onLinkClick } from '../../router.js';
import { paths } from '../../routes.js';
import { useSession } from '../../session.js';
import { Field, FormError } from '../../ui.js';
import { AgentChecklist, membershipProblem, useAccountAgents } from './AgentChecklist.js';
import { errorAttributes, problemText, type Inbox } from './common.js';
import { CallbackWarning } from '../webhooks/CallbackWarning.js';

type Step = 'channel' | 'details' | 'agents';
const STEPS: { key: Step; label: string }[] = [
  { key: 'channel', label: 'Choose a channel' },
  { key: 'details', label: 'Name and callback' },
  { key: 'agents', label: 'Add agents' },
];

/** /app/settings/inboxes/new: channel → name and callback URL (creates the inbox) → agents → the inbox page. */
export function NewInbox() {
  const { isAdministrator } = useSession();
  const [step, setStep] = useState<Step>('channel');
  const [inbox, setInbox] = useState<Inbox | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const go = (s: Step) => {
    setStep(s);
    // Move focus to the new step's heading, so keyboard and screen-reader users follow along.
    requestAnimationFrame(() => heading.current?.focus());
  };

  if (!isAdministrator) {
    return (
      <div className="settings-page">
        <h1>Add inbox</h1>
        <p className="notice warn" role="alert">
          Only administrators of this account can add inboxes.
        </p>
        <a href={paths.inboxes()} onClick={onLinkClick}>
          Back to inboxes
        </a>
      </div>
    );
  }

  const at = STEPS.findIndex((s) => s.key === step);
  return (
    <div className="settings-page">
      <a className="back-link" href={paths.inboxes()} onClick={onLinkClick}>
        ← Inboxes
      </a>
      <h1>Add inbox</h1>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s.key} aria-current={i === at ? 'step' : undefined} className={i < at ? 'done' : undefined}>
            {s.label}
          </li>
        ))}
      </ol>
      {step === 'channel' && (
        <section className="card" aria-labelledby="step-title">
          <h2 id="step-title" ref={heading} tabIndex={-1}>
            Choose a channel
          </h2>
          <p className="card-lead">Where this inbox's conversations come from.</p>
          <div className="channel-grid">
            <button type="button" className="channel-choice" onClick={() => go('details')} aria-describedby="api-channel-about">
              <span className="channel-icon" aria-hidden="true">
                {'{ }'}
              </span>
              <strong>API</strong>
              <span className="muted" id="api-channel-about">
                Connect your own app or service over HTTP. ChannelX posts new messages and conversation changes to your callback URL.
              </span>
            </button>
          </div>
        </section>
      )}
      {step === 'details' && <DetailsStep headingRef={heading} onBack={() => go('channel')} onCreated={(i) => (setInbox(i), go('agents'))} />}
      {step === 'agents' && inbox && <AgentsStep inbox={inbox} headingRef={heading} />}
    </div>
  );
}

function DetailsStep({ headingRef, onBack, onCreated }: { headingRef: React.RefObject<HTMLHeadingElement | null>; onBack: () => void; onCreated: (i: Inbox) => void }) {
  const { accountId } = useSession();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ text: string; fields: string[] } | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await unwrap(
        api.POST('/api/v1/accounts/{account_id}/inboxes', {
          params: { path: { account_id: accountId } },
          body: { name: name.trim(), channel: { type: 'api', webhook_url: url.trim() || null } },
        }),
      );
      onCreated(created);
    } catch (err) {
      setError({ text: problemText(err), fields: errorAttributes(err) });
      setBusy(false);
    }
  }

  const urlError = error?.fields.some((f) => f.startsWith('webhook_url') || f.startsWith('channel')) ? error.text : null;
  const nameError = error?.fields.includes('name') ? error.text : null;
  const general = error && !urlError && !nameError ? error.text : null;
  return (
    <section className="card" aria-labelledby="step-title">
      <h2 id="step-title" ref={headingRef} tabIndex={-1}>
        API channel
      </h2>
      <form className="stack" onSubmit={submit} noValidate={false}>
        <Field label="Channel name" name="name" value={name} onChange={setName} required maxLength={255} autoComplete="off" hint="Agents see it in the inbox list and on every conversation." error={nameError} />
        <Field
          label="Callback URL (optional)"
          name="webhook_url"
          type="url"
          value={url}
          onChange={setUrl}
          maxLength={2048}
          placeholder="https://example.com/channelx/callback"
          autoComplete="off"
          hint="ChannelX POSTs each new message and conversation change here, signed with the inbox's secret. You can add it later."
          error={urlError}
        />
        <FormError message={general} />
        <div className="actions">
          <button type="submit" className="button primary" disabled={busy || !name.trim()}>
            {busy ? 'Creating…' : 'Create inbox'}
          </button>
          <button type="button" className="button" onClick={onBack} disabled={busy}>
            Back
          </button>
        </div>
      </form>
    </section>
  );
}

function AgentsStep({ inbox, headingRef }: { inbox: Inbox; headingRef: React.RefObject<HTMLHeadingElement | null> }) {
  const { accountId } = useSession();
  const { agents, error: loadError, retry } = useAccountAgents();
  const [selected, setSelected] = useState<Set<number>>(() => new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const done = () => navigate(paths.inbox(inbox.id));

  async function add() {
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST('/api/v1/accounts/{account_id}/inbox_members', { params: { path: { account_id: accountId } }, body: { inbox_id: inbox.id, user_ids: [...selected] } }));
      done();
    } catch (err) {
      setError(membershipProblem(err, agents, problemText));
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="step-title">
      <h2 id="step-title" ref={headingRef} tabIndex={-1}>
        Add agents to “{inbox.name}”
      </h2>
      <p className="notice" role="status">
        Inbox created. Only its agents (and administrators) see its conversations.
      </p>
      <CallbackWarning warnings={inbox.warnings} what="callback" />
      {loadError && (
        <div className="actions">
          <p role="alert" className="error">
            {loadError}
          </p>
          <button type="button" className="button" onClick={retry}>
            Try again
          </button>
        </div>
      )}
      {!agents && !loadError && <p className="loading">Loading agents…</p>}
      {agents && agents.length === 0 && <p className="muted">This account has no agents yet. Add them under Settings → Agents, then here on the inbox's Agents tab.</p>}
      {agents && agents.length > 0 && <AgentChecklist agents={agents} selected={selected} onChange={setSelected} label="Agents of this inbox" disabled={busy} />}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" className="button primary" onClick={() => void add()} disabled={busy || selected.size === 0}>
          {busy ? 'Adding…' : selected.size ? `Add ${selected.size} agent${selected.size === 1 ? '' : 's'}` : 'Add agents'}
        </button>
        <button type="button" className="button" onClick={done} disabled={busy}>
          Skip for now
        </button>
      </div>
    </section>
  );
}
