import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_RATE_LIMITS, describeEachDb, startTestServer, type ApiResponse, type TestServer } from '../support/harness.js';
import { counts } from '../support/conversations.js';
import { inspectValue, MAX_DEPTH, MAX_NODES, scanJsonText, type JsonLimits } from '../../src/kernel/json-limits.js';
import { nestParams } from '../../src/kernel/http.js';

/**
 * Issue 9 item 2: JSON nested deeper than MAX_DEPTH or with more than MAX_NODES keys + elements is a
 * 422 naming the field on every route (JSON, urlencoded, multipart bodies, query strings, JSON
 * strings inside fields), never a 500; nothing past the limits is stored.
 */

/** `{"a":{"a":…1…}}` with `levels` objects. */
const nested = (levels: number, leaf = '1') => '{"a":'.repeat(levels) + leaf + '}'.repeat(levels);
const nestedValue = (levels: number): unknown => JSON.parse(nested(levels));
/** About 54 KB nested 9 000 deep: the review's body. */
const DEEP = nested(9000);
const WIDE = `[${Array(MAX_NODES + 1).fill(0).join(',')}]`;

describe('the limits themselves', () => {
  it('count depth and keys + elements the same way on text and on built values, at the boundary', () => {
    const at = (depth: number) => nested(depth - 1, '[]'); // depth - 1 objects around an empty array
    expect(scanJsonText(at(MAX_DEPTH))).toBeNull();
    expect(inspectValue(JSON.parse(at(MAX_DEPTH)))).toBeNull();
    expect(scanJsonText(at(MAX_DEPTH + 1))?.kind).toBe('depth');
    expect(inspectValue(JSON.parse(at(MAX_DEPTH + 1)))?.kind).toBe('depth');
    const elements = (n: number) => `{"k":[${Array(n - 1).fill('1').join(',')}]}`; // 1 key + n - 1 elements
    expect(scanJsonText(elements(MAX_NODES))).toBeNull();
    expect(inspectValue(JSON.parse(elements(MAX_NODES)))).toBeNull();
    expect(scanJsonText(elements(MAX_NODES + 1))?.kind).toBe('nodes');
    expect(inspectValue(JSON.parse(elements(MAX_NODES + 1)))?.kind).toBe('nodes');
  });

  it('ignore brackets inside strings and name the path of the offending container', () => {
    const tricky = JSON.stringify({ s: '[[[[{{{{"\\'.repeat(100), k: { 'x[y]': '"}]' } });
    expect(scanJsonText(tricky, { depth: 2, nodes: 10 })).toBeNull();
    const v = scanJsonText(`{"contact":{"custom_attributes":${DEEP}}}`);
    expect(v?.kind).toBe('depth');
    expect(v?.path.slice(0, 3)).toEqual(['contact', 'custom_attributes', 'a']);
    expect(scanJsonText(`{"items":[1,2,{"x":[${DEEP}]}]}`)?.path.slice(0, 4)).toEqual(['items', 2, 'x', 0]);
  });

  it('agree with each other on generated values (fixed seed, bounded runs)', () => {
    let seed = 0x9e3779b9;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const strings = ['', 'a', '[', ']', '{', '}', '"', '\\', ',', ':', '[{"x":1}]', 'é💩', '\u0000'];
    const gen = (depth: number): unknown => {
      const r = rand();
      if (depth > 6 || r < 0.3) return pick<unknown>([0, -1.5e3, true, false, null, pick(strings)]);
      const n = Math.floor(rand() * 4);
      if (r < 0.65) return Array.from({ length: n }, () => gen(depth + 1));
      return Object.fromEntries(Array.from({ length: n }, (_, i) => [`${pick(strings)}${i}`, gen(depth + 1)]));
    };
    const limits: JsonLimits = { depth: 4, nodes: 12 };
    let refused = 0;
    for (let run = 0; run < 500; run++) {
      const value = gen(0);
      const text = JSON.stringify(value, null, run % 3 === 0 ? 1 : undefined);
      const byText = scanJsonText(text, limits);
      const byValue = inspectValue(value, limits);
      expect(byText === null, `${text} → ${JSON.stringify(byText)} vs ${JSON.stringify(byValue)}`).toBe(byValue === null);
      if (byText) refused++;
    }
    // both sides of the limits were exercised
    expect(refused).toBeGreaterThan(50);
    expect(refused).toBeLessThan(450);
  });

  it('nestParams refuses bracket keys nested too deep and too many entries before building them', () => {
    expect(() => nestParams([[`a${'[b]'.repeat(MAX_DEPTH)}`, '1']])).toThrow(/nested too deeply/);
    expect(nestParams([[`a${'[b]'.repeat(MAX_DEPTH - 1)}`, '1']])).toHaveProperty('a.b.b');
    expect(() => nestParams(Array.from({ length: MAX_NODES + 1 }, (_, i) => [`k${i}`, '1'] as [string, string]))).toThrow(/too many/);
  });
});

type Op = { method: string; path: string; prop: string; open: boolean };

describeEachDb('JSON depth and size are limited at the edge', (dialect) => {
  let h: TestServer;
  let ops: Op[] = [];
  const ids: Record<string, string> = {};
  let token = '';
  let base = '';
  let pub = '';

  beforeAll(async () => {
    h = await startTestServer(dialect, {
      ...NO_RATE_LIMITS,
    });
    const { accountId, admin } = await h.account();
    const inbox = await h.inbox(accountId, { hmac_mandatory: false });
    token = admin.token;
    base = `/api/v1/accounts/${accountId}`;
    const c = await h.api('POST', `${base}/contacts`, { token, body: { name: 'Limits', inbox_id: inbox.id } });
    expect(c.status, c.text).toBe(200);
    const conv = await h.api('POST', `${base}/conversations`, { token, body: { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inbox.id } });
    expect(conv.status, conv.text).toBe(200);
    const msg = await h.api('POST', `${base}/conversations/${conv.body.id}/messages`, { token, body: { content: 'hello' } });
    expect(msg.status, msg.text).toBe(200);
    const pc = await h.api('POST', `/public/api/v1/inboxes/${inbox.identifier}/contacts`, { body: { name: 'Visitor' } });
    expect(pc.status, pc.text).toBe(200);
    pub = `/public/api/v1/inboxes/${inbox.identifier}/contacts/${pc.body.source_id}`;
    const pconv = await h.api('POST', `${pub}/conversations`, { body: {} });
    expect(pconv.status, pconv.text).toBe(200);
    Object.assign(ids, {
      account_id: String(accountId),
      inbox_id: String(inbox.id),
      contact_id: String(c.body.payload.contact.id),
      conversation_id: String(conv.body.id),
      message_id: String(msg.body.id),
      agent_id: String(admin.id),
      inbox_identifier: inbox.identifier,
      contact_identifier: pc.body.source_id,
      public_conversation_id: String(pconv.body.id),
    });
    const doc = await h.api('GET', '/api-docs/json');
    for (const [p, item] of Object.entries<any>(doc.body.paths)) {
      if (p.startsWith('/api-docs') || p === '/cable') continue;
      for (const [m, o] of Object.entries<any>(item)) {
        const props = Object.keys(o.requestBody?.content?.['application/json']?.schema?.properties ?? {});
        ops.push({ method: m.toUpperCase(), path: p, prop: props[0] ?? 'extra', open: !p.startsWith('/api/v1/') });
      }
    }
  });
  afterAll(() => h?.close());

  const fill = (op: Op) =>
    op.path.replace(/\{(\w+)\}/g, (_, n: string) => {
      const pubRoute = op.path.startsWith('/public/');
      if (n === 'conversation_id' && pubRoute) return ids.public_conversation_id;
      if (n === 'message_id' && pubRoute) return '1';
      if (n === 'token') return 'not-a-real-token';
      if (n in ids) return ids[n];
      if (op.path.includes('/agents/')) return ids.agent_id;
      if (op.path.includes('/inboxes/')) return ids.inbox_id;
      if (op.path.includes('/contacts/')) return ids.contact_id;
      return '1';
    });

  const hasBody = (op: Op) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method);

  /** The verdict for one request: `expected` is 422 naming `field`, or the auth error that comes first. */
  function judge(r: ApiResponse, op: Op, what: string, field: string, authed: boolean): string | null {
    const where = `${op.method} ${op.path} ${what}${authed ? '' : ' (no token)'} → ${r.status} ${r.text.slice(0, 160)}`;
    if (!authed && !op.open) return r.status === 401 ? null : `${where}: expected 401 before the body is looked at`;
    if (r.status !== 422) return `${where}: expected 422`;
    if (!Array.isArray(r.body?.attributes) || r.body.attributes[0] !== field) return `${where}: expected attributes [${field}]`;
    return null;
  }

  it('a deep and a too-wide body are a 422 naming the field on every operation, never a 500', async () => {
    expect(ops.length).toBeGreaterThan(50);
    const failures: string[] = [];
    const before = await counts(h);
    for (const authed of [true, false]) {
      for (const op of ops.filter(hasBody)) {
        for (const [what, value] of [['deep', DEEP], ['wide', WIDE]] as const) {
          const r = await h.api(op.method, fill(op), { token: authed ? token : undefined, body: `{"${op.prop}": ${value}}`, headers: { 'x-forwarded-for': '10.7.7.7' } });
          const bad = judge(r, op, what, op.prop, authed);
          if (bad) failures.push(bad);
        }
      }
    }
    expect(failures, failures.join('\n')).toEqual([]);
    expect(await counts(h)).toEqual(before);
  });

  it('a deep query string is a 422 naming the parameter on every operation', async () => {
    const failures: string[] = [];
    const q = `filter${'[a]'.repeat(MAX_DEPTH)}=1`;
    for (const op of ops) {
      const url = `${fill(op)}?${q}`;
      const r = await h.api(op.method, url, { token, body: hasBody(op) ? {} : undefined });
      const bad = judge(r, op, 'deep query', 'filter', true);
      if (bad) failures.push(bad);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });

  describe('targeted cases', () => {
    it('custom_attributes of an Application API contact: 32 levels in all are fine, 33 are a 422', async () => {
      const ok = await h.api('POST', `${base}/contacts`, { token, body: { name: 'Deep enough', custom_attributes: nestedValue(MAX_DEPTH - 1) } });
      expect(ok.status, ok.text).toBe(200);
      const before = await counts(h);
      const r = await h.api('POST', `${base}/contacts`, { token, body: { name: 'Too deep', custom_attributes: nestedValue(MAX_DEPTH) } });
      expect(r.status, r.text).toBe(422);
      expect(r.body.attributes).toEqual(['custom_attributes']);
      expect(r.body.message).toMatch(/^custom_attributes\.a\.a.*nested too deeply/);
      expect(await counts(h)).toEqual(before);
    });

    it('custom_attributes on client API contact create and update (JSON and urlencoded), and too many keys', async () => {
      const contacts = `/public/api/v1/inboxes/${ids.inbox_identifier}/contacts`;
      const before = await counts(h);
      for (const [method, url] of [['POST', contacts], ['PATCH', pub]] as const) {
        const json = await h.api(method, url, { body: `{"name":"x","custom_attributes":${DEEP}}` });
        expect(json.status, json.text).toBe(422);
        expect(json.body.attributes).toEqual(['custom_attributes']);
        const form = await h.api(method, url, {
          body: `name=x&custom_attributes${'[a]'.repeat(40)}=1`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        });
        expect(form.status, form.text).toBe(422);
        expect(form.body.attributes).toEqual(['custom_attributes']);
      }
      // too many keys (the client API's 64 KB body limit is too small for them: the Application API's)
      const many = await h.api('POST', `${base}/contacts`, {
        token,
        body: 'name=x&' + Array.from({ length: MAX_NODES + 1 }, (_, i) => `custom_attributes[k${i}]=1`).join('&'),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(many.status, many.text).toBe(422);
      expect(many.body.attributes).toEqual(['custom_attributes']);
      expect(await counts(h)).toEqual(before);
    });

    it('content_attributes of a message: deep, wide, and as a JSON string that is itself deep', async () => {
      const url = `${base}/conversations/${ids.conversation_id}/messages`;
      const before = await counts(h);
      const bodies = [
        `{"content":"x","content_attributes":${DEEP}}`,
        `{"content":"x","content_attributes":{"items":${WIDE}}}`,
        JSON.stringify({ content: 'x', content_attributes: DEEP }),
        JSON.stringify({ content: 'x', content_attributes: nested(MAX_DEPTH + 1) }),
        JSON.stringify({ content: 'x', content_attributes: `{"items":${WIDE}}` }),
      ];
      for (const body of bodies) {
        const r = await h.api('POST', url, { token, body });
        expect(r.status, `${body.slice(0, 60)} → ${r.text.slice(0, 200)}`).toBe(422);
        expect(r.body.attributes).toEqual(['content_attributes']);
      }
      // the same string at the limit is stored as an object
      const ok = await h.api('POST', url, { token, body: JSON.stringify({ content: 'x', content_attributes: nested(MAX_DEPTH - 1) }) });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.content_attributes).toHaveProperty('a.a.a');
      expect((await counts(h)).messages).toBe(before.messages + 1);
    });

    it('multipart: a deep bracket key and a deep JSON-typed field are a 422', async () => {
      const boundary = `----limits${crypto.randomBytes(4).toString('hex')}`;
      const part = (name: string, value: string, type?: string) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n${type ? `Content-Type: ${type}\r\n` : ''}\r\n${value}\r\n`;
      const url = `${base}/conversations/${ids.conversation_id}/messages`;
      const headers = { 'content-type': `multipart/form-data; boundary=${boundary}` };
      const before = await counts(h);
      for (const body of [
        part('content', 'x') + part(`content_attributes${'[a]'.repeat(40)}`, '1') + `--${boundary}--\r\n`,
        part('content', 'x') + part('content_attributes', DEEP, 'application/json') + `--${boundary}--\r\n`,
        part('content', 'x') + part('content_attributes', DEEP) + `--${boundary}--\r\n`,
      ]) {
        const r = await h.api('POST', url, { token, body, headers });
        expect(r.status, r.text.slice(0, 200)).toBe(422);
        expect(r.body.attributes).toEqual(['content_attributes']);
      }
      expect(await counts(h)).toEqual(before);
    });

    it('a deep body without any token on the client API is a 422, not a 500', async () => {
      const r = await h.api('POST', `/public/api/v1/inboxes/${ids.inbox_identifier}/contacts`, { body: DEEP });
      expect(r.status, r.text).toBe(422);
      expect(r.body.attributes).toEqual(['a']);
      const arr = await h.api('POST', `${pub}/conversations`, { body: `[${'['.repeat(9000)}${']'.repeat(9000)}]` });
      expect(arr.status, arr.text).toBe(422);
      expect(arr.body.attributes).toEqual(['body']);
    });
  });
});
