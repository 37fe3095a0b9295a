import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';

describeEachDb('health, errors and OpenAPI', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h.close());

  it('reports database reachability without auth', async () => {
    const r = await h.api('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', database: 'up' });
  });

  it('serves the OpenAPI document and the browsable page', async () => {
    const doc = await h.api('GET', '/api-docs/json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toContain('/health');
    const page = await h.api('GET', '/api-docs/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html');
  });

  it('answers unknown routes and malformed JSON with 4xx JSON', async () => {
    const nf = await h.api('GET', '/api/v1/nowhere');
    expect(nf.status).toBe(404);
    expect(nf.body).toEqual({ error: 'Resource could not be found' });
    const bad = await h.api('POST', '/api/v1/profile', { body: '{"a":', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/JSON/);
  });
});
