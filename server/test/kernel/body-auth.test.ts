import http from 'node:http';
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { counts, createConversation, scene, type Scene } from '../support/conversations.js';

/**
 * Issue 9 item 6: authentication and authorization run before any body byte is read; multipart
 * bodies are streamed and bounded; files are refused (422 `attachments`) on both message APIs; the
 * body limit covers every content type (413 JSON).
 */

const LIMIT = 128 * 1024;

type Sent = { status: number; body: any; headers: http.IncomingHttpHeaders; written: number; total: number };

/**
 * POSTs a multipart body whose file part is `total` bytes long over a raw connection, writing only
 * while the server reads (backpressure) and stopping as soon as the answer arrives. A server that
 * answers before reading the body gets its answer with most of the body unwritten; one that reads
 * (or buffers) the body first only answers after all of it was written. No timing involved.
 */
function uploadUntilAnswered(h: TestServer, path: string, opts: { token?: string; total: number; chunked?: boolean }): Promise<Sent> {
  const { port } = new URL(h.url);
  const boundary = `----bodyauth${crypto.randomBytes(6).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\nhello\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="attachments[]"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  if (opts.token) headers.api_access_token = opts.token;
  if (!opts.chunked) headers['content-length'] = String(head.length + opts.total + tail.length);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: false });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        req.destroy();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode!, body, headers: res.headers, written, total: opts.total });
      });
    });
    // Once answered, the server may close the connection while we still write: not an error here.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.write(head);
    const pump = () => {
      while (!answered && written < opts.total) {
        written += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end(tail);
    };
    pump();
  });
}

/** A multipart body from fields and files (`files` values are the file contents). */
function multipart(fields: Record<string, string>, files: Record<string, string> = {}) {
  const boundary = `----bodyauth${crypto.randomBytes(6).toString('hex')}`;
  const parts = [
    ...Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
    ...Object.entries(files).map(
      ([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"; filename="note.txt"\r\nContent-Type: text/plain\r\n\r\n${v}\r\n`,
    ),
  ];
  return { body: parts.join('') + `--${boundary}--\r\n`, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describeEachDb('bodies are read only after authentication, and bounded', (dialect) => {
  let h: TestServer;
  let s: Scene;
  let conv: { id: number };
  let pub: string;
  beforeAll(async () => {
    h = await startTestServer(dialect, { BODY_LIMIT_BYTES: String(LIMIT) });
    s = await scene(h);
    conv = await createConversation(h, s);
    const base = `/public/api/v1/inboxes/${s.inbox.identifier}`;
    const contact = await h.api('POST', `${base}/contacts`, { body: { name: 'Visitor' } });
    expect(contact.status, contact.text).toBe(200);
    const pconv = await h.api('POST', `${base}/contacts/${contact.body.source_id}/conversations`, { body: {} });
    expect(pconv.status, pconv.text).toBe(200);
    pub = `${base}/contacts/${contact.body.source_id}/conversations/${pconv.body.id}/messages`;
  });
  afterAll(() => h?.close());

  describe('authentication before the body', () => {
    const TOTAL = 32 * 1024 * 1024;

    it('an unauthenticated multipart upload to an account route is a 401 before its body is read', async () => {
      for (const chunked of [false, true]) {
        const r = await uploadUntilAnswered(h, `${s.base}/conversations/${conv.id}/messages`, { total: TOTAL, chunked });
        expect(r.status, JSON.stringify(r.body)).toBe(401);
        expect(r.body).toEqual({ error: 'Invalid Access Token' });
        expect(r.written, `chunked=${chunked}: the server read the whole body before answering`).toBeLessThan(r.total);
      }
    });

    it("another account's user and an agent on an administrator route are refused before the body too", async () => {
      const other = await h.account();
      const foreign = await uploadUntilAnswered(h, `${s.base}/conversations/${conv.id}/messages`, { token: other.admin.token, total: TOTAL });
      expect(foreign.status).toBe(401);
      expect(foreign.written).toBeLessThan(foreign.total);
      const agent = await h.user(s.accountId, { role: 'agent' });
      for (const route of ['inboxes', 'webhooks']) {
        const admin = await uploadUntilAnswered(h, `${s.base}/${route}`, { token: agent.token, total: TOTAL });
        expect(admin.status, route).toBe(401);
        expect(admin.body).toEqual({ error: 'You are not authorized to do this action' });
        expect(admin.written, `${route}: the server read the whole body before refusing an agent`).toBeLessThan(admin.total);
      }
    });

    it('an authenticated upload is refused at its file part (422 attachments), before the file is read', async () => {
      const r = await uploadUntilAnswered(h, `${s.base}/conversations/${conv.id}/messages`, { token: s.admin.token, total: TOTAL, chunked: true });
      expect(r.status, JSON.stringify(r.body)).toBe(422);
      expect(r.body.attributes).toEqual(['attachments']);
      expect(r.written).toBeLessThan(r.total);
    });
  });

  describe('files are not silently dropped', () => {
    it('a message with a file is a 422 naming attachments on the Application API, and nothing is written', async () => {
      const before = await counts(h);
      for (const name of ['attachments[]', 'attachments']) {
        const mp = multipart({ content: 'with a file' }, { [name]: 'file content' });
        const r = await h.api('POST', `${s.base}/conversations/${conv.id}/messages`, { token: s.admin.token, body: mp.body, headers: mp.headers });
        expect(r.status, r.text).toBe(422);
        expect(r.body.attributes).toEqual(['attachments']);
        expect(r.body.error).toMatch(/attachments/);
      }
      // a conversation opened with a first message carrying a file
      const first = multipart({ inbox_id: String(s.inbox.id), 'message[content]': 'hi' }, { 'message[attachments][]': 'file content' });
      const opened = await h.api('POST', `${s.base}/conversations`, { token: s.admin.token, body: first.body, headers: first.headers });
      expect(opened.status, opened.text).toBe(422);
      expect(opened.body.attributes).toEqual(['message.attachments']);
      // upload references in JSON are refused the same way
      const json = await h.api('POST', `${s.base}/conversations/${conv.id}/messages`, { token: s.admin.token, body: { content: 'x', attachments: ['signed-id'] } });
      expect(json.status, json.text).toBe(422);
      expect(json.body.attributes).toEqual(['attachments']);
      expect(await counts(h)).toEqual(before);
      // the same message without the file is fine
      const ok = multipart({ content: 'no file' });
      const r = await h.api('POST', `${s.base}/conversations/${conv.id}/messages`, { token: s.admin.token, body: ok.body, headers: ok.headers });
      expect(r.status, r.text).toBe(200);
      expect(r.body.content).toBe('no file');
    });

    it('a message with a file is a 422 naming attachments on the client API, and nothing is written', async () => {
      const before = await counts(h);
      const mp = multipart({ content: 'with a file' }, { 'attachments[]': 'file content' });
      const r = await h.api('POST', pub, { body: mp.body, headers: mp.headers });
      expect(r.status, r.text).toBe(422);
      expect(r.body.attributes).toEqual(['attachments']);
      expect(await counts(h)).toEqual(before);
      const ok = multipart({ content: 'no file' });
      expect((await h.api('POST', pub, { body: ok.body, headers: ok.headers })).status).toBe(200);
    });

    it('an empty file input (filename "" and no bytes, as browsers send it) is not a file', async () => {
      const boundary = '----emptyfile';
      const body =
        `--${boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\nempty input\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="attachments[]"; filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n` +
        `--${boundary}--\r\n`;
      const r = await h.api('POST', `${s.base}/conversations/${conv.id}/messages`, {
        token: s.admin.token,
        body,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      });
      expect(r.status, r.text).toBe(200);
    });
  });

  describe('the body limit covers every content type', () => {
    const big = 'x'.repeat(LIMIT + 1024);

    it('413 JSON for JSON, urlencoded, multipart (declared, streamed, many small fields) and text bodies', async () => {
      const url = `${s.base}/conversations/${conv.id}/messages`;
      const manyFields = multipart(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, 'y'.repeat(512)])));
      const cases: Array<{ what: string; body: string; headers: Record<string, string> }> = [
        { what: 'json', body: JSON.stringify({ content: big }), headers: { 'content-type': 'application/json' } },
        { what: 'urlencoded', body: `content=${big}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
        { what: 'multipart one field', ...multipart({ content: big }) },
        { what: 'multipart many fields', ...manyFields },
        { what: 'text', body: big, headers: { 'content-type': 'text/plain' } },
      ];
      const before = await counts(h);
      for (const c of cases) {
        const r = await h.api('POST', url, { token: s.admin.token, body: c.body, headers: c.headers });
        expect(r.status, `${c.what}: ${r.text.slice(0, 200)}`).toBe(413);
        expect(r.body).toEqual({ error: expect.any(String) });
      }
      expect(await counts(h)).toEqual(before);
    });

    it('a streamed multipart body (no Content-Length) is cut off at the limit with a 413', async () => {
      // a file part would be refused as a file first: stream a huge field instead
      const { port } = new URL(h.url);
      const boundary = '----streamed';
      const r = await new Promise<{ status: number; body: any; written: number }>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `${s.base}/conversations/${conv.id}/messages`,
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, api_access_token: s.admin.token },
          agent: false,
        });
        let written = 0;
        let answered = false;
        const total = 32 * 1024 * 1024;
        req.on('response', (res) => {
          answered = true;
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode!, body: JSON.parse(text), written });
          });
        });
        req.on('error', (err) => {
          if (!answered) reject(err);
        });
        req.write(`--${boundary}\r\nContent-Disposition: form-data; name="content"\r\n\r\n`);
        const chunk = Buffer.alloc(64 * 1024, 0x62);
        const pump = () => {
          while (!answered && written < total) {
            written += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          if (!answered) req.end(`\r\n--${boundary}--\r\n`);
        };
        pump();
      });
      expect(r.status).toBe(413);
      expect(r.body).toEqual({ error: 'Request body is too large' });
      expect(r.written).toBeLessThan(32 * 1024 * 1024);
    });

    it('the client API keeps its tighter limits per route', async () => {
      const contacts = `/public/api/v1/inboxes/${s.inbox.identifier}/contacts`;
      const mp = multipart({ name: 'n'.repeat(LIMIT) });
      const r = await h.api('POST', contacts, { body: mp.body, headers: mp.headers });
      expect(r.status, r.text).toBe(413);
    });
  });
});
