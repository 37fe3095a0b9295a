import pg from 'pg';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { testEnv } from '../../src/config.js';

/**
 * Finds the services the suite can use. PostgreSQL: DATABASE_URL_TEST_PG (or the local default);
 * Redis: REDIS_URL (or the local default). Missing ones are skipped loudly, except under CI=true,
 * where a missing service fails the run.
 */
const LOCAL_PG = 'postgres://postgres@127.0.0.1:5432/test';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

async function probePg(url: string) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeRedis(url: string) {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

export default async function setup(project: TestProject) {
  const env = testEnv();
  const pgUrl = env.pgUrl ?? LOCAL_PG;
  const redisUrl = env.redisUrl ?? LOCAL_REDIS;
  const [pgOk, redisOk] = await Promise.all([probePg(pgUrl), probeRedis(redisUrl)]);
  const banner = (what: string, url: string) =>
    `\n${'!'.repeat(78)}\n!! ${what} is not reachable at ${url}: its tests are SKIPPED.\n${'!'.repeat(78)}\n`;
  if (!pgOk) {
    if (env.ci) throw new Error(`CI=true and PostgreSQL is unreachable at ${pgUrl}`);
    console.warn(banner('PostgreSQL', pgUrl));
  }
  if (!redisOk) {
    if (env.ci) throw new Error(`CI=true and Redis is unreachable at ${redisUrl}`);
    console.warn(banner('Redis', redisUrl));
  }
  project.provide('pgUrl', pgOk ? pgUrl : null);
  project.provide('redisUrl', redisOk ? redisUrl : null);
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
    redisUrl: string | null;
  }
}
