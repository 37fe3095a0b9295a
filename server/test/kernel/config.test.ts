import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError, DEFAULT_RETRY_SCHEDULE } from '../../src/config.js';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.host).toBe('0.0.0.0');
    expect(c.databaseUrl).toBe('sqlite:./data/channelx.sqlite');
    expect(c.redisUrl).toBeNull();
    expect(c.webhookAllowPrivateNetwork).toBe(false);
    expect(c.webhookRetrySchedule).toEqual(DEFAULT_RETRY_SCHEDULE);
    expect(c.webhookRetrySchedule).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000]);
    expect(c.webhookTimeoutMs).toBe(15000);
    expect(c.trustProxy).toBe(false);
    expect(c.sqliteSynchronous).toBe('normal');
  });

  it('reads every documented variable', () => {
    const c = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@db/x',
      REDIS_URL: 'redis://r:6379',
      WEBHOOK_ALLOW_PRIVATE_NETWORK: 'true',
      WEBHOOK_RETRY_SCHEDULE: '1, 2,3',
      WEBHOOK_TIMEOUT_MS: '500',
      TRUST_PROXY: 'true',
      SQLITE_SYNCHRONOUS: 'FULL',
    });
    expect(c).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://u@db/x',
      redisUrl: 'redis://r:6379',
      webhookAllowPrivateNetwork: true,
      webhookRetrySchedule: [1, 2, 3],
      webhookTimeoutMs: 500,
      trustProxy: true,
      sqliteSynchronous: 'full',
    });
  });

  it('refuses bad values, naming every problem at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', WEBHOOK_RETRY_SCHEDULE: '5,soon', TRUST_PROXY: 'maybe', SQLITE_SYNCHRONOUS: 'off' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'WEBHOOK_RETRY_SCHEDULE', 'TRUST_PROXY', 'SQLITE_SYNCHRONOUS']) expect(msg).toContain(name);
  });
});
