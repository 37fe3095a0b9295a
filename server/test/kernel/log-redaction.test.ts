import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger, createServer, redactUrl, type Server } from '../../src/server.js';
import { redactFields, redactText } from '../../src/kernel/redact.js';
import { dropPgSchema, ensurePgSchema } from '../../src/kernel/db.js';
import { setupAccount } from '../../src/accounts/setup.js';
import { findInbox, insertApiInbox } from '../../src/inboxes/repository.js';
import { describeEachDb, type DialectName } from '../support/harness.js';

/** Issue 9 item 5: no credential reaches a log line, in one place (src/kernel/redact.ts, applied by createLogger). */

const R = '[redacted]';

describe('redactUrl', () => {
  it('masks credential-like query parameters, whatever their case, encoding, brackets or repetition', () => {
    expect(redactUrl('/a?identifier_hash=S1&x=1')).toBe(`/a?identifier_hash=${R}&x=1`);
    expect(redactUrl('/a?IDENTIFIER_HASH=S1&Api_Access_Token=S2')).toBe(`/a?IDENTIFIER_HASH=${R}&Api_Access_Token=${R}`);
    expect(redactUrl('/a?contact[identifier_hash]=S1&contact[name]=Ann')).toBe(`/a?contact[identifier_hash]=${R}&contact[name]=Ann`);
    expect(redactUrl('/a?contact%5Bidentifier_hash%5D=S1')).toBe(`/a?contact%5Bidentifier_hash%5D=${R}`);
    expect(redactUrl('/a?identifier%5Fhash=S1&identifier%255Fhash=S2')).toBe(`/a?identifier%5Fhash=${R}&identifier%255Fhash=${R}`);
    expect(redactUrl('/a?token=S1&token=S2&token[]=S3')).toBe(`/a?token=${R}&token=${R}&token[]=${R}`);
    expect(redactUrl('/a?access_token=S1;pubsub_token=S2')).toBe(`/a?access_token=${R};pubsub_token=${R}`);
    expect(redactUrl('/a?http_api_access_token=S1&Authorization=S2&cookie=S3&password=S4')).toBe(
      `/a?http_api_access_token=${R}&Authorization=${R}&cookie=${R}&password=${R}`,
    );
    expect(redactUrl('/a?reset_password_token=S1&webhook-secret=S2&x_api_key=S3')).toBe(`/a?reset_password_token=${R}&webhook-secret=${R}&x_api_key=${R}`);
    expect(redactUrl('/a?before=12&page=2&q=token')).toBe('/a?before=12&page=2&q=token');
    expect(redactUrl('/a?token=&identifier_hash')).toBe('/a?token=&identifier_hash');
    expect(redactUrl('/a?x=1#access_token=S1')).toBe(`/a?x=1#access_token=${R}`);
  });

  it('keeps the path masks: invitation tokens and the client API source_id', () => {
    expect(redactUrl('/auth/invitations/abc123?x=1')).toBe(`/auth/invitations/${R}?x=1`);
    expect(redactUrl('//auth//invitations/abc123')).toBe(`//auth//invitations/${R}`);
    expect(redactUrl('/api/v1/profile')).toBe('/api/v1/profile');
    expect(redactUrl('/public/api/v1/inboxes/inbx/contacts/src-123/conversations/4?identifier_hash=H')).toBe(
      `/public/api/v1/inboxes/inbx/contacts/${R}/conversations/4?identifier_hash=${R}`,
    );
    expect(redactUrl('/public/api/v1/inboxes/inbx/contacts?identifier_hash=H')).toBe(`/public/api/v1/inboxes/inbx/contacts?identifier_hash=${R}`);
  });

  it('masks the user-info and credential parameters of absolute URLs (callback URLs)', () => {
    expect(redactUrl('https://user:pass@hooks.example.com/cb?token=T&ok=1')).toBe(`https://${R}@hooks.example.com/cb?token=${R}&ok=1`);
    expect(redactUrl('http://only-user@h:8080/')).toBe(`http://${R}@h:8080/`);
    expect(redactUrl('https://hooks.example.com/cb')).toBe('https://hooks.example.com/cb');
  });
});

describe('redactText and redactFields', () => {
  it('mask URLs, authorization schemes and name=value credentials inside free text', () => {
    const text = redactText('POST https://u:SECRETPW@h.example/x?api_key=K1 failed: Bearer ABCDEF123456, password=hunter22 count=3');
    for (const s of ['SECRETPW', 'K1', 'ABCDEF123456', 'hunter22']) expect(text).not.toContain(s);
    expect(text).toContain('count=3');
    expect(text).toContain('h.example/x');
  });

  it('mask credential-named fields of plain objects without touching the original', () => {
    const obj = { body: { password: 'P1', contact: { identifier_hash: 'H1', name: 'Ann' } }, list: [{ token: 'T1' }], n: 1 };
    const copy = JSON.parse(JSON.stringify(obj));
    const out = redactFields(obj);
    expect(out).toEqual({ body: { password: R, contact: { identifier_hash: R, name: 'Ann' } }, list: [{ token: R }], n: 1 });
    expect(obj).toEqual(copy);
  });
});

/** A server whose log lines (at trace level, every line) are captured in memory. */
async function startLoggedServer(dialect: DialectName, lines: string[]) {
  let databaseUrl: string;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-logs-'));
    databaseUrl = `sqlite:${path.join(dir, 'log.sqlite')}`;
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  } else {
    const base = inject('pgUrl')!;
    const schema = `t_logs_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
    await ensurePgSchema(base, schema);
    databaseUrl = `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    cleanup = () => dropPgSchema(base, schema);
  }
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'trace',
    WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true',
    WEBHOOK_TIMEOUT_MS: '2000',
  });
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const server: Server = await createServer(config, { log: createLogger(config, { destination }), pollMs: 50 });
  const url = (await server.listen()).replace('[::1]', '127.0.0.1');
  return { server, url, close: async () => (await server.close(), await cleanup()) };
}

describeEachDb('request and worker logs carry no credential', (dialect) => {
  const lines: string[] = [];
  let s: Awaited<ReturnType<typeof startLoggedServer>>;
  beforeAll(async () => {
    s = await startLoggedServer(dialect, lines);
  });
  afterAll(() => s?.close());

  it('no secret from a query string, header, cookie, path or body reaches a line; the URLs are still logged, masked', async () => {
    const db = s.server.ctx.database.db;
    const password = `PW-${crypto.randomBytes(6).toString('hex')}`;
    const setup = await setupAccount(s.server.ctx.database, { account: 'Logs', name: 'Admin', email: `logs-${dialect}@example.com`, password });
    // A callback URL with credentials: the worker tries it (nothing listens on port 9) and logs the attempt.
    const cbUser = `cbuser${crypto.randomBytes(3).toString('hex')}`;
    const cbPass = `CBPASS${crypto.randomBytes(4).toString('hex')}`;
    const cbToken = `CBTOKEN${crypto.randomBytes(4).toString('hex')}`;
    const inboxId = await insertApiInbox(db, setup.account_id, { name: 'Logs', webhook_url: `http://${cbUser}:${cbPass}@127.0.0.1:9/cb?token=${cbToken}` });
    const inbox = (await findInbox(db, setup.account_id, inboxId))!;
    const hash = crypto.createHmac('sha256', inbox.hmac_token).update('log-user').digest('hex');
    const wrongHashes = ['W1', 'W2', 'W3', 'W4', 'W5'].map((w) => `${w}${crypto.randomBytes(8).toString('hex')}`);
    const invite = `INVITE${crypto.randomBytes(8).toString('hex')}`;
    const fake = `FAKETOKEN${crypto.randomBytes(8).toString('hex')}`;

    const call = async (method: string, p: string, opts: { headers?: Record<string, string>; body?: unknown } = {}) => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.body !== undefined && typeof opts.body !== 'string') headers['content-type'] ??= 'application/json';
      const res = await fetch(`${s.url}${p}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
      });
      const text = await res.text();
      return { status: res.status, text, json: text ? JSON.parse(text) : null, headers: res.headers };
    };
    const pub = `/public/api/v1/inboxes/${inbox.identifier}`;

    // Client API: identifier_hash in the query string and the body (a valid hash is a permanent login).
    const contact = await call('POST', `${pub}/contacts?identifier_hash=${hash}`, { body: { identifier: 'log-user', identifier_hash: hash, name: 'Log User' } });
    expect(contact.status, contact.text).toBe(200);
    const sourceId = contact.json.source_id as string;
    const contactPubsub = contact.json.pubsub_token as string;
    await call('POST', `${pub}/contacts?contact[identifier_hash]=${wrongHashes[0]}&IDENTIFIER_HASH=${wrongHashes[1]}`, { body: { name: 'x' } });
    await call('POST', `${pub}/contacts?identifier%5Fhash=${wrongHashes[2]}&identifier_hash=${wrongHashes[3]}&identifier_hash=${wrongHashes[4]}`, { body: {} });
    await call('POST', `${pub}/contacts`, { body: 'identifier=log-user&identifier_hash=' + hash, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const conv = await call('POST', `${pub}/contacts/${sourceId}/conversations?identifier_hash=${hash}`, { body: {} });
    expect(conv.status, conv.text).toBe(200);
    const msg = await call('POST', `${pub}/contacts/${sourceId}/conversations/${conv.json.id}/messages`, { body: { content: 'hello', identifier_hash: hash } });
    expect(msg.status, msg.text).toBe(200);
    await call('GET', `${pub}/contacts/${sourceId}?identifier_hash=${hash}`);

    // Application API: tokens in the query string, the token headers, Authorization and a session cookie.
    await call('GET', `/api/v1/profile?api_access_token=${setup.access_token}`);
    await call('GET', `/api/v1/accounts/${setup.account_id}/inboxes?access_token=${setup.access_token}&token=${fake}`);
    expect((await call('GET', '/api/v1/profile', { headers: { api_access_token: setup.access_token } })).status).toBe(200);
    expect((await call('GET', '/api/v1/profile', { headers: { http_api_access_token: setup.access_token } })).status).toBe(200);
    expect((await call('GET', '/api/v1/profile', { headers: { authorization: `Bearer ${setup.access_token}` } })).status).toBe(200);
    // Sign-in: the password in the body, the session cookie in Set-Cookie, then sent back as Cookie.
    const signIn = await call('POST', '/auth/sign_in', { body: { email: `logs-${dialect}@example.com`, password } });
    expect(signIn.status, signIn.text).toBe(200);
    const setCookie = signIn.headers.get('set-cookie') ?? '';
    const cookieValue = setCookie.split(';')[0].split('=').slice(1).join('=');
    expect(cookieValue.length).toBeGreaterThan(10);
    await call('GET', '/api/v1/profile', { headers: { cookie: `channelx_session=${cookieValue}` } });
    // Real-time: pubsub tokens in the query string.
    await call('GET', `/cable?pubsub_token=${setup.pubsub_token}&token=${contactPubsub}`);
    // One-time invitation token in the path.
    await call('GET', `/auth/invitations/${invite}`);
    await call('POST', `/auth/invitations/${invite}?token=${invite}`, { body: { password } });
    // Code that logs objects, errors and messages through the same logger.
    s.server.ctx.log.warn(
      { body: { password, identifier_hash: hash }, headers: { authorization: `Bearer ${setup.access_token}` }, url: `https://${cbUser}:${cbPass}@h.example/?token=${cbToken}` },
      `while calling https://${cbUser}:${cbPass}@h.example/?access_token=${setup.access_token}`,
    );
    s.server.ctx.log.error({ err: new Error(`boom at http://x.example/?identifier_hash=${hash} with Bearer ${setup.access_token}`) }, 'unhandled error');

    // The webhook worker has tried the callback URL (message_created) and logged the attempt.
    const deadline = Date.now() + 30_000;
    while (!lines.some((l) => l.includes('webhook attempt')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const text = lines.join('');
    expect(text).toContain('webhook attempt');
    const secrets: Record<string, string> = {
      'identifier hash': hash,
      'access token': setup.access_token,
      'user pubsub_token': setup.pubsub_token,
      'contact pubsub_token': contactPubsub,
      'contact source_id': sourceId,
      password,
      'session cookie': cookieValue,
      'invitation token': invite,
      'a token-like query value': fake,
      'hmac_token': inbox.hmac_token,
      'callback password': cbPass,
      'callback user': cbUser,
      'callback token': cbToken,
      ...Object.fromEntries(wrongHashes.map((w, i) => [`presented hash ${i}`, w])),
    };
    const leaks = Object.entries(secrets)
      .filter(([, v]) => text.includes(v))
      .map(([k]) => k);
    expect(leaks).toEqual([]);
    // …and the request lines are still there, masked.
    expect(text).toContain('incoming request');
    expect(text).toContain(`${pub}/contacts?identifier_hash=${R}`);
    expect(text).toContain(`${pub}/contacts?contact[identifier_hash]=${R}&IDENTIFIER_HASH=${R}`);
    expect(text).toContain(`${pub}/contacts/${R}/conversations?identifier_hash=${R}`);
    expect(text).toContain(`/api/v1/profile?api_access_token=${R}`);
    expect(text).toContain(`/cable?pubsub_token=${R}&token=${R}`);
    expect(text).toContain(`/auth/invitations/${R}`);
    expect(text).toContain('h.example');
  });
});
