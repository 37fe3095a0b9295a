import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDb, startTestServer, type TestServer } from '../support/harness.js';

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the CLI as a child process on the test server's database (the server keeps running). */
function cli(databaseUrl: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'src/cli/index.ts', ...args], {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describeEachDb('setup CLI', (dialect) => {
  let h: TestServer;
  beforeAll(async () => {
    h = await startTestServer(dialect);
  });
  afterAll(() => h.close());

  const email = `Owner-${crypto.randomBytes(4).toString('hex')}@Example.com`;
  const args = (password: string) => ['setup', '--account', 'Acme', '--name', 'Owner', '--email', email, '--password', password, '--json'];

  it('creates an account and its administrator, printing one JSON line', async () => {
    const r = await cli(h.databaseUrl, args('correct-horse'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    expect(Object.keys(out).sort()).toEqual(['access_token', 'account_id', 'pubsub_token', 'user_id']);
    expect(out.account_id).toBeTypeOf('number');
    expect(out.user_id).toBeTypeOf('number');

    // the printed token works against the running server, as an administrator of that account
    const profile = await h.api('GET', '/api/v1/profile', { token: out.access_token });
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: out.user_id, email: email.toLowerCase(), pubsub_token: out.pubsub_token, role: 'administrator' });
    const account = await h.api('GET', `/api/v1/accounts/${out.account_id}`, { token: out.access_token });
    expect(account.body.name).toBe('Acme');

    // idempotent per email: the same line again, no second account
    const again = await cli(h.databaseUrl, args('correct-horse'));
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.trim())).toEqual(out);
    const accounts = await h.server.ctx.database.db.selectFrom('account_users').select('account_id').where('user_id', '=', out.user_id).execute();
    expect(accounts).toHaveLength(1);

    // the password is the one given (argon2id), so the dashboard sign-in accepts it
    const signIn = await h.api('POST', '/auth/sign_in', { body: { email, password: 'correct-horse' } });
    expect(signIn.status).toBe(200);
  });

  it('refuses an existing email with a wrong password, and bad input, with a non-zero exit', async () => {
    const wrong = await cli(h.databaseUrl, args('not-the-password'));
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout.trim()).toBe('');
    expect(wrong.stderr).toMatch(/password/i);

    const bad = await cli(h.databaseUrl, ['setup', '--account', 'X', '--name', 'Y', '--email', 'nope', '--password', 'short', '--json']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout.trim()).toBe('');
  });
});
