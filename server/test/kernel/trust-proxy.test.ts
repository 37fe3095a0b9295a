import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';

describeEachDb('client IPs without TRUST_PROXY', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect, { SIGN_IN_LIMIT_PER_IP: '2', SIGN_IN_LIMIT_PER_EMAIL: '100' });
  });
  afterAll(() => h.close());

  it('ignores X-Forwarded-For, so a client cannot dodge the per-IP sign-in limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await h.api('POST', '/auth/sign_in', {
        body: { email: `nobody${i}@example.com`, password: 'wrong-password' },
        headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
      });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([401, 401, 429]);
  });
});
