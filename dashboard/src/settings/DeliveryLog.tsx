import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { ResponseBody } from '@channelx/client';
import { api, unwrap } from '../api.js';
import { useSession } from '../session.js';
import { formatTime, fromNow, problemText } from './inboxes/common.js';
import './settings.css';

/**
 * The webhook delivery log of one endpoint: an API inbox's callback or an account webhook. 25 per
 * page, newest first (the API's paging); a status filter; Refresh; each row expands to its attempts
 * (time, HTTP code, duration, error, the first KiB of the response as text) and the payload sent;
 * Redeliver sends it again at once and follows the row until the new attempt is recorded.
 * Administrators only (the API refuses others with 403).
 */
export type DeliverySource = { kind: 'inbox'; inboxId: number } | { kind: 'webhook'; webhookId: number };

type DeliveryPage = ResponseBody<'/api/v1/accounts/{account_id}/inboxes/{inbox_id}/webhook_deliveries', 'get'>;
export type Delivery = DeliveryPage['payload'][number];
type Attempt = Delivery['attempts'][number];
type StatusFilter = '' | 'pending' | 'in_flight' | 'succeeded' | 'failed';

const FILTERS: { value: StatusFilter; label: string }[] = [
  { value: '', label: 'All' },
  { value: 'pending', label: 'Pending / retrying' },
  { value: 'in_flight', label: 'Sending' },
  { value: 'succeeded', label: 'Delivered' },
  { value: 'failed', label: 'Failed' },
];

async function fetchPage(accountId: number, source: DeliverySource, page: number, status: StatusFilter): Promise<DeliveryPage> {
  const query = { page, ...(status ? { status } : {}) };
  if (source.kind === 'inbox') {
    return unwrap(api.GET('/api/v1/accounts/{account_id}/inboxes/{inbox_id}/webhook_deliveries', { params: { path: { account_id: accountId, inbox_id: source.inboxId }, query } }));
  }
  return unwrap(api.GET('/api/v1/accounts/{account_id}/webhooks/{id}/deliveries', { params: { path: { account_id: accountId, id: source.webhookId }, query } }));
}

const numberOr = (v: unknown): number | null => (typeof v === 'number' ? v : null);

/** The status as people say it: a pending row that has failed before is retrying; failed means given up. */
export function statusOf(d: Delivery): { label: string; tone: 'ok' | 'bad' | 'wait' | 'accent'; detail: string } {
  const tries = d.attempts.length;
  switch (d.status) {
    case 'succeeded':
      return { label: 'Delivered', tone: 'ok', detail: tries > 1 ? `after ${tries} attempts` : '' };
    case 'failed':
      return { label: 'Failed', tone: 'bad', detail: `gave up after ${tries} attempt${tries === 1 ? '' : 's'}` };
    case 'in_flight':
      return { label: 'Sending', tone: 'accent', detail: '' };
    case 'pending':
      return tries ? { label: 'Retrying', tone: 'bad', detail: 'will try again' } : { label: 'Pending', tone: 'wait', detail: 'about to send' };
    default:
      return { label: d.status, tone: 'wait', detail: '' };
  }
}

const lastAttempt = (d: Delivery): Attempt | undefined => d.attempts[d.attempts.length - 1];

function responseSummary(a: Attempt | undefined): string {
  if (!a) return '—';
  if (a.status_code != null) return `HTTP ${a.status_code}`;
  return 'No response';
}

const pretty = (v: unknown) => {
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
};

export function DeliveryLog({ source, title = 'Delivery log', intro }: { source: DeliverySource; title?: string; intro?: React.ReactNode }) {
  const { accountId } = useSession();
  const headingId = useId();
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState<StatusFilter>('');
  const [data, setData] = useState<DeliveryPage | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<Set<number>>(() => new Set());
  const [rowNote, setRowNote] = useState<Record<number, { text: string; bad?: boolean }>>({});
  const [busyRows, setBusyRows] = useState<Set<number>>(() => new Set());
  const [refreshedAt, setRefreshedAt] = useState<number | null>(null);
  const alive = useRef(true);
  const generation = useRef(0);
  useEffect(() => {
    alive.current = true;
    return () => void (alive.current = false);
  }, []);

  const sourceKey = source.kind === 'inbox' ? `inbox:${source.inboxId}` : `webhook:${source.webhookId}`;
  const load = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const next = await fetchPage(accountId, source, page, status);
      if (!alive.current || mine !== generation.current) return;
      setData(next);
      setError(null);
      setRefreshedAt(Date.now());
    } catch (err) {
      if (!alive.current || mine !== generation.current) return;
      setError(problemText(err));
    }
    setLoading(false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [accountId, sourceKey, page, status]);

  useEffect(() => void load(), [load]);

  const toggle = (id: number) =>
    setExpanded((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  const replaceRow = (d: Delivery) => setData((p) => (p ? { ...p, payload: p.payload.map((x) => (x.id === d.id ? d : x)) } : p));

  /** After a redelivery: re-read the page until the new attempt shows (or ~20 s pass). */
  async function follow(id: number, attemptsBefore: number) {
    for (let i = 0; i < 14 && alive.current; i++) {
      await new Promise((r) => setTimeout(r, i < 4 ? 700 : 1500));
      if (!alive.current) return;
      let fresh: DeliveryPage;
      try {
        fresh = await fetchPage(accountId, source, page, status);
      } catch {
        continue;
      }
      if (!alive.current) return;
      const d = fresh.payload.find((x) => x.id === id);
      setData(fresh);
      setRefreshedAt(Date.now());
      if (!d) return;
      if (d.attempts.length > attemptsBefore && d.status !== 'in_flight') {
        const a = lastAttempt(d);
        const s = statusOf(d);
        setRowNote((n) => ({ ...n, [id]: d.status === 'succeeded' ? { text: `Delivered (${responseSummary(a)}).` } : { text: `Still failing: ${responseSummary(a)}${a?.error ? ` — ${a.error}` : ''}. ${s.label}.`, bad: true } }));
        return;
      }
    }
    if (alive.current) setRowNote((n) => ({ ...n, [id]: { text: 'Queued. Refresh to see the result.' } }));
  }

  async function redeliver(d: Delivery) {
    setBusyRows((s) => new Set(s).add(d.id));
    setRowNote((n) => ({ ...n, [d.id]: { text: 'Sending again…' } }));
    try {
      const queued = await unwrap(
        api.POST('/api/v1/accounts/{account_id}/webhook_deliveries/{id}/redeliver', { params: { path: { account_id: accountId, id: String(d.id) } } }),
      );
      if (!alive.current) return;
      replaceRow(queued as Delivery);
      await follow(d.id, d.attempts.length);
    } catch (err) {
      if (alive.current) setRowNote((n) => ({ ...n, [d.id]: { text: `Could not redeliver: ${problemText(err)}`, bad: true } }));
    }
    if (alive.current)
      setBusyRows((s) => {
        const n = new Set(s);
        n.delete(d.id);
        return n;
      });
  }

  const rows = data?.payload ?? [];
  const meta = data?.meta;
  const totalPages = Math.max(1, meta?.total_pages ?? 1);

  return (
    <section className="delivery-log" aria-labelledby={headingId}>
      <div className="log-toolbar">
        <h2 id={headingId} className="log-title">
          {title}
        </h2>
        <span className="spacer" />
        <label htmlFor={`${headingId}-status`}>Status</label>
        <select
          id={`${headingId}-status`}
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as StatusFilter);
            setPage(1);
          }}
        >
          {FILTERS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
        <button type="button" className="button" onClick={() => void load()} disabled={loading}>
          {loading && data ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {intro}
      <p className="muted status-line" role="status">
        {refreshedAt && meta ? `${meta.count} deliver${meta.count === 1 ? 'y' : 'ies'} · updated ${new Date(refreshedAt).toLocaleTimeString()}` : ''}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!data && loading && <p className="loading">Loading deliveries…</p>}
      {data && rows.length === 0 && (
        <div className="empty-state">
          <p>{status ? `No deliveries with status “${FILTERS.find((f) => f.value === status)?.label}”.` : 'No deliveries yet. Each event sent to this endpoint appears here with every attempt.'}</p>
        </div>
      )}
      {rows.length > 0 && (
        <div className="table-wrap">
          <table className="data-table delivery-table" aria-busy={loading} aria-labelledby={headingId}>
            <thead>
              <tr>
                <th scope="col">
                  <span className="sr-only">Details</span>
                </th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last response</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <DeliveryRow
                  key={d.id}
                  d={d}
                  open={expanded.has(d.id)}
                  onToggle={() => toggle(d.id)}
                  busy={busyRows.has(d.id)}
                  note={rowNote[d.id]}
                  onRedeliver={() => void redeliver(d)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {meta && totalPages > 1 && (
        <nav className="pager" aria-label={`${title} pages`}>
          <button type="button" className="button small" onClick={() => setPage((p) => Math.max(1, p - 1))} disabled={page <= 1 || loading}>
            Newer
          </button>
          <span>
            Page {meta.current_page} of {totalPages}
          </span>
          <button type="button" className="button small" onClick={() => setPage((p) => Math.min(totalPages, p + 1))} disabled={page >= totalPages || loading}>
            Older
          </button>
        </nav>
      )}
    </section>
  );
}

function DeliveryRow({
  d,
  open,
  onToggle,
  busy,
  note,
  onRedeliver,
}: {
  d: Delivery;
  open: boolean;
  onToggle: () => void;
  busy: boolean;
  note?: { text: string; bad?: boolean };
  onRedeliver: () => void;
}) {
  const detailsId = useId();
  const s = statusOf(d);
  const last = lastAttempt(d);
  const completed = numberOr(d.completed_at);
  return (
    <>
      <tr data-testid="delivery-row" data-delivery-id={d.delivery_id} data-status={d.status}>
        <td>
          <button type="button" className="expand" aria-expanded={open} aria-controls={detailsId} aria-label={`Attempts of ${d.event} delivery ${d.id}`} onClick={onToggle}>
            <svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
              <path d="M4 2l4 4-4 4" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
          </button>
        </td>
        <td>
          <span className="event">{d.event}</span>
          <span className="sub">
            #{d.id} ·{' '}
            <time dateTime={new Date(d.created_at * 1000).toISOString()} title={formatTime(d.created_at)}>
              {fromNow(d.created_at)}
            </time>
          </span>
        </td>
        <td>
          <span className={`badge ${s.tone}`}>{s.label}</span>
          {d.next_attempt_at != null && d.status === 'pending' ? (
            <span className="sub">
              next try{' '}
              <time dateTime={new Date(d.next_attempt_at * 1000).toISOString()} title={formatTime(d.next_attempt_at)}>
                {fromNow(d.next_attempt_at)}
              </time>
            </span>
          ) : (
            s.detail && <span className="sub">{s.detail}</span>
          )}
        </td>
        <td className="num">{d.attempts.length}</td>
        <td>
          {responseSummary(last)}
          {last && <span className="sub">{last.duration_ms} ms</span>}
        </td>
        <td className="row-actions">
          <button type="button" className="button small" onClick={onRedeliver} disabled={busy} aria-label={`Redeliver ${d.event} delivery ${d.id}`}>
            {busy ? 'Sending…' : 'Redeliver'}
          </button>
          <span className={`sub${note?.bad ? ' field-error' : ''}`} role="status">
            {note?.text ?? ''}
          </span>
        </td>
      </tr>
      <tr className="details" id={detailsId} hidden={!open}>
        <td colSpan={6}>
          {open && (
            <>
              <dl className="delivery-meta">
                <div>
                  <dt>Delivery id</dt>
                  <dd>
                    <code>{d.delivery_id}</code>
                  </dd>
                </div>
                <div>
                  <dt>Created</dt>
                  <dd>{formatTime(d.created_at)}</dd>
                </div>
                {completed != null && (
                  <div>
                    <dt>Finished</dt>
                    <dd>{formatTime(completed)}</dd>
                  </div>
                )}
                {d.next_attempt_at != null && d.status === 'pending' && (
                  <div>
                    <dt>Next retry</dt>
                    <dd>
                      {formatTime(d.next_attempt_at)} ({fromNow(d.next_attempt_at)})
                    </dd>
                  </div>
                )}
              </dl>
              {d.attempts.length === 0 ? (
                <p className="muted">No attempt yet.</p>
              ) : (
                <ol className="attempts" aria-label={`Attempts of delivery ${d.id}`}>
                  {[...d.attempts].reverse().map((a) => (
                    <AttemptItem key={a.attempt} a={a} />
                  ))}
                </ol>
              )}
              <details className="details-payload">
                <summary>Payload sent</summary>
                <pre className="code" tabIndex={0} aria-label={`Payload of delivery ${d.id}`}>
                  {pretty(d.payload)}
                </pre>
              </details>
            </>
          )}
        </td>
      </tr>
    </>
  );
}

function AttemptItem({ a }: { a: Attempt }) {
  const ok = a.status_code != null && a.status_code >= 200 && a.status_code < 300 && !a.error;
  return (
    <li className="attempt" data-testid="attempt">
      <div className="attempt-head">
        <strong>Attempt {a.attempt}</strong>
        <span className={`badge ${ok ? 'ok' : 'bad'}`}>{a.status_code != null ? `HTTP ${a.status_code}` : 'No response'}</span>
        <span>{a.duration_ms} ms</span>
        <time className="muted" dateTime={new Date(a.started_at * 1000).toISOString()}>
          {formatTime(a.started_at)}
        </time>
      </div>
      {a.error && <p className="error-text">{a.error}</p>}
      {a.response_snippet != null && a.response_snippet !== '' ? (
        <>
          <span className="excerpt-label">Response (first 1 KiB)</span>
          <pre className="code" tabIndex={0} aria-label={`Response of attempt ${a.attempt}`}>
            {a.response_snippet}
          </pre>
        </>
      ) : (
        <span className="excerpt-label">Empty response body</span>
      )}
    </li>
  );
}
