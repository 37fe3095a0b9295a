import { Redis } from 'ioredis';
import { errors } from './errors.js';

export type RateLimitResult = { allowed: boolean; retryAfterS: number; count: number };

/** Fixed-window counters: in process by default, in Redis when configured (shared by every node). */
export interface RateLimiter {
  hit(key: string, limit: number, windowS: number): Promise<RateLimitResult>;
  reset(key: string): Promise<void>;
  close(): void;
}

export class MemoryRateLimiter implements RateLimiter {
  private windows = new Map<string, { count: number; resetAt: number }>();
  private sweep: NodeJS.Timeout;

  constructor() {
    this.sweep = setInterval(() => {
      const t = Date.now();
      for (const [k, w] of this.windows) if (w.resetAt <= t) this.windows.delete(k);
    }, 60_000);
    this.sweep.unref();
  }

  async hit(key: string, limit: number, windowS: number): Promise<RateLimitResult> {
    const t = Date.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= t) {
      w = { count: 0, resetAt: t + windowS * 1000 };
      this.windows.set(key, w);
    }
    w.count++;
    return { allowed: w.count <= limit, retryAfterS: Math.max(1, Math.ceil((w.resetAt - t) / 1000)), count: w.count };
  }

  async reset(key: string) {
    this.windows.delete(key);
  }

  close() {
    clearInterval(this.sweep);
  }
}

type Log = { warn(obj: unknown, msg?: string): void; info(obj: unknown, msg?: string): void };

/** A fixed window in one atomic step: count, expiry set with the first hit (or repaired), time left. */
const HIT_SCRIPT = `
local c = redis.call('INCR', KEYS[1])
local t = redis.call('PTTL', KEYS[1])
if t < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  t = tonumber(ARGV[1])
end
return {c, t}`;

/**
 * Counters in Redis, shared by every node. When Redis fails or does not answer within `timeoutMs`,
 * the limiter falls back to per-node in-process counters (MemoryRateLimiter): degraded, never an
 * error. It logs once when it falls back and once when Redis answers again. While Redis is known to
 * be away (the client is not connected, or it timed out less than `probeMs` ago) requests do not
 * wait for it at all.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly fallback = new MemoryRateLimiter();
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private readonly probeMs: number;
  private readonly log: Log | null;
  private degraded = false;
  private skipUntil = 0;

  constructor(
    private readonly redis: Redis,
    opts: { prefix?: string; timeoutMs?: number; probeMs?: number; log?: Log } = {},
  ) {
    this.prefix = opts.prefix ?? 'channelx:rl:';
    this.timeoutMs = opts.timeoutMs ?? 200;
    this.probeMs = opts.probeMs ?? 1000;
    this.log = opts.log ?? null;
  }

  /** Whether the in-process fallback is in use right now. */
  get isDegraded() {
    return this.degraded;
  }

  async hit(key: string, limit: number, windowS: number): Promise<RateLimitResult> {
    if (!this.available()) return this.fallback.hit(key, limit, windowS);
    try {
      const res = (await this.timed(this.redis.eval(HIT_SCRIPT, 1, this.prefix + key, String(windowS * 1000)))) as [number, number];
      this.recovered();
      const count = Number(res?.[0] ?? 0);
      const ttl = Number(res?.[1] ?? windowS * 1000);
      return { allowed: count <= limit, retryAfterS: Math.max(1, Math.ceil(ttl / 1000)), count };
    } catch (err) {
      this.fellBack(err);
      return this.fallback.hit(key, limit, windowS);
    }
  }

  async reset(key: string) {
    await this.fallback.reset(key);
    if (!this.available()) return;
    try {
      await this.timed(this.redis.del(this.prefix + key));
      this.recovered();
    } catch (err) {
      this.fellBack(err);
    }
  }

  close() {
    this.fallback.close();
  }

  private available() {
    // Not connected: ioredis would queue or fail the command; don't wait for either.
    const status = this.redis.status;
    if (status !== 'ready') {
      // Still connecting (at boot, or between retries) is not worth a warning of its own.
      if (status !== 'wait' && status !== 'connecting') this.fellBack(new Error(`redis is ${status}`));
      return false;
    }
    return Date.now() >= this.skipUntil;
  }

  private timed<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    p.catch(() => {}); // a late failure after the timeout is not an unhandled rejection
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
  }

  private fellBack(err: unknown) {
    this.skipUntil = Date.now() + this.probeMs;
    if (this.degraded) return;
    this.degraded = true;
    this.log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limits: redis unavailable; using per-node in-process limits');
  }

  private recovered() {
    if (!this.degraded) return;
    this.degraded = false;
    this.skipUntil = 0;
    this.log?.info({}, 'rate limits: redis is back; using shared limits again');
  }
}

/**
 * The Redis client of the rate limiter: commands fail fast while it is disconnected (no offline
 * queue, one retry), connecting gives up after a few seconds and retries in the background, and
 * connection errors are logged once per outage instead of surfacing as unhandled error events.
 */
export function createRedisClient(url: string, log: Log): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 3000,
    commandTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ err: err.message }, 'redis connection error; retrying in the background');
  });
  redis.on('ready', () => {
    if (down) log.info({}, 'redis connection is back');
    down = false;
  });
  return redis;
}

/** Throws a 429 (with Retry-After) when the key is over its limit. */
export async function enforce(limiter: RateLimiter, key: string, limit: number, windowS: number) {
  const r = await limiter.hit(key, limit, windowS);
  if (!r.allowed) throw errors.rateLimited(r.retryAfterS);
}
