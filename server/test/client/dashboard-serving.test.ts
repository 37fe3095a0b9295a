import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSP_DASHBOARD } from '../../src/kernel/security-headers.js';
import { startTestServer, type TestServer } from '../support/harness.js';

/** The server serves the built dashboard (config.dashboardDir) at `/`; a stand-in build is enough here. */
describe('the dashboard served at /', () => {
  let h: TestServer;
  let missing: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channelx-dist-'));
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>ChannelX</title><script type="module" src="/assets/index-abc123.js"></script>');
    fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1);');
    h = await startTestServer('sqlite', { DASHBOARD_DIR: dir });
    missing = await startTestServer('sqlite', { DASHBOARD_DIR: path.join(dir, 'nowhere') });
  });
  afterAll(async () => {
    await h?.close();
    await missing?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers index.html (no-cache, dashboard CSP) at / and for client routes under /app/*', async () => {
    for (const url of ['/', '/app', '/app/profile', '/app/accept-invitation?token=x', '/app/a/b/c']) {
      const r = await h.api('GET', url);
      expect(r.status, url).toBe(200);
      expect(r.headers['content-type'], url).toMatch(/^text\/html/);
      expect(r.headers['cache-control'], url).toBe('no-cache');
      expect(r.headers['content-security-policy'], url).toBe(CSP_DASHBOARD);
      expect(r.text, url).toContain('/assets/index-abc123.js');
    }
  });

  it('a revalidated page (304) carries no policy of its own, so the cached page keeps the dashboard CSP on reload', async () => {
    const first = await h.api('GET', '/app/conversations');
    const validators: Record<string, string> = {};
    if (first.headers.etag) validators['if-none-match'] = String(first.headers.etag);
    if (first.headers['last-modified']) validators['if-modified-since'] = String(first.headers['last-modified']);
    expect(Object.keys(validators).length).toBeGreaterThan(0);
    const again = await h.api('GET', '/app/conversations', { headers: validators });
    expect(again.status).toBe(304);
    expect(again.headers['content-security-policy']).toBeUndefined();
    expect(again.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves hashed assets with a year-long immutable cache, and a JSON 404 for an unknown asset', async () => {
    const r = await h.api('GET', '/assets/index-abc123.js');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/javascript/);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const gone = await h.api('GET', '/assets/index-old.js');
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ error: 'Resource could not be found' });
    const escape = await h.api('GET', '/assets/..%2f..%2fetc%2fpasswd');
    expect([403, 404]).toContain(escape.status);
  });

  it('leaves unknown /api, /public and /auth paths to their JSON 404', async () => {
    for (const url of ['/api/v1/nothing', '/public/api/v1/nothing', '/auth/nothing', '/nothing']) {
      const r = await h.api('GET', url);
      expect(r.status, url).toBe(404);
      expect(r.body, url).toEqual({ error: 'Resource could not be found' });
    }
  });

  it('says how to build the dashboard when it is not built (503 page, not a crash)', async () => {
    for (const url of ['/', '/app/profile']) {
      const r = await missing.api('GET', url);
      expect(r.status).toBe(503);
      expect(r.headers['content-type']).toMatch(/^text\/html/);
      expect(r.headers['content-security-policy']).toBe(CSP_DASHBOARD);
      expect(r.text).toContain('npm run build -w @channelx/dashboard');
    }
    expect((await missing.api('GET', '/health')).status).toBe(200);
  });
});
