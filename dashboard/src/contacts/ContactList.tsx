import { useCallback, useEffect, useRef, useState } from 'react';
import type { ResponseBody } from '@channelx/client';
import { api, errorText, unwrap } from '../api.js';
import { useSession } from '../session.js';
import { navigate, onLinkClick, useLocation } from '../router.js';
import { paths } from '../routes.js';
import { useReconnected } from '../live.js';
import { useCommands } from '../commands.js';
import { fullTime, isoOf, relativeTime } from './format.js';

type Contact = ResponseBody<'/api/v1/accounts/{account_id}/contacts', 'get'>['payload'][number];
type Page = { contacts: Contact[]; count: number; page: number; totalPages: number };

/** The list's state lives in the URL (?q=…&page=…), so Back from a contact returns to the same search and page. */
function readQuery(search: string) {
  const params = new URLSearchParams(search);
  const page = Number(params.get('page'));
  return { q: params.get('q')?.trim() ?? '', page: Number.isInteger(page) && page > 0 ? page : 1 };
}

function listUrl(q: string, page: number) {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (page > 1) params.set('page', String(page));
  const s = params.toString();
  return `${paths.contacts()}${s ? `?${s}` : ''}`;
}

/** /app/contacts: every contact, most recently active first, or the matches of a search; 15 a page. */
export function ContactList() {
  const { accountId } = useSession();
  const { search } = useLocation();
  const { q, page } = readQuery(search);
  const [text, setText] = useState(q);
  const [data, setData] = useState<Page | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const input = useRef<HTMLInputElement>(null);

  useCommands([{ id: 'contacts.search', title: 'Search contacts', group: 'Contacts', shortcut: '/', run: () => input.current?.focus() }]);

  // The URL changed from outside (Back/Forward): the box follows it.
  useEffect(() => setText(q), [q]);

  // Typing searches after a pause; the URL is replaced, not pushed, on every keystroke.
  useEffect(() => {
    const wanted = text.trim();
    if (wanted === q) return;
    const t = setTimeout(() => navigate(listUrl(wanted, 1), true), 300);
    return () => clearTimeout(t);
  }, [text, q]);

  const load = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const r = q
        ? await unwrap(api.GET('/api/v1/accounts/{account_id}/contacts/search', { params: { path: { account_id: accountId }, query: { q, page, include_contact_inboxes: false } } }))
        : await unwrap(api.GET('/api/v1/accounts/{account_id}/contacts', { params: { path: { account_id: accountId }, query: { page, sort: '-last_activity_at', include_contact_inboxes: false } } }));
      if (mine !== generation.current) return;
      // On search, meta.count is the contacts on this page (as the reference's); total_count counts every match.
      setData({ contacts: r.payload, count: typeof r.meta.total_count === 'number' ? r.meta.total_count : r.meta.count, page: r.meta.current_page, totalPages: r.meta.total_pages });
      setError(null);
    } catch (err) {
      if (mine !== generation.current) return;
      setError(errorText(err));
    }
    setLoading(false);
  }, [accountId, q, page]);
  useEffect(() => void load(), [load]);
  useReconnected(() => void load());

  const go = (p: number) => navigate(listUrl(q, p));

  return (
    <div className="adm-page">
      <div className="adm-head">
        <h1>
          Contacts
          {data && !q && <span className="adm-count">{data.count}</span>}
        </h1>
      </div>
      <form
        role="search"
        className="contacts-search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(listUrl(text.trim(), 1), true);
        }}
      >
        <label htmlFor="contact-search" className="sr-only">
          Search contacts
        </label>
        <input
          id="contact-search"
          ref={input}
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="Search by name, e-mail, phone number or identifier"
          maxLength={255}
          autoComplete="off"
          aria-describedby="contact-search-hint"
        />
        <span id="contact-search-hint" className="sr-only">
          Results update as you type. Press slash to come back here.
        </span>
        {text && (
          <button type="button" className="button" onClick={() => (setText(''), navigate(listUrl('', 1), true), input.current?.focus())}>
            Clear
          </button>
        )}
      </form>

      <p className="sr-only" role="status">
        {loading ? '' : data ? (q ? `${data.count} contact${data.count === 1 ? '' : 's'} match “${q}”.` : `${data.count} contacts.`) : ''}
      </p>

      {error && (
        <div className="card">
          <p role="alert" className="error">
            {error}
          </p>
          <div className="actions" style={{ marginTop: '0.75rem' }}>
            <button type="button" className="button" onClick={() => void load()}>
              Try again
            </button>
          </div>
        </div>
      )}
      {!data && !error && (
        <p className="loading" aria-busy="true">
          Loading contacts…
        </p>
      )}

      {data && data.contacts.length === 0 && !error && (
        <div className="empty-state">
          {q ? (
            <>
              <p>
                <strong>No contacts match “{q}”.</strong> Search looks at names, e-mail addresses, phone numbers and identifiers.
              </p>
              <button type="button" className="button" onClick={() => (setText(''), navigate(listUrl('', 1), true))}>
                Clear the search
              </button>
            </>
          ) : (
            <p>
              <strong>No contacts yet.</strong> A contact appears here once someone writes in through an inbox or is created through the API with an e-mail, phone number or identifier.
            </p>
          )}
        </div>
      )}

      {data && data.contacts.length > 0 && (
        <>
          <div className="table-wrap" aria-busy={loading}>
            <table className="data-table contacts-table">
              <caption className="sr-only">{q ? `Contacts matching ${q}` : 'Contacts, most recently active first'}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">E-mail</th>
                  <th scope="col">Phone</th>
                  <th scope="col">Identifier</th>
                  <th scope="col">Last activity</th>
                </tr>
              </thead>
              <tbody>
                {data.contacts.map((c) => (
                  <tr key={c.id} className="adm-row" data-testid="contact-row">
                    <th scope="row" className="adm-wrap">
                      <a href={paths.contact(c.id)} onClick={onLinkClick} className="cell-link">
                        {c.name || 'Unnamed contact'}
                      </a>
                      {c.blocked && <span className="badge bad contacts-blocked">Blocked</span>}
                    </th>
                    <td className="adm-wrap">{c.email ?? <span className="muted">—</span>}</td>
                    <td className="adm-nowrap">{c.phone_number ?? <span className="muted">—</span>}</td>
                    <td className="adm-wrap">{c.identifier ?? <span className="muted">—</span>}</td>
                    <td className="adm-nowrap">
                      {c.last_activity_at ? (
                        <time dateTime={isoOf(c.last_activity_at)} title={fullTime(c.last_activity_at)}>
                          {relativeTime(c.last_activity_at)}
                        </time>
                      ) : (
                        <span className="muted">Never</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="adm-pager" aria-label="Contact pages">
            <span className="muted">
              {data.totalPages > 1 ? `Page ${data.page} of ${data.totalPages} · ` : ''}
              {data.count} contact{data.count === 1 ? '' : 's'}
            </span>
            {data.totalPages > 1 && (
              <span className="actions">
                <button type="button" className="button small" disabled={page <= 1 || loading} onClick={() => go(page - 1)}>
                  Previous page
                </button>
                <button type="button" className="button small" disabled={page >= data.totalPages || loading} onClick={() => go(page + 1)}>
                  Next page
                </button>
              </span>
            )}
          </nav>
          {!q && <p className="muted contacts-note">Contacts with only a name are left out of this list; search finds them by name.</p>}
        </>
      )}
    </div>
  );
}
