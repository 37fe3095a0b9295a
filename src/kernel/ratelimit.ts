import type { Redis } from 'ioredis';
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

export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: Redis, private readonly prefix = 'channelx:rl:') {}

  async hit(key: string, limit: number, windowS: number): Promise<RateLimitResult> {
    const k = this.prefix + key;
    const res = await this.redis.multi().incr(k).pttl(k).exec();
    const count = Number(res?.[0]?.[1] ?? 0);
    let ttl = Number(res?.[1]?.[1] ?? -1);
    if (ttl < 0) {
      await this.redis.pexpire(k, windowS * 1000);
      ttl = windowS * 1000;
    }
    return { allowed: count <= limit, retryAfterS: Math.max(1, Math.ceil(ttl / 1000)), count };
  }

  async reset(key: string) {
    await this.redis.del(this.prefix + key);
  }

  close() {}
}

/** Throws a 429 (with Retry-After) when the key is over its limit. */
export async function enforce(limiter: RateLimiter, key: string, limit: number, windowS: number) {
  const r = await limiter.hit(key, limit, windowS);
  if (!r.allowed) throw errors.rateLimited(r.retryAfterS);
}
