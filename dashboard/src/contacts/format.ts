import { ChannelxError } from '../api.js';

/** "3 min ago", "yesterday", "12 Mar 2026" for unix seconds; "—" for none. */
export function relativeTime(unixSeconds: number | null | undefined, now = Date.now()): string {
  if (!unixSeconds) return '—';
  const diff = Math.round((now - unixSeconds * 1000) / 1000);
  if (diff < 45) return 'just now';
  if (diff < 3600) return `${Math.max(1, Math.round(diff / 60))} min ago`;
  if (diff < 86_400) return `${Math.round(diff / 3600)} h ago`;
  if (diff < 2 * 86_400) return 'yesterday';
  if (diff < 7 * 86_400) return `${Math.round(diff / 86_400)} days ago`;
  return new Date(unixSeconds * 1000).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

/** The full date and time, for a title or <time dateTime>. */
export function fullTime(unixSeconds: number | null | undefined): string {
  return unixSeconds ? new Date(unixSeconds * 1000).toLocaleString() : '';
}

export const isoOf = (unixSeconds: number | null | undefined) => (unixSeconds ? new Date(unixSeconds * 1000).toISOString() : undefined);

/** The fields a 422 names (`attributes`), to mark those inputs invalid. */
export function invalidFields(err: unknown): string[] {
  return err instanceof ChannelxError && Array.isArray(err.body?.attributes) ? err.body.attributes.map(String) : [];
}

/** A JSON attribute value as plain text. */
export function attributeText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v || '—';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** The entries of a JSON object attribute (custom_attributes, additional_attributes); [] for anything else. */
export function entriesOf(v: unknown): [string, unknown][] {
  return v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v as Record<string, unknown>) : [];
}
