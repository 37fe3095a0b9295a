import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger, createServer, redactUrl } from '../../src/server.js';
import { setupAccount } from '../../src/accounts/setup.js';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';

/** Secrets never reach an agent's responses, nor the request log. */

describeEachDb('secrets stay out of agent responses', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect, { PUBLIC_API_LIMIT_PER_IP: '1000000', PUBLIC_API_LIMIT_PER_INBOX: '1000000' });
  });
  afterAll(() => h?.close());

  it('no GET route shows an agent a token, hmac_token or secret that is not its own', async () => {
    const { accountId, admin } = await h.account();
    const agent = await h.user(accountId, { role: 'agent' });
    const peer = await h.user(accountId, { role: 'agent' });
    const inbox = await h.inbox(accountId, { members: [agent.id, peer.id], hmac_mandatory: false });
    const base = `/api/v1/accounts/${accountId}`;
    const c = await h.api('POST', `${base}/contacts`, { token: admin.token, body: { name: 'C', inbox_id: inbox.id } });
    const conv = await h.api('POST', `${base}/conversations`, { token: admin.token, body: { source_id: c.body.payload.contact_inbox.source_id } });
    await h.api('POST', `${base}/conversations/${conv.body.id}/messages`, { token: admin.token, body: { content: 'hi' } });
    const wh = await h.api('POST', `${base}/webhooks`, { token: admin.token, body: { url: 'https://example.com/x', subscriptions: ['message_created'] } });
    expect(wh.status, wh.text).toBe(200);
    const pc = await h.api('POST', `/public/api/v1/inboxes/${inbox.identifier}/contacts`, { body: { name: 'P' } });
    await h.api('POST', `/public/api/v1/inboxes/${inbox.identifier}/contacts/${pc.body.source_id}/conversations`, { body: {} });

    const secrets: Record<string, string> = {
      'admin access token': admin.token,
      'admin pubsub_token': admin.pubsub_token,
      'peer access token': peer.token,
      'peer pubsub_token': peer.pubsub_token,
      hmac_token: inbox.hmac_token,
      'inbox secret': inbox.secret,
      'webhook secret': JSON.stringify(wh.body).match(/whsec_[A-Za-z0-9+/=]+/)?.[0] ?? 'whsec_missing',
      'contact pubsub_token': pc.body.pubsub_token,
    };
    const ids: Record<string, string> = {
      account_id: String(accountId),
      inbox_id: String(inbox.id),
      conversation_id: String(conv.body.id),
      id: '',
    };
    const doc = await h.api('GET', '/api-docs/json');
    const leaks: string[] = [];
    let checked = 0;
    for (const [p, item] of Object.entries<any>(doc.body.paths)) {
      if (!item.get || !p.startsWith('/api/v1')) continue;
      const idFor = (n: string) => {
        if (n !== 'id') return ids[n];
        if (p.includes('/inboxes/')) return String(inbox.id);
        if (p.includes('/contacts/')) return String(c.body.payload.contact.id);
        if (p.includes('/webhooks/')) return String(wh.body.payload?.webhook?.id ?? wh.body.id);
        return String(conv.body.id);
      };
      const url = p.replace(/\{(\w+)\}/g, (_, n) => idFor(n));
      const r = await h.api('GET', url, { token: agent.token });
      if (r.status === 200) checked++;
      for (const [name, value] of Object.entries(secrets)) if (r.text.includes(value)) leaks.push(`${url}: ${name}`);
    }
    expect(checked).toBeGreaterThan(8);
    expect(leaks).toEqual([]);
    // The values scanned for are the real ones: an administrator does see the inbox's.
    const asAdmin = await h.api('GET', `${base}/inboxes/${inbox.id}`, { token: admin.token });
    expect(asAdmin.text).toContain(inbox.hmac_token);
    expect(asAdmin.text).toContain(inbox.secret);
  });
});

describe('the request log', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-log-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('masks invitation tokens in URLs', () => {
    expect(redactUrl('/auth/invitations/abc123?x=1')).toBe('/auth/invitations/[redacted]?x=1');
    expect(redactUrl('//auth//invitations/abc123')).toBe('//auth//invitations/[redacted]');
    expect(redactUrl('/api/v1/profile')).toBe('/api/v1/profile');
    expect(redactUrl('/public/api/v1/inboxes/inbx/contacts/src-123/conversations/4')).toBe('/public/api/v1/inboxes/inbx/contacts/[redacted]/conversations/4');
    expect(redactUrl('/public/api/v1/inboxes/inbx/contacts')).toBe('/public/api/v1/inboxes/inbx/contacts');
  });

  it('never carries tokens, passwords or invitation tokens', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `sqlite:${path.join(dir, 'log.sqlite')}`, LOG_LEVEL: 'trace' });
    const server = await createServer(config, { log: createLogger(config, { destination }) });
    let accessToken = '';
    try {
      const setup = await setupAccount(server.ctx.database, { account: 'A', name: 'Admin', email: 'log@example.com', password: 'password123' });
      accessToken = setup.access_token;
      const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) =>
        server.app.inject({ method: method as 'GET', url, headers, payload: payload as string });
      await inject('GET', '/api/v1/profile', { api_access_token: setup.access_token });
      await inject('GET', '/api/v1/profile', { authorization: `Bearer ${setup.access_token}` });
      await inject('GET', '/auth/invitations/INVITE_SECRET_123');
      await inject('POST', '/auth/invitations/INVITE_SECRET_123', { 'content-type': 'application/json' }, JSON.stringify({ password: 'PASSWORD_XYZ_1' }));
      await inject('POST', '/auth/sign_in', { 'content-type': 'application/json' }, JSON.stringify({ email: 'log@example.com', password: 'PASSWORD_XYZ_2' }));
    } finally {
      await server.close();
    }
    const text = lines.join('');
    expect(text).toContain('incoming request');
    expect(text).toContain('/auth/invitations/[redacted]');
    for (const secret of [accessToken, 'INVITE_SECRET_123', 'PASSWORD_XYZ_1', 'PASSWORD_XYZ_2']) expect(text).not.toContain(secret);
  });
});
