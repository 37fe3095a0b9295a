import { useEffect, useRef, useState } from 'react';
import { ChannelxError, errorText, isStatus } from '../../api.js';
import type { ResponseBody } from '@channelx/client';

/** Shared pieces of the settings screens: API types, error wording, flashes, times. (Copyable values: ../../copy.tsx.) */

export type Inbox = ResponseBody<'/api/v1/accounts/{account_id}/inboxes/{id}', 'get'>;
export type Agent = ResponseBody<'/api/v1/accounts/{account_id}/agents', 'get'>[number];
export type Member = ResponseBody<'/api/v1/accounts/{account_id}/inbox_members/{inbox_id}', 'get'>['payload'][number];

/** A failure as the page says it; a 403 explains that the role does not allow it. */
export function problemText(err: unknown): string {
  if (isStatus(err, 403)) {
    const server = err instanceof ChannelxError ? err.body?.message : undefined;
    // A refused cookie Origin is a 403 too; its own message says more than the generic one.
    if (server && /origin/i.test(server)) return server;
    return 'Only administrators of this account can do this. Ask an administrator if you need it changed.';
  }
  if (isStatus(err, 404)) return 'Not found: it was deleted, or you are not a member of this inbox.';
  return errorText(err);
}

/** The request attribute a 422 names (e.g. `webhook_url`, `name`), to show the message next to that field. */
export function errorAttributes(err: unknown): string[] {
  return err instanceof ChannelxError && err.status === 422 ? (err.body?.attributes ?? []) : [];
}

/** "Saved." for a few seconds after a save, in a status region that is always there. */
export function useFlash(ms = 4000) {
  const [text, setText] = useState('');
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => () => window.clearTimeout(timer.current), []);
  const show = (t: string) => {
    setText(t);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setText(''), ms);
  };
  return { text, show, clear: () => setText('') };
}

/** A message to the next page (e.g. "Inbox deleted" on the list after a delete). */
let pendingFlash: string | null = null;
export const setNextPageFlash = (t: string) => void (pendingFlash = t);
export function takeNextPageFlash(): string | null {
  const t = pendingFlash;
  pendingFlash = null;
  return t;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** Unix seconds as a local date and time. */
export const formatTime = (unixSeconds: number) => dateTime.format(new Date(unixSeconds * 1000));

/** Unix seconds relative to now: "in 5 minutes", "2 hours ago". */
export function fromNow(unixSeconds: number, nowMs = Date.now()): string {
  const s = Math.round(unixSeconds - nowMs / 1000);
  const abs = Math.abs(s);
  if (abs < 45) return relative.format(s, 'second');
  if (abs < 45 * 60) return relative.format(Math.round(s / 60), 'minute');
  if (abs < 22 * 3600) return relative.format(Math.round(s / 3600), 'hour');
  return relative.format(Math.round(s / 86400), 'day');
}

export const CHANNEL_LABELS: Record<string, string> = { 'Channel::Api': 'API' };
export const channelLabel = (type: string) => CHANNEL_LABELS[type] ?? type.replace(/^Channel::/, '');
