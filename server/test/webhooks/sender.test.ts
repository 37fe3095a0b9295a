import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { WebhookHttpClient } from '../../src/webhooks/http-client.js';
import { ThreadedSender } from '../../src/webhooks/sender.js';
import { freePort, startReceiver, type Receiver } from './support.js';

/**
 * WEBHOOK_SENDER_THREAD: the sending thread answers exactly what the in-thread client answers
 * (status, snippet, Retry-After, the SSRF refusal, transport errors), cancels on shutdown, and a
 * thread that dies mid-send fails those sends as transport errors (retried) and is replaced.
 */
describe('webhook sending thread', () => {
  let rcv: Receiver;
  const log = pino({ level: 'silent' });
  const opts = { allowPrivateNetwork: true, timeoutMs: 5000, connectionsPerOrigin: 4 };
  let threaded: ThreadedSender;
  let local: WebhookHttpClient;
  beforeAll(async () => {
    rcv = await startReceiver(0, (r) => {
      if (r.path === '/busy') return { status: 503, headers: { 'retry-after': '7' }, body: 'later' };
      if (r.path === '/slow') return { status: 200, body: 'late', delayMs: 60_000 };
      return { status: 200, body: `got ${r.body.length} bytes` };
    });
    threaded = new ThreadedSender(opts, log);
    local = new WebhookHttpClient(opts);
  });
  afterAll(async () => {
    await threaded.close();
    await local.close();
    await rcv.close();
  });

  const base = () => rcv.url.replace(/\/hook$/, '');
  const same = (r: { statusCode: number | null; snippet: string | null; error: string | null; retryAfterMs: number | null; blocked: boolean }) => ({
    statusCode: r.statusCode,
    snippet: r.snippet,
    error: r.error,
    retryAfterMs: r.retryAfterMs,
    blocked: r.blocked,
  });

  it('answers as the in-thread client does, headers and body intact', async () => {
    const body = JSON.stringify({ event: 'message_created', content: 'héllo' });
    const headers = { 'content-type': 'application/json', 'x-test': 'thread' };
    const [a, b] = await Promise.all([threaded.post(`${base()}/hook`, headers, body), local.post(`${base()}/hook`, headers, body)]);
    expect(same(a)).toEqual(same(b));
    expect(a).toMatchObject({ statusCode: 200, snippet: `got ${body.length} bytes`, error: null });
    const seen = rcv.requests.filter((r) => r.headers['x-test'] === 'thread');
    expect(seen.map((r) => r.body)).toEqual([body, body]);

    const [c, d] = await Promise.all([threaded.post(`${base()}/busy`, headers, body), local.post(`${base()}/busy`, headers, body)]);
    expect(same(c)).toEqual(same(d));
    expect(c).toMatchObject({ statusCode: 503, retryAfterMs: 7000, error: '503 Service Unavailable' });

    const nobody = `http://127.0.0.1:${await freePort()}/hook`;
    const [e, f] = await Promise.all([threaded.post(nobody, headers, body), local.post(nobody, headers, body)]);
    expect(same(e)).toEqual(same(f));
    expect(e.statusCode).toBeNull();
    expect(e.error).toMatch(/ECONNREFUSED|refused/);
  });

  it('keeps the SSRF guard: a private address is refused in the thread without a connection', async () => {
    const guarded = new ThreadedSender({ ...opts, allowPrivateNetwork: false }, log);
    try {
      const before = rcv.requests.length;
      const r = await guarded.post(`${base()}/hook`, {}, '{}');
      expect(r).toMatchObject({ statusCode: null, blocked: true });
      expect(r.error).toMatch(/^refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1 \(loopback\)/);
      expect(rcv.requests.length).toBe(before);
    } finally {
      await guarded.close();
    }
  });

  it('a cancelled send resolves as cancelled; a send after close never starts', async () => {
    const sender = new ThreadedSender(opts, log);
    const stop = new AbortController();
    const sending = sender.post(`${base()}/slow`, {}, '{}', stop.signal);
    await waitForRequest('/slow', 1);
    stop.abort();
    expect((await sending).error).toBe('cancelled (shutdown)');
    await sender.close();
    expect((await sender.post(`${base()}/hook`, {}, '{}')).error).toBe('cancelled (shutdown)');
  });

  it('a thread that dies mid-send fails its sends as transport errors and is replaced for the next', async () => {
    const sender = new ThreadedSender(opts, log);
    try {
      const before = rcv.requests.filter((r) => r.path === '/slow').length;
      const sending = sender.post(`${base()}/slow`, {}, '{}');
      await waitForRequest('/slow', before + 1);
      await (sender as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      expect(await sending).toMatchObject({ statusCode: null, error: 'sending thread exited', blocked: false });
      expect(await sender.post(`${base()}/hook`, {}, 'again')).toMatchObject({ statusCode: 200, error: null });
    } finally {
      await sender.close();
    }
  });

  async function waitForRequest(path: string, n: number) {
    const deadline = Date.now() + 20_000;
    while (rcv.requests.filter((r) => r.path === path).length < n) {
      if (Date.now() > deadline) throw new Error(`no request to ${path}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
});
