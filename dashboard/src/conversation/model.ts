import type { components, ResponseBody } from '@channelx/client';

/** The shapes the conversation view keeps, normalised from the API and from /cable. */

export type Conversation = ResponseBody<'/api/v1/accounts/{account_id}/conversations/{conversation_id}', 'get'>;
export type Agent = ResponseBody<'/api/v1/accounts/{account_id}/agents', 'get'>[number];
export type CableUser = components['schemas']['CableUser'];

export const MESSAGE_TYPE = { incoming: 0, outgoing: 1, activity: 2, template: 3 } as const;

export type Sender = { type: 'user' | 'contact' | 'bot'; id: number | null; name: string };
export type Attachment = { url: string; name: string };

export type Msg = {
  /** Server id; negative for a message still being sent. */
  id: number;
  content: string;
  messageType: number;
  private: boolean;
  /** sent | delivered | read | failed | progress */
  status: string;
  error: string | null;
  /** The callback delivery state of an outgoing message (content_attributes.delivery), when it did not go through at once. */
  delivery?: Delivery | null;
  createdAt: number;
  sender: Sender | null;
  echoId: string | null;
  attachments: Attachment[];
};

export type Delivery = { state: 'retrying' | 'delivered' | 'failed'; attempts: number; nextAttemptAt: number | null; lastError: string | null };

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const safeUrl = (u: unknown) => (typeof u === 'string' && /^https?:\/\//i.test(u) ? u : null);

/** A message from the API or from a message.created / message.updated frame. */
export function toMsg(raw: unknown): Msg {
  const m = obj(raw);
  const attrs = obj(m.content_attributes);
  const s = m.sender ? obj(m.sender) : null;
  let sender: Sender | null = null;
  if (s && (s.type === 'user' || s.type === 'contact')) {
    sender = { type: s.type, id: typeof s.id === 'number' ? s.id : null, name: String((s.type === 'user' && s.available_name) || s.name || '') };
  } else if (m.message_type === MESSAGE_TYPE.outgoing || m.message_type === MESSAGE_TYPE.template) {
    sender = { type: 'bot', id: null, name: 'Bot' };
  }
  const attachments: Attachment[] = [];
  if (Array.isArray(m.attachments)) {
    for (const a of m.attachments) {
      const o = obj(a);
      const url = safeUrl(o.data_url) ?? safeUrl(o.file_url) ?? safeUrl(o.url);
      if (url) attachments.push({ url, name: String(o.file_name ?? o.name ?? url.split('/').pop() ?? 'Attachment') });
    }
  }
  const error = typeof attrs.external_error === 'string' ? attrs.external_error : null;
  const d = obj(attrs.delivery);
  const delivery: Delivery | null =
    d.state === 'retrying' || d.state === 'delivered' || d.state === 'failed'
      ? { state: d.state, attempts: Number(d.attempts) || 0, nextAttemptAt: typeof d.next_attempt_at === 'number' ? d.next_attempt_at : null, lastError: typeof d.last_error === 'string' ? d.last_error : null }
      : null;
  return {
    id: Number(m.id),
    content: typeof m.content === 'string' ? m.content : '',
    messageType: Number(m.message_type ?? 0),
    private: m.private === true,
    status: String(m.status ?? 'sent'),
    error,
    delivery,
    createdAt: typeof m.created_at === 'number' ? m.created_at : Math.floor(Date.now() / 1000),
    sender,
    echoId: typeof m.echo_id === 'string' ? m.echo_id : null,
    attachments,
  };
}

/* ---------------- time ---------------- */

const dayKeyOf = (d: Date) => `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
export const dayKey = (unix: number) => dayKeyOf(new Date(unix * 1000));

export function dayLabel(unix: number, now = new Date()): string {
  const d = new Date(unix * 1000);
  const k = dayKeyOf(d);
  if (k === dayKeyOf(now)) return 'Today';
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (k === dayKeyOf(y)) return 'Yesterday';
  return d.toLocaleDateString(undefined, { weekday: 'long', day: 'numeric', month: 'long', ...(d.getFullYear() !== now.getFullYear() ? { year: 'numeric' } : {}) });
}

export const timeOf = (unix: number) => new Date(unix * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
export const fullDateTime = (unix: number) => new Date(unix * 1000).toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'short' });

export { initials } from '../ui.js';

/* ---------------- snooze presets ---------------- */

export type SnoozePreset = { id: string; title: string; until: () => number | null };

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

export function snoozeTimes(now = new Date()) {
  const hour = unix(new Date(now.getTime() + 3600_000));
  const tomorrow = new Date(now);
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const monday = new Date(now);
  const days = ((8 - monday.getDay()) % 7) || 7;
  monday.setDate(monday.getDate() + days);
  monday.setHours(9, 0, 0, 0);
  return { hour, tomorrow: unix(tomorrow), nextWeek: unix(monday) };
}

export const SNOOZE_PRESETS: SnoozePreset[] = [
  { id: 'hour', title: 'For 1 hour', until: () => snoozeTimes().hour },
  { id: 'tomorrow', title: 'Until tomorrow, 9:00', until: () => snoozeTimes().tomorrow },
  { id: 'next-week', title: 'Until next week, Monday 9:00', until: () => snoozeTimes().nextWeek },
  { id: 'next-reply', title: 'Until the next reply', until: () => null },
];

export const PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'] as const;
export const STATUS_LABEL: Record<string, string> = { open: 'Open', resolved: 'Resolved', pending: 'Pending', snoozed: 'Snoozed' };
