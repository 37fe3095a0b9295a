import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { WebSocket } from 'ws';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';
import { CSP_API_DOCS, CSP_DASHBOARD, CSP_JSON, HSTS, registerSecurityHeaders } from '../../src/kernel/security-headers.js';
import { SESSION_COOKIE } from '../../src/kernel/auth.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { PASSWORD } from '../foundation/helpers.js';

/**
 * Browser-facing hardening (issue 9 item 9): security headers on every response, the session
 * cookie's Origin check (CSRF and login CSRF), and the API docs still loading under their policy.
 */

const PUBLIC = 'https://chat.example.com';
const EXTRA = 'https://dashboard.example.com';
const FOREIGN = 'https://evil.example.net';

type Res = { status: number; headers: Headers; text: string; body: any };

function expectHardened(r: Res, csp = CSP_JSON, what = '') {
  expect(r.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(r.headers.get('referrer-policy'), what).toBe('strict-origin-when-cross-origin');
  expect(r.headers.get('x-frame-options'), what).toBe('DENY');
  expect(r.headers.get('content-security-policy'), what).toBe(csp);
  expect(r.headers.get('content-security-policy'), what).toContain("frame-ancestors 'none'");
}

describe('security headers (one onSend hook)', () => {
  const app = Fastify();
  beforeAll(async () => {
    registerSecurityHeaders(app, { publicUrl: 'http://localhost:3000' });
    app.get('/page', async (_req, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><p>hi</p>'));
    app.get('/api-docs/x', async (_req, reply) => reply.type('text/html').send('<p>docs</p>'));
    app.get('/data', async () => ({ ok: true }));
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    await app.ready();
  });
  afterAll(() => app.close());

  const get = async (url: string): Promise<Res> => {
    const r = await app.inject({ method: 'GET', url });
    const headers = new Headers(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
    return { status: r.statusCode, headers, text: r.body, body: null };
  };

  it('gives HTML the dashboard policy, /api-docs its own and everything else the JSON one; no HSTS over http', async () => {
    expectHardened(await get('/page'), CSP_DASHBOARD, 'html');
    expectHardened(await get('/api-docs/x'), CSP_API_DOCS, 'docs');
    expectHardened(await get('/data'), CSP_JSON, 'json');
    expectHardened(await get('/boom'), CSP_JSON, '500');
    expectHardened(await get('/nope'), CSP_JSON, '404');
    expect((await get('/data')).headers.get('strict-transport-security')).toBeNull();
  });

  it('the dashboard policy is strict: same-origin only, no inline script, no framing, no base or foreign forms', () => {
    expect(CSP_DASHBOARD).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(CSP_API_DOCS).not.toMatch(/script-src[^;]*unsafe/);
  });
});

describe('ALLOWED_ORIGINS', () => {
  it('reads comma-separated origins, normalised; refuses paths, other schemes and garbage', () => {
    expect(loadConfig({}).allowedOrigins).toEqual([]);
    expect(loadConfig({ ALLOWED_ORIGINS: 'https://a.example:443/, http://b.example:8080 ,' }).allowedOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
    for (const bad of ['https://a.example/app', 'ftp://a.example', 'not a url', 'https://a.example?x=1', 'https://u:p@a.example'])
      expect(() => loadConfig({ ALLOWED_ORIGINS: bad }), bad).toThrow(ConfigError);
  });
});

describeEachDb('browser hardening', (dialect) => {
  let h: TestServer;
  let accountId: number;
  let admin: Awaited<ReturnType<TestServer['account']>>['admin'];
  let cookie: string;

  /** A real HTTP request to the listening server (Host is 127.0.0.1:port). */
  async function http(method: string, path: string, opts: { headers?: Record<string, string>; body?: unknown } = {}): Promise<Res> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const r = await fetch(h.url + path, { method, headers, body, redirect: 'manual' });
    const text = await r.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: r.status, headers: r.headers, text, body: parsed };
  }

  const signIn = (origin?: string) =>
    http('POST', '/auth/sign_in', { body: { email: admin.email, password: PASSWORD }, headers: origin ? { origin } : {} });
  const cookieOf = (r: Res) => r.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))?.split(';')[0];
  const contactCount = async () =>
    Number(
      (
        await h.server.ctx.database.db
          .selectFrom('contacts')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('account_id', '=', accountId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const sessionCount = async () =>
    Number(
      (
        await h.server.ctx.database.db
          .selectFrom('user_sessions')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('user_id', '=', admin.id)
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    h = await startTestServer(dialect, { PUBLIC_URL: PUBLIC, ALLOWED_ORIGINS: `${EXTRA}/`, SIGN_IN_LIMIT_PER_IP: '1000', SIGN_IN_LIMIT_PER_EMAIL: '1000' });
    ({ accountId, admin } = await h.account());
    const r = await signIn(PUBLIC);
    expect(r.status, r.text).toBe(200);
    cookie = cookieOf(r)!;
    expect(cookie).toBeTruthy();
  });
  afterAll(() => h?.close());

  describe('headers', () => {
    it('are on JSON responses, errors (401, 404, 422) and /health; HSTS because PUBLIC_URL is https', async () => {
      const cases: Array<[string, Promise<Res>, number]> = [
        ['health', http('GET', '/health'), 200],
        ['json', http('GET', '/api/v1/profile', { headers: { api_access_token: admin.token } }), 200],
        ['401', http('GET', `/api/v1/accounts/${accountId}/contacts`), 401],
        ['404', http('GET', '/no/such/route'), 404],
        ['422', http('POST', `/api/v1/accounts/${accountId}/webhooks`, { headers: { api_access_token: admin.token }, body: { url: 'not a url' } }), 422],
      ];
      for (const [what, p, status] of cases) {
        const r = await p;
        expect(r.status, `${what}: ${r.text}`).toBe(status);
        expectHardened(r, CSP_JSON, what);
        expect(r.headers.get('strict-transport-security'), what).toBe(HSTS);
      }
    });

    it('the API docs load under their own policy: the HTML, every script and stylesheet it references, and the spec', async () => {
      const page = await http('GET', '/api-docs/');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expectHardened(page, CSP_API_DOCS, 'docs html');
      // script-src 'self' is enough: no inline script, only same-origin relative references.
      const scripts = [...page.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThanOrEqual(3);
      for (const [, attrs, inline] of scripts) {
        expect(inline.trim(), 'inline script').toBe('');
        expect(attrs).toMatch(/src="\.\/static\//);
      }
      const refs = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(refs.filter((u) => /\.css$/.test(u))).not.toHaveLength(0);
      for (const ref of refs) {
        expect(ref, 'same-origin reference').toMatch(/^\.\//);
        const r = await http('GET', `/api-docs/${ref.slice(2)}`);
        expect(r.status, ref).toBe(200);
        if (ref.endsWith('.js')) expect(r.headers.get('content-type'), ref).toMatch(/javascript/);
        if (ref.endsWith('.css')) expect(r.headers.get('content-type'), ref).toMatch(/text\/css/);
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      }
      // The initializer loads the spec from ./json (connect-src 'self').
      const init = await http('GET', '/api-docs/static/swagger-initializer.js');
      expect(init.text).toContain("resolveUrl('./json')");
      const spec = await http('GET', '/api-docs/json');
      expect(spec.status).toBe(200);
      expect(Object.keys(spec.body.paths).length).toBeGreaterThan(30);
    });
  });

  describe('session cookie: Origin check on state-changing requests', () => {
    const create = (headers: Record<string, string>, name = 'CSRF') =>
      http('POST', `/api/v1/accounts/${accountId}/contacts`, { headers, body: { name } });

    it('refuses a cookie-authenticated POST without Origin, with a foreign one or an opaque one: 403 JSON, nothing written', async () => {
      const before = await contactCount();
      const refused: Record<string, string>[] = [
        { cookie },
        { cookie, origin: FOREIGN },
        { cookie, origin: 'null' },
        { cookie, origin: 'http://chat.example.com' }, // the public host over plain http is another origin
        { cookie, origin: 'https://chat.example.com.evil.example.net' },
        { cookie, referer: `${FOREIGN}/page` },
        { cookie, origin: FOREIGN, referer: `${PUBLIC}/app` }, // Origin decides when present
      ];
      for (const headers of refused) {
        const r = await create(headers);
        expect(r.status, JSON.stringify(headers)).toBe(403);
        expect(typeof r.body?.error, r.text).toBe('string');
        expectHardened(r, CSP_JSON, '403');
      }
      expect(await contactCount()).toBe(before);
    });

    it('refuses cookie-authenticated PUT, PATCH and DELETE from another origin (profile, account, contact untouched)', async () => {
      const made = await create({ cookie, origin: PUBLIC }, 'Keep me');
      expect(made.status, made.text).toBe(200);
      const contactId = made.body.payload.contact.id;
      const put = await http('PUT', '/api/v1/profile', { headers: { cookie, origin: FOREIGN }, body: { name: 'Pwned' } });
      expect(put.status, put.text).toBe(403);
      const patch = await http('PATCH', `/api/v1/accounts/${accountId}`, { headers: { cookie }, body: { name: 'Pwned' } });
      expect(patch.status, patch.text).toBe(403);
      const del = await http('DELETE', `/api/v1/accounts/${accountId}/contacts/${contactId}`, { headers: { cookie, origin: FOREIGN } });
      expect(del.status, del.text).toBe(403);
      const token = { api_access_token: admin.token };
      expect((await http('GET', '/api/v1/profile', { headers: token })).body.name).not.toBe('Pwned');
      expect((await http('GET', `/api/v1/accounts/${accountId}`, { headers: token })).body.name).not.toBe('Pwned');
      expect((await http('GET', `/api/v1/accounts/${accountId}/contacts/${contactId}`, { headers: token })).status).toBe(200);
      // Reading with the cookie from anywhere is not a state change.
      expect((await http('GET', '/api/v1/profile', { headers: { cookie, origin: FOREIGN } })).status).toBe(200);
    });

    it('accepts PUBLIC_URL, ALLOWED_ORIGINS, the request’s own Host, or a same-origin Referer', async () => {
      const before = await contactCount();
      const own = h.url; // http://127.0.0.1:port: the Host this request is sent to
      const accepted: Record<string, string>[] = [
        { cookie, origin: PUBLIC },
        { cookie, origin: EXTRA },
        { cookie, origin: own },
        { cookie, referer: `${PUBLIC}/app/accounts/${accountId}/contacts` },
      ];
      for (const headers of accepted) {
        const r = await create(headers);
        expect(r.status, `${JSON.stringify(headers)} ${r.text}`).toBe(200);
      }
      expect(await contactCount()).toBe(before + 4);
    });

    it('leaves token-authenticated requests alone (no Origin needed, a foreign one ignored; the token decides over a cookie)', async () => {
      const before = await contactCount();
      const tokenCalls: Record<string, string>[] = [{ api_access_token: admin.token }, { api_access_token: admin.token, origin: FOREIGN }, { api_access_token: admin.token, cookie, origin: FOREIGN }];
      for (const headers of tokenCalls) {
        const r = await create(headers);
        expect(r.status, r.text).toBe(200);
      }
      expect(await contactCount()).toBe(before + 3);
    });

    it('sign-out by cookie needs the Origin too (the session survives a cross-site one)', async () => {
      const mine = cookieOf(await signIn(PUBLIC))!;
      const refused = await http('DELETE', '/auth/sign_out', { headers: { cookie: mine, origin: FOREIGN } });
      expect(refused.status).toBe(403);
      expect((await http('GET', '/api/v1/profile', { headers: { cookie: mine } })).status).toBe(200);
      const ok = await http('DELETE', '/auth/sign_out', { headers: { cookie: mine, origin: PUBLIC } });
      expect(ok.status).toBe(200);
      expect((await http('GET', '/api/v1/profile', { headers: { cookie: mine } })).status).toBe(401);
    });
  });

  describe('/cable', () => {
    it('never authenticates by the session cookie: a cross-site socket carrying it gets no subscription (no WebSocket hijacking)', async () => {
      // The widget connects cross-origin by design, so /cable checks no Origin: it authenticates only
      // by the pubsub_token inside the subscribe command, which a foreign page cannot read.
      const ws = new WebSocket(`${h.url.replace(/^http/, 'ws')}/cable`, ['actioncable-v1-json'], { headers: { cookie, origin: FOREIGN } });
      const frames: any[] = [];
      const seen = (pred: (f: any) => boolean) =>
        new Promise<any>((ok, fail) => {
          const deadline = setTimeout(() => fail(new Error(`no such frame; got ${JSON.stringify(frames)}`)), 15_000);
          const check = () => {
            const f = frames.find(pred);
            if (f) (clearTimeout(deadline), ws.off('message', check), ok(f));
          };
          ws.on('message', check);
          check();
        });
      ws.on('message', (d) => frames.push(JSON.parse(String(d))));
      await seen((f) => f.type === 'welcome');
      const identifier = JSON.stringify({ channel: 'RoomChannel', account_id: accountId, user_id: admin.id });
      ws.send(JSON.stringify({ command: 'subscribe', identifier }));
      expect(await seen((f) => f.type === 'reject_subscription' || f.type === 'confirm_subscription')).toEqual({ identifier, type: 'reject_subscription' });
      ws.close();
    });
  });

  describe('login CSRF', () => {
    it('refuses sign-in from a foreign Origin (no session, no cookie); allows a trusted Origin or none (API clients)', async () => {
      const sessions = await sessionCount();
      for (const origin of [FOREIGN, 'null']) {
        const r = await signIn(origin);
        expect(r.status, r.text).toBe(403);
        expect(typeof r.body?.error).toBe('string');
        expect(cookieOf(r)).toBeUndefined();
      }
      expect(await sessionCount()).toBe(sessions);
      for (const origin of [PUBLIC, h.url, undefined]) expect((await signIn(origin)).status).toBe(200);
      expect(await sessionCount()).toBe(sessions + 3);
    });

    it('refuses accepting an invitation from a foreign Origin before looking at the token', async () => {
      const r = await http('POST', '/auth/invitations/some-token', { headers: { origin: FOREIGN }, body: { password: 'password123', password_confirmation: 'password123' } });
      expect(r.status).toBe(403);
      const same = await http('POST', '/auth/invitations/some-token', { headers: { origin: PUBLIC }, body: { password: 'password123', password_confirmation: 'password123' } });
      expect(same.status).toBe(404);
    });
  });
});
