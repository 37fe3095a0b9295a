import { onLinkClick } from '../router.js';
import { paths } from '../routes.js';
import { STATUS_LABEL, timeOf, type Conversation } from './model.js';

export type OtherConversation = { id: number; status: string; lastActivityAt: number | null; preview: string };

const entries = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as Record<string, unknown>) : []);
const show = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** The right column: who the contact is, the attributes, and their other conversations. */
export function ContactPanel({ conv, others, othersError }: { conv: Conversation; others: OtherConversation[] | null; othersError: string | null }) {
  const c = conv.meta.sender;
  const contactAttrs = entries(c.custom_attributes);
  const convAttrs = entries(conv.custom_attributes);
  return (
    <aside className="cv-panel" aria-label="Contact details" data-testid="contact-panel">
      <section>
        <h3 className="cv-panel-name">{c.name || 'Contact'}</h3>
        <dl className="cv-dl">
          <dt>E-mail</dt>
          <dd>{c.email ? <a href={`mailto:${c.email}`}>{c.email}</a> : <span className="muted">—</span>}</dd>
          <dt>Phone</dt>
          <dd>{c.phone_number || <span className="muted">—</span>}</dd>
          <dt>Identifier</dt>
          <dd>{c.identifier || <span className="muted">—</span>}</dd>
        </dl>
      </section>
      <section>
        <h3>Contact attributes</h3>
        {contactAttrs.length ? (
          <dl className="cv-dl">
            {contactAttrs.map(([k, v]) => (
              <div key={k} className="cv-dl-row">
                <dt>{k}</dt>
                <dd>{show(v)}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="muted">None</p>
        )}
      </section>
      <section>
        <h3>Conversation attributes</h3>
        {convAttrs.length ? (
          <dl className="cv-dl">
            {convAttrs.map(([k, v]) => (
              <div key={k} className="cv-dl-row">
                <dt>{k}</dt>
                <dd>{show(v)}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="muted">None</p>
        )}
      </section>
      <section>
        <h3>Other conversations</h3>
        {othersError ? (
          <p className="error">{othersError}</p>
        ) : !others ? (
          <p className="muted">Loading…</p>
        ) : others.length ? (
          <ul className="cv-others">
            {others.map((o) => (
              <li key={o.id}>
                <a href={paths.conversation(o.id, window.location.search)} onClick={onLinkClick}>
                  <span className="cv-other-id">#{o.id}</span> <span className="cv-other-status">{STATUS_LABEL[o.status] ?? o.status}</span>
                  {o.lastActivityAt ? <span className="muted"> · {new Date(o.lastActivityAt * 1000).toLocaleDateString()} {timeOf(o.lastActivityAt)}</span> : null}
                  {o.preview && <span className="cv-other-preview">{o.preview}</span>}
                </a>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">None</p>
        )}
      </section>
    </aside>
  );
}
