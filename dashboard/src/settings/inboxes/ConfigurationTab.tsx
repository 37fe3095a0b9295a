import { useRef, useState } from 'react';
import { api, unwrap } from '../../api.js';
import { useSession } from '../../session.js';
import { CopyNote, CopyValue, SecretValue, useCopy } from '../../copy.js';
import { problemText, useFlash, type Inbox } from './common.js';
import { SNIPPETS, type SnippetKind } from './snippet.js';

/**
 * Tab Configuration: the inbox identifier (for the client API), the HMAC token and identity
 * enforcement, the webhook signing secret (rotate) and a verification snippet. Agents see the
 * identifier only; the API gives tokens and secrets to administrators alone.
 */
export function ConfigurationTab({ inbox, onChange }: { inbox: Inbox; onChange: (i: Inbox) => void }) {
  const { isAdministrator } = useSession();
  return (
    <>
      <section className="card" aria-labelledby="identifier-title">
        <h2 id="identifier-title">Inbox identifier</h2>
        <p className="card-lead">
          Use it in the client API to create contacts and conversations: <code>/public/api/v1/inboxes/&lt;identifier&gt;/…</code>
        </p>
        <CopyValue label="Inbox identifier" value={inbox.inbox_identifier} testId="inbox-identifier" />
      </section>
      {isAdministrator && inbox.hmac_token !== undefined ? (
        <>
          <IdentitySection inbox={inbox} onChange={onChange} />
          <SecretSection inbox={inbox} onChange={onChange} />
          <SnippetSection />
        </>
      ) : (
        <p className="notice">The HMAC token and the webhook signing secret are shown to administrators only.</p>
      )}
    </>
  );
}

function IdentitySection({ inbox, onChange }: { inbox: Inbox; onChange: (i: Inbox) => void }) {
  const { accountId } = useSession();
  const [revealed, setRevealed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const saved = useFlash();
  // Shown at once; put back if the save fails.
  const [optimistic, setOptimistic] = useState<boolean | null>(null);
  const on = optimistic ?? !!inbox.hmac_mandatory;

  async function toggle(next: boolean) {
    setOptimistic(next);
    setBusy(true);
    setError(null);
    saved.clear();
    try {
      const updated = await unwrap(
        api.PATCH('/api/v1/accounts/{account_id}/inboxes/{id}', { params: { path: { account_id: accountId, id: inbox.id } }, body: { channel: { hmac_mandatory: next } } }),
      );
      onChange(updated);
      saved.show(updated.hmac_mandatory ? 'Saved: identity verification is now required.' : 'Saved: identity verification is now optional.');
    } catch (err) {
      setError(problemText(err));
    }
    setOptimistic(null);
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="hmac-title">
      <h2 id="hmac-title">User identity verification</h2>
      <p className="card-lead">
        Your server signs each contact's identifier with this token: <code>identifier_hash</code> = hex HMAC-SHA256 of the <code>identifier</code>, keyed with the HMAC token. Keep the token on your server,
        never in a browser or app.
      </p>
      <div className="setting-block">
        <h3>HMAC token</h3>
        <SecretValue label="HMAC token" value={inbox.hmac_token ?? ''} testId="hmac-token" revealed={revealed} onReveal={setRevealed} />
      </div>
      <div className="setting-block">
        <label className="switch">
          <input type="checkbox" role="switch" checked={on} disabled={busy} onChange={(e) => void toggle(e.target.checked)} aria-describedby="hmac-mandatory-help" />
          <span className="switch-text">
            <strong>Enforce user identity verification</strong>
            <small id="hmac-mandatory-help">
              When on, client API requests without a valid identifier_hash are refused (401). When off, a valid hash still marks the session verified.
            </small>
          </span>
        </label>
        <p className="status-line ok" role="status">
          {busy ? 'Saving…' : saved.text}
        </p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </div>
    </section>
  );
}

function SecretSection({ inbox, onChange }: { inbox: Inbox; onChange: (i: Inbox) => void }) {
  const { accountId } = useSession();
  const [revealed, setRevealed] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [rotated, setRotated] = useState(false);

  async function rotate() {
    setBusy(true);
    setError(null);
    try {
      const updated = await unwrap(api.POST('/api/v1/accounts/{account_id}/inboxes/{id}/reset_secret', { params: { path: { account_id: accountId, id: inbox.id } } }));
      onChange(updated);
      setRevealed(true);
      setRotated(true);
      setConfirming(false);
    } catch (err) {
      setError(problemText(err));
    }
    setBusy(false);
  }

  return (
    <section className="card" aria-labelledby="secret-title">
      <h2 id="secret-title">Webhook signing secret</h2>
      <p className="card-lead">
        Every callback is signed with this secret (headers <code>X-ChannelX-Signature</code> and <code>webhook-signature</code>). Check the signature before you trust a payload: see the snippet below.
      </p>
      <SecretValue label="Webhook secret" value={inbox.secret ?? ''} testId="webhook-secret" revealed={revealed} onReveal={setRevealed} />
      {rotated && (
        <p className="notice" role="status">
          New secret created and shown above: update your receiver now. <code>X-ChannelX-Signature</code> uses only the new secret from now on; <code>webhook-signature</code> also carries a signature with the previous
          secret for 24 hours.
        </p>
      )}
      <div className="actions">
        {confirming ? (
          <div className="confirm-row" role="group" aria-label="Confirm rotation">
            <span>Create a new secret? Receivers that check X-ChannelX-Signature with the old one start refusing callbacks at once.</span>
            <button type="button" className="button danger" onClick={() => void rotate()} disabled={busy} autoFocus>
              {busy ? 'Rotating…' : 'Yes, rotate secret'}
            </button>
            <button type="button" className="button" onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" className="button" onClick={() => (setConfirming(true), setRotated(false))}>
            Rotate secret
          </button>
        )}
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}

function SnippetSection() {
  const [kind, setKind] = useState<SnippetKind>('channelx');
  const ref = useRef<HTMLPreElement>(null);
  const { note, copy } = useCopy();
  const s = SNIPPETS[kind];
  return (
    <section className="card" aria-labelledby="snippet-title">
      <h2 id="snippet-title">Verify callbacks (Node.js)</h2>
      <div className="snippet-tabs" role="group" aria-label="Signature header">
        {(Object.keys(SNIPPETS) as SnippetKind[]).map((k) => (
          <button key={k} type="button" className="button small" aria-pressed={k === kind} onClick={() => setKind(k)}>
            {SNIPPETS[k].label}
          </button>
        ))}
      </div>
      <p className="card-lead">{s.about}</p>
      <pre className="code" ref={ref} tabIndex={0} aria-label={`Node.js verification code, ${s.label}`} data-testid="verify-snippet" data-kind={kind}>
        {s.code}
      </pre>
      <div className="actions">
        <button type="button" className="button" onClick={() => void copy(s.code, () => ref.current)} aria-label="Copy code of the verification snippet">
          Copy code
        </button>
        <CopyNote note={note} />
      </div>
    </section>
  );
}
