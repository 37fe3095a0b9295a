import crypto from 'node:crypto';
import { WebSocket } from 'ws';
import * as ActionCable from '@rails/actioncable';
import { now } from '../../src/kernel/db.js';
import type { TestServer } from '../support/harness.js';

/**
 * Test helpers around the UNMODIFIED @rails/actioncable client, with `ws` as its WebSocket. Node 20
 * has no window: the client's ConnectionMonitor calls the global add/removeEventListener
 * ('visibilitychange'), so no-op versions are provided when missing.
 */
ActionCable.adapters.WebSocket = WebSocket;
const g = globalThis as Record<string, unknown>;
g.addEventListener ??= () => {};
g.removeEventListener ??= () => {};

export type CableMessage = { event: string; data: any };

export const cableUrl = (h: TestServer) => h.url.replace(/^http/, 'ws') + '/cable';

export type TestSubscription = {
  state: 'connected' | 'rejected';
  sub: ActionCable.Subscription;
  received: CableMessage[];
  /** The first message (already received or coming) with that event and matching `pred`. */
  next(event: string, pred?: (m: CableMessage) => boolean, timeoutMs?: number): Promise<CableMessage>;
  /** Waits `ms` and returns the messages of that event received meanwhile (and before). */
  none(event: string, ms?: number): Promise<CableMessage[]>;
};

const consumers: ActionCable.Consumer[] = [];

export function consumer(h: TestServer | string): ActionCable.Consumer {
  const c = ActionCable.createConsumer(typeof h === 'string' ? h : cableUrl(h));
  consumers.push(c);
  return c;
}

/** Disconnects every consumer the test created (no reconnects afterwards). */
export function disconnectAll() {
  for (const c of consumers.splice(0)) c.disconnect();
}

export async function subscribe(
  c: ActionCable.Consumer,
  params: Record<string, unknown>,
  timeoutMs = 15_000,
): Promise<TestSubscription> {
  const received: CableMessage[] = [];
  const waiters: Array<{ event: string; pred: (m: CableMessage) => boolean; resolve: (m: CableMessage) => void }> = [];
  let settle!: (s: 'connected' | 'rejected') => void;
  const state = new Promise<'connected' | 'rejected'>((r) => (settle = r));
  const sub = c.subscriptions.create(
    { channel: 'RoomChannel', ...params },
    {
      connected: () => settle('connected'),
      rejected: () => settle('rejected'),
      received: (m: CableMessage) => {
        received.push(m);
        for (const w of [...waiters]) {
          if (w.event === m.event && w.pred(m)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      },
    },
  );
  const s = await withTimeout(state, timeoutMs, 'subscription was neither confirmed nor rejected');
  return {
    state: s,
    sub,
    received,
    next(event, pred = () => true, ms = 15_000) {
      const found = received.find((m) => m.event === event && pred(m));
      if (found) return Promise.resolve(found);
      return withTimeout(
        new Promise<CableMessage>((resolve) => waiters.push({ event, pred, resolve })),
        ms,
        `no ${event} within ${ms} ms (got: ${received.map((m) => m.event).join(', ') || 'nothing'})`,
      );
    },
    async none(event, ms = 500) {
      await new Promise((r) => setTimeout(r, ms));
      return received.filter((m) => m.event === event);
    },
  };
}

/** Polls `fn` until it holds; fails after a generous deadline (a loaded machine is slow, never wrong). */
export async function until(fn: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(what)), ms))),
  ]);
}

/** A raw `ws` socket speaking the protocol by hand, recording every frame it receives. */
export type RawSocket = {
  ws: WebSocket;
  frames: any[];
  closed: Promise<{ code: number }>;
  frame(pred: (f: any) => boolean, timeoutMs?: number): Promise<any>;
  send(obj: unknown): void;
};

export function rawSocket(url: string, protocols: string[] = ['actioncable-v1-json', 'actioncable-unsupported']): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const frames: any[] = [];
    const waiters: Array<{ pred: (f: any) => boolean; resolve: (f: any) => void }> = [];
    const closed = new Promise<{ code: number }>((r) => ws.on('close', (code) => r({ code })));
    ws.on('message', (data) => {
      let f: any;
      try {
        f = JSON.parse(String(data));
      } catch {
        f = String(data);
      }
      frames.push(f);
      for (const w of [...waiters]) if (w.pred(f)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(f));
    });
    ws.on('error', reject);
    ws.on('open', () =>
      resolve({
        ws,
        frames,
        closed,
        send: (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)),
        frame(pred, ms = 15_000) {
          const found = frames.find(pred);
          if (found) return Promise.resolve(found);
          return withTimeout(new Promise((r) => waiters.push({ pred, resolve: r })), ms, 'expected frame not received');
        },
      }),
    );
  });
}

/** A contact with one session (contact_inbox) in the inbox, written directly (no API needed). */
export async function insertContactSession(h: TestServer, accountId: number, inboxId: number, opts: { hmacVerified?: boolean; contactId?: number } = {}) {
  const db = h.server.ctx.database.db;
  const t = now();
  const contactId =
    opts.contactId ??
    (
      await db
        .insertInto('contacts')
        .values({
          account_id: accountId,
          name: 'Visitor',
          email: null,
          phone_number: null,
          identifier: null,
          additional_attributes: '{}',
          custom_attributes: '{}',
          blocked: 0,
          contact_type: 0,
          last_activity_at: null,
          created_at: t,
          updated_at: t,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  const pubsub_token = crypto.randomBytes(18).toString('base64url');
  const ci = await db
    .insertInto('contact_inboxes')
    .values({
      contact_id: contactId,
      inbox_id: inboxId,
      source_id: crypto.randomUUID(),
      hmac_verified: opts.hmacVerified ? 1 : 0,
      pubsub_token,
      created_at: t,
      updated_at: t,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { contactId, contactInboxId: ci.id, pubsub_token };
}

/** Through the Application API: a contact with a session in the inbox → `{contactId, sourceId, pubsubToken}`. */
export async function apiContact(h: TestServer, token: string, accountId: number, inboxId: number, name = 'Jane') {
  const r = await h.api('POST', `/api/v1/accounts/${accountId}/contacts`, { token, body: { inbox_id: inboxId, name } });
  if (r.status !== 200) throw new Error(`contact create: ${r.status} ${r.text}`);
  const ci = r.body.payload.contact_inbox;
  return { contactId: r.body.payload.contact.id as number, sourceId: ci.source_id as string, pubsubToken: ci.pubsub_token as string };
}

/** Through the Application API: a conversation for the session → its display_id and internal id. */
export async function apiConversation(h: TestServer, token: string, accountId: number, inboxId: number, contact: { contactId: number; sourceId: string }) {
  const r = await h.api('POST', `/api/v1/accounts/${accountId}/conversations`, {
    token,
    body: { source_id: contact.sourceId, inbox_id: inboxId, contact_id: contact.contactId },
  });
  if (r.status !== 200) throw new Error(`conversation create: ${r.status} ${r.text}`);
  const row = await h.server.ctx.database.db
    .selectFrom('conversations')
    .select('id')
    .where('account_id', '=', accountId)
    .where('display_id', '=', r.body.id)
    .executeTakeFirstOrThrow();
  return { displayId: r.body.id as number, id: row.id };
}

export async function apiMessage(h: TestServer, token: string, accountId: number, displayId: number, body: Record<string, unknown>) {
  const r = await h.api('POST', `/api/v1/accounts/${accountId}/conversations/${displayId}/messages`, { token, body });
  if (r.status !== 200) throw new Error(`message create: ${r.status} ${r.text}`);
  return r.body;
}
