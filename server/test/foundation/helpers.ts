import crypto from 'node:crypto';
import type { ApiResponse, TestServer } from '../support/harness.js';

export const PASSWORD = 'password123';

let ipSeq = 0;
/** A fresh client address per call (the app trusts X-Forwarded-For), so per-IP sign-in limits do not interfere between tests. */
export const freshIp = () => `10.${(process.pid >> 8) & 255}.${(ipSeq >> 8) & 255}.${ipSeq++ & 255}`;

/** The `name=value` part of the session cookie in a response, or undefined. */
export function sessionCookie(res: ApiResponse): string | undefined {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [String(raw)] : [];
  const c = list.find((s) => s.startsWith('channelx_session='));
  return c?.split(';')[0];
}

export function setCookieHeader(res: ApiResponse): string {
  const raw = res.headers['set-cookie'];
  return (Array.isArray(raw) ? raw : [String(raw ?? '')]).join('\n');
}

export async function signIn(h: TestServer, email: string, password = PASSWORD, ip = freshIp()) {
  return h.api('POST', '/auth/sign_in', { body: { email, password }, headers: { 'x-forwarded-for': ip } });
}

/** A multipart/form-data body from flat fields (keys may use the Rails bracket convention). */
export function multipart(fields: Record<string, string>): { body: string; headers: Record<string, string> } {
  const boundary = '----channelx' + crypto.randomBytes(8).toString('hex');
  const parts = Object.entries(fields).map(
    ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
  );
  return { body: parts.join('') + `--${boundary}--\r\n`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export function urlencoded(fields: Record<string, string>): { body: string; headers: Record<string, string> } {
  return { body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
}

/** Row counts of the tables a failed request must not have written to. */
export async function counts(h: TestServer) {
  const db = h.server.ctx.database.db;
  const n = async (t: 'users' | 'account_users' | 'inboxes' | 'channel_api' | 'inbox_members' | 'invitations' | 'events') =>
    Number((await db.selectFrom(t).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  return {
    users: await n('users'),
    account_users: await n('account_users'),
    inboxes: await n('inboxes'),
    channel_api: await n('channel_api'),
    inbox_members: await n('inbox_members'),
    invitations: await n('invitations'),
    events: await n('events'),
  };
}
