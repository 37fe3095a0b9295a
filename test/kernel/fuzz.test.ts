import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type ApiResponse, type TestServer } from '../support/harness.js';

/**
 * Walks every operation of the OpenAPI document with hostile path params, bodies and query strings.
 * The contract: never a 5xx, every error is a JSON object with an `error` string, and another
 * account's ids never succeed. Deterministic (fixed value lists, no randomness) and bounded.
 */

const HUGE = 'x'.repeat(300_000);
const LONG = 'a'.repeat(300);

/** Hostile path segments, besides the valid ids of the scene. */
const HOSTILE_SEGMENTS = ['0', '-1', '2147483648', '1e309', 'abc', LONG, '%00', '1.5', '%F0%9F%92%A9', '%ED%A0%80'];

/** Hostile values for a body or query property. */
const HOSTILE_VALUES: unknown[] = [
  { nested: { deep: ['x'] } },
  ['a', 1, null],
  1e308,
  -1,
  2147483648,
  true,
  null,
  'abc\u0000def',
  '\ud800',
  '\udfff tail',
  '💩🏳️‍🌈',
  '',
  LONG,
];
/** Raw JSON that JSON.stringify cannot produce (1e309 parses to Infinity server-side, -0, deep nesting). */
const RAW_BODIES = (prop: string) => [
  `{"${prop}": 1e309}`,
  `{"${prop}": -1e309}`,
  `{"${prop}": "\\ud800"}`,
  `{"${prop}": ${'['.repeat(200)}${']'.repeat(200)}}`,
  `{"${prop}": {"__proto__": {"polluted": 1}}}`,
];

type Op = { method: string; path: string; bodyProps: string[]; queryProps: string[] };

type Failure = { method: string; url: string; why: string; status: number; text: string };

const ID_PARAMS = ['id', 'conversation_id', 'message_id', 'inbox_id', 'account_id'];
/** Operations that would destroy the scene for the later requests when given valid ids. */
const destructive = (op: Op) =>
  op.method === 'DELETE' || /reset_access_token|reset_secret|sign_out|\/redeliver$/.test(op.path) || (op.path.includes('/agents/') && op.method !== 'GET');

describeEachDb('hostile input never breaks the API', (dialect) => {
  let h: TestServer;
  let ops: Op[] = [];
  const failures: Failure[] = [];
  let count = 0;
  /** Valid ids of account A (the caller's) and of account B (another tenant). */
  const own: Record<string, string> = {};
  const other: Record<string, string> = {};
  let token = '';

  beforeAll(async () => {
    h = await startTestServer(dialect, {
      PUBLIC_API_LIMIT_PER_IP: '1000000',
      PUBLIC_API_LIMIT_PER_INBOX: '1000000',
      CONVERSATION_MESSAGE_PER_MINUTE_LIMIT: '1000000',
      SIGN_IN_LIMIT_PER_IP: '1000000',
      SIGN_IN_LIMIT_PER_EMAIL: '1000000',
      BODY_LIMIT_BYTES: String(2 * 1024 * 1024),
    });
    const build = async (into: Record<string, string>) => {
      const { accountId, admin } = await h.account();
      const agent = await h.user(accountId, { role: 'agent' });
      const inbox = await h.inbox(accountId, { hmac_mandatory: false });
      const base = `/api/v1/accounts/${accountId}`;
      const c = await h.api('POST', `${base}/contacts`, { token: admin.token, body: { name: 'Fuzz Contact', inbox_id: inbox.id } });
      expect(c.status, c.text).toBe(200);
      const conv = await h.api('POST', `${base}/conversations`, { token: admin.token, body: { source_id: c.body.payload.contact_inbox.source_id, inbox_id: inbox.id } });
      expect(conv.status, conv.text).toBe(200);
      const msg = await h.api('POST', `${base}/conversations/${conv.body.id}/messages`, { token: admin.token, body: { content: 'hello' } });
      expect(msg.status, msg.text).toBe(200);
      const pub = `/public/api/v1/inboxes/${inbox.identifier}`;
      const pc = await h.api('POST', `${pub}/contacts`, { body: { name: 'Public' } });
      expect(pc.status, pc.text).toBe(200);
      const pconv = await h.api('POST', `${pub}/contacts/${pc.body.source_id}/conversations`, { body: {} });
      expect(pconv.status, pconv.text).toBe(200);
      const pmsg = await h.api('POST', `${pub}/contacts/${pc.body.source_id}/conversations/${pconv.body.id}/messages`, { body: { content: 'hi' } });
      expect(pmsg.status, pmsg.text).toBe(200);
      const wh = await h.api('POST', `${base}/webhooks`, { token: admin.token, body: { url: 'https://example.com/hook', subscriptions: ['message_created'] } });
      expect(wh.status, wh.text).toBe(200);
      const whId = wh.body.payload?.webhook?.id ?? wh.body.id;
      Object.assign(into, {
        token: admin.token,
        agent_token: agent.token,
        account_id: String(accountId),
        agent_id: String(agent.id),
        inbox_id: String(inbox.id),
        contact_id: String(c.body.payload.contact.id),
        conversation_id: String(conv.body.id),
        message_id: String(msg.body.id),
        webhook_id: String(whId),
        inbox_identifier: inbox.identifier,
        contact_identifier: pc.body.source_id,
        public_conversation_id: String(pconv.body.id),
        public_message_id: String(pmsg.body.id),
      });
    };
    await build(own);
    await build(other);
    token = own.token;
    const doc = await h.api('GET', '/api-docs/json');
    for (const [p, item] of Object.entries<any>(doc.body.paths)) {
      for (const [m, o] of Object.entries<any>(item)) {
        const schema = o.requestBody?.content?.['application/json']?.schema;
        ops.push({
          method: m.toUpperCase(),
          path: p,
          // Top-level properties, and those of Rails-style wrappers ({account: {name}}) as "account.name".
          bodyProps: Object.entries<any>(schema?.properties ?? {}).flatMap(([k, v]) => [k, ...Object.keys(v?.properties ?? {}).map((c) => `${k}.${c}`)]),
          queryProps: (o.parameters ?? []).filter((x: any) => x.in === 'query').map((x: any) => x.name),
        });
      }
    }
    ops = ops.filter((o) => !o.path.startsWith('/api-docs') && o.path !== '/cable');
  });
  afterAll(() => h?.close());

  /** The valid value of a path param for the route (ids of the same account set). */
  const validParam = (ids: Record<string, string>, op: Op, name: string): string => {
    if (name === 'account_id') return ids.account_id;
    if (name === 'inbox_identifier') return ids.inbox_identifier;
    if (name === 'contact_identifier') return ids.contact_identifier;
    if (name === 'token') return 'not-a-real-invitation-token';
    const pub = op.path.startsWith('/public/');
    if (name === 'conversation_id') return pub ? ids.public_conversation_id : ids.conversation_id;
    if (name === 'message_id') return pub ? ids.public_message_id : ids.message_id;
    if (name === 'inbox_id') return ids.inbox_id;
    // `id` depends on the resource.
    if (op.path.includes('/agents/')) return ids.agent_id;
    if (op.path.includes('/inboxes/')) return ids.inbox_id;
    if (op.path.includes('/contacts/')) return ids.contact_id;
    if (op.path.includes('/webhooks/')) return ids.webhook_id;
    if (op.path.includes('/webhook_deliveries/')) return '1';
    return ids.conversation_id;
  };
  const params = (op: Op) => [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  const fill = (op: Op, value: (name: string) => string) => op.path.replace(/\{(\w+)\}/g, (_, n) => value(n));

  async function send(method: string, url: string, body?: unknown, why = '', contentType?: string): Promise<ApiResponse> {
    count++;
    const headers: Record<string, string> = { 'x-forwarded-for': '10.9.9.9', ...(contentType ? { 'content-type': contentType } : {}) };
    const r = await h.api(method, url, { token, body, headers });
    const record = (reason: string) =>
      failures.push({ method, url: url.length > 200 ? `${url.slice(0, 200)}…` : url, why: `${reason} ${why}`.trim(), status: r.status, text: r.text.slice(0, 300) });
    if (r.status >= 500) record('5xx');
    else if (r.status >= 400) {
      if (!r.body || typeof r.body !== 'object' || typeof r.body.error !== 'string') record('non-JSON error body');
    }
    return r;
  }

  it('substitutes hostile and foreign path params on every operation', async () => {
    failures.length = 0;
    expect(ops.length).toBeGreaterThan(50);
    // As the administrator and as an agent of the account.
    for (const [as, op] of [own.token, own.agent_token].flatMap((t) => ops.map((o) => [t, o] as const))) {
      token = as;
      const names = params(op);
      if (!names.length) continue;
      // Every param foreign at once, and each param foreign alone: never a success.
      // (On the client API the path is the capability: another tenant's complete path is its own
      // legitimate session, so only mixed paths must fail there.)
      const variants: Array<(n: string) => string> = op.path.startsWith('/public/') ? [] : [(n) => validParam(other, op, n)];
      if (!op.path.startsWith('/public/') || names.length > 1)
        for (const target of names) variants.push((n) => (n === target ? validParam(other, op, n) : validParam(own, op, n)));
      for (const v of variants) {
        const url = fill(op, v);
        if (url === fill(op, (n) => validParam(own, op, n))) continue; // a param that is not an id (e.g. token)
        const r = await send(op.method, url, op.method === 'GET' ? undefined : {}, 'foreign ids');
        if (r.status < 300) failures.push({ method: op.method, url, why: "another account's ids succeeded", status: r.status, text: r.text.slice(0, 300) });
      }
      for (const target of names) {
        for (const seg of HOSTILE_SEGMENTS) {
          const url = fill(op, (n) => (n === target ? seg : validParam(own, op, n)));
          await send(op.method, url, op.method === 'GET' ? undefined : {}, `param ${target}`);
        }
      }
    }
    token = own.token;
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
  });

  it("refuses another account's ids inside request bodies", async () => {
    failures.length = 0;
    const foreign: Record<string, unknown> = {
      inbox_id: Number(other.inbox_id),
      contact_id: Number(other.contact_id),
      assignee_id: Number(other.agent_id),
      user_ids: [Number(other.agent_id)],
    };
    // A source_id is only unique within its inbox: another account's resolves to nothing here.
    const bySource = await send('POST', `/api/v1/accounts/${own.account_id}/conversations`, { source_id: other.contact_identifier }, 'foreign source_id');
    expect(bySource.status, bySource.text).toBeGreaterThanOrEqual(400);
    for (const op of ops) {
      if (op.method === 'GET' || op.path.startsWith('/public/') || destructive(op)) continue;
      const url = fill(op, (n) => validParam(own, op, n));
      for (const prop of op.bodyProps.filter((p) => p in foreign)) {
        const body: Record<string, unknown> = { [prop]: foreign[prop] };
        // What the route needs besides the foreign id, so that only the foreign id can make it fail.
        if (prop !== 'inbox_id' && op.bodyProps.includes('inbox_id')) body.inbox_id = Number(own.inbox_id);
        if (op.path.endsWith('/contacts') && op.method === 'POST') body.name = 'Foreign';
        if (op.path.endsWith('/webhooks')) Object.assign(body, { url: `https://example.com/${prop}`, subscriptions: ['message_created'] });
        const r = await send(op.method, url, body, `foreign body.${prop}`);
        if (r.status < 300) failures.push({ method: op.method, url, why: `foreign body.${prop} succeeded`, status: r.status, text: r.text.slice(0, 300) });
      }
    }
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
  });

  it('answers hostile headers with 4xx JSON, never a 500', async () => {
    failures.length = 0;
    const headerSets: Record<string, string>[] = [
      { 'idempotency-key': LONG },
      { 'idempotency-key': '💩\u00ff' },
      { 'idempotency-key': '' },
      { 'content-type': 'application/json; charset=utf-16' },
      { 'content-type': 'text/plain' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { api_access_token: LONG.repeat(10) },
      { authorization: 'Bearer ' },
      { cookie: `${'a'.repeat(5000)}=1; =; ;;` },
      { 'x-forwarded-for': 'not-an-ip, ::ffff:999.1.1.1' },
    ];
    for (const op of ops) {
      if (op.method !== 'POST' || destructive(op)) continue;
      const url = fill(op, (n) => validParam(own, op, n));
      for (const headers of headerSets) {
        count++;
        const r = await h.api(op.method, url, { token: headers.api_access_token ? undefined : token, body: '{"content": "x"}', headers: { 'content-type': 'application/json', ...headers } });
        const bad = r.status >= 500 || (r.status >= 400 && (typeof r.body !== 'object' || typeof r.body?.error !== 'string'));
        if (bad) failures.push({ method: op.method, url, why: `headers ${JSON.stringify(headers).slice(0, 80)}`, status: r.status, text: r.text.slice(0, 300) });
      }
    }
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
  });

  it('regressions: non-finite numbers, out-of-range ids and NUL characters are 4xx', async () => {
    const base = `/api/v1/accounts/${own.account_id}`;
    const pub = `/public/api/v1/inboxes/${own.inbox_identifier}/contacts/${own.contact_identifier}/conversations/${own.public_conversation_id}`;
    // Ajv coerces the query string "1e309" to Infinity and then skips minimum/maximum.
    for (const url of [`${base}/contacts?page=1e309`, `${base}/conversations?inbox_id=1e309`, `${base}/conversations/${own.conversation_id}/messages?before=1e309`, `${pub}/messages?before=1e309`]) {
      const r = await h.api('GET', url, { token });
      expect(r.status, url).toBe(422);
      expect(r.body.attributes, url).toHaveLength(1);
    }
    // JSON 1e309 is Infinity; a union with a string branch coerced it to "Infinity" and back.
    const inf = await h.api('PATCH', `${base}/inboxes/${own.inbox_id}`, { token, body: '{"sender_name_type": 1e309}' });
    expect(inf.status).toBe(422);
    expect(inf.body).toMatchObject({ attributes: ['sender_name_type'] });
    // Integers beyond a PostgreSQL integer.
    expect((await h.api('GET', `${pub}/messages?before=2147483648`)).status).toBe(422);
    expect((await h.api('POST', `${base}/webhook_deliveries/2147483648/redeliver`, { token, body: {} })).status).toBe(404);
    // PostgreSQL text cannot hold NUL.
    const nul = await h.api('POST', `${pub}/messages`, { body: { content: 'a\u0000b' } });
    expect(nul.status).toBe(422);
    expect(nul.body.attributes).toEqual(['content']);
  });

  it('answers hostile bodies and query strings with 4xx JSON, never a 500', async () => {
    failures.length = 0;
    const start = count;
    for (const op of ops) {
      if (destructive(op)) continue;
      const url = fill(op, (n) => validParam(own, op, n));
      if (op.method !== 'GET') {
        for (const prop of op.bodyProps) {
          const [outer, inner] = prop.split('.');
          const wrap = (v: unknown) => (inner ? { [outer]: { [inner]: v } } : { [outer]: v });
          for (const v of HOSTILE_VALUES) await send(op.method, url, wrap(v), `body.${prop}=${JSON.stringify(v).slice(0, 40)}`);
          for (const raw of RAW_BODIES(inner ?? outer)) {
            const body = inner ? `{"${outer}": ${raw}}` : raw;
            await send(op.method, url, body, `raw ${body.slice(0, 60)}`);
          }
          if (!inner) {
            // Rails-style form keys nest into objects and arrays.
            for (const form of [`${outer}[][x]=1&${outer}[]=2`, `${outer}[a][b][c]=%00`, `${outer}=%ED%A0%80&${outer}=2`]) {
              await send(op.method, url, form, `form ${form}`, 'application/x-www-form-urlencoded');
            }
          }
        }
        // Every property hostile at once, one huge string each (bounded: one request per op).
        await send(op.method, url, Object.fromEntries(op.bodyProps.map((p) => [p, HUGE])), 'all props huge');
        // Top-level non-objects.
        for (const raw of ['[]', '"str"', '12', 'null', '[{"a":1}]']) await send(op.method, url, raw, `raw top-level ${raw}`);
      }
      for (const q of op.queryProps) {
        for (const v of ['abc', '-1', '2147483648', '1e309', '%00', '%ED%A0%80', LONG, '1.5', '']) {
          await send(op.method, `${url}?${q}=${v}`, op.method === 'GET' ? undefined : {}, `query ${q}`);
        }
        await send(op.method, `${url}?${q}[]=a&${q}[]=b`, op.method === 'GET' ? undefined : {}, `query ${q}[]`);
        await send(op.method, `${url}?${q}[x][y]=1`, op.method === 'GET' ? undefined : {}, `query ${q}[x][y]`);
      }
    }
    // Whatever hostile values were stored, every read still renders.
    for (const op of ops) if (op.method === 'GET') await send('GET', fill(op, (n) => validParam(own, op, n)), undefined, 're-read after hostile writes');
    expect(failures, JSON.stringify(failures, null, 1)).toEqual([]);
    // Bounded: the walk stays well under the time budget.
    expect(count - start).toBeLessThan(8000);
  });
});
