import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The one typed configuration object. Nothing else in the codebase reads process.env:
 * every module receives the values it needs from here.
 */
export type Config = {
  port: number;
  host: string;
  databaseUrl: string;
  /** SQLite only: `normal` (WAL default: no loss on a process crash) or `full` (also survives power loss, fewer writes/s). */
  sqliteSynchronous: 'normal' | 'full';
  redisUrl: string | null;
  publicUrl: string;
  logLevel: string;
  smtpUrl: string | null;
  mailFrom: string;
  webhookAllowPrivateNetwork: boolean;
  webhookRetrySchedule: number[];
  webhookTimeoutMs: number;
  /** Sends in flight at once per endpoint and node (a slow endpoint never takes every slot). */
  webhookConcurrencyPerEndpoint: number;
  /** Send webhooks from a thread of their own (HTTP work off the API's event loop); the database work stays on the main thread. */
  webhookSenderThread: boolean;
  bodyLimitBytes: number;
  /** On SIGTERM/SIGINT: how long in-flight requests, then the outbox and in-flight webhook sends, may finish (one budget). */
  shutdownGraceMs: number;
  cookieSecure: boolean;
  /**
   * Origins (scheme://host[:port]) trusted for cookie-authenticated state-changing requests, besides
   * PUBLIC_URL's origin and the request's own Host (ALLOWED_ORIGINS, comma-separated).
   */
  allowedOrigins: string[];
  /** Honour X-Forwarded-For (only behind a reverse proxy you control; otherwise clients could spoof their IP). */
  trustProxy: boolean;
  /** GET /metrics answers only with `Authorization: Bearer <this>`; unset (null): /metrics is off (404) and nothing is counted. */
  metricsToken: string | null;
  /** The built dashboard (DASHBOARD_DIR; default: the workspace's dashboard/dist), served at `/`. */
  dashboardDir: string;
  signInRateLimit: { perIp: number; perIpWindowS: number; perEmail: number; perEmailWindowS: number };
  publicRateLimit: { perIpPerMinute: number; perInboxPerMinute: number; messagesPerConversationPerMinute: number };
  cable: {
    maxConnectionsPerIp: number;
    maxBufferedBytes: number;
    maxFrameBytes: number;
    authTimeoutMs: number;
    /** Prefix of the Redis pub/sub channels and presence keys (several installations can share one Redis). */
    redisPrefix: string;
    /** How long after its last update_presence a user / a contact counts as online (seconds). */
    userPresenceS: number;
    contactPresenceS: number;
  };
};

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    problems.push(`${name} must be a non-negative integer, got "${raw}"`);
    return fallback;
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  problems.push(`${name} must be true or false, got "${raw}"`);
  return fallback;
}

/** A comma-separated list of web origins (`https://chat.example.com`), normalised; no paths. */
function origins(env: Env, name: string, problems: string[]): string[] {
  const out: string[] = [];
  for (const raw of (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    let url: URL | null = null;
    try {
      url = new URL(raw);
    } catch {
      /* reported below */
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
      problems.push(`${name} must be comma-separated origins like https://chat.example.com (no path), got "${raw}"`);
    } else out.push(url.origin);
  }
  return out;
}

/**
 * dashboard/dist of the workspace, relative to this module: server/src/config.ts under tsx and
 * server/dist/main.js once bundled are both two levels below the repository root.
 */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export const DEFAULT_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000];

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const port = int(env, 'PORT', 3000, problems);
  const host = env.HOST || '0.0.0.0';
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/channelx.sqlite';
  if (!/^sqlite:/.test(databaseUrl) && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`DATABASE_URL must be sqlite:<path> or postgres://…, got "${databaseUrl}"`);
  }
  const sqliteSynchronous = (env.SQLITE_SYNCHRONOUS || 'normal').toLowerCase();
  if (sqliteSynchronous !== 'normal' && sqliteSynchronous !== 'full') {
    problems.push(`SQLITE_SYNCHRONOUS must be normal or full, got "${env.SQLITE_SYNCHRONOUS}"`);
  }
  const redisUrl = env.REDIS_URL || null;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) problems.push(`REDIS_URL must be redis://…, got "${redisUrl}"`);

  let webhookRetrySchedule = DEFAULT_RETRY_SCHEDULE;
  if (env.WEBHOOK_RETRY_SCHEDULE !== undefined && env.WEBHOOK_RETRY_SCHEDULE !== '') {
    const parts = env.WEBHOOK_RETRY_SCHEDULE.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (nums.some((n) => !Number.isFinite(n) || n < 0)) {
      problems.push(`WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds, got "${env.WEBHOOK_RETRY_SCHEDULE}"`);
    } else webhookRetrySchedule = nums;
  }

  const publicUrl = (env.PUBLIC_URL || `http://localhost:${port}`).replace(/\/+$/, '');
  const config: Config = {
    port,
    host,
    databaseUrl,
    sqliteSynchronous: sqliteSynchronous === 'full' ? 'full' : 'normal',
    redisUrl,
    publicUrl,
    logLevel: env.LOG_LEVEL || 'info',
    smtpUrl: env.SMTP_URL || null,
    mailFrom: env.MAIL_FROM || 'ChannelX <no-reply@channelx.local>',
    webhookAllowPrivateNetwork: bool(env, 'WEBHOOK_ALLOW_PRIVATE_NETWORK', false, problems),
    webhookRetrySchedule,
    webhookTimeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 15000, problems),
    webhookConcurrencyPerEndpoint: Math.max(1, int(env, 'WEBHOOK_CONCURRENCY_PER_ENDPOINT', 16, problems)),
    webhookSenderThread: bool(env, 'WEBHOOK_SENDER_THREAD', false, problems),
    bodyLimitBytes: int(env, 'BODY_LIMIT_BYTES', 1024 * 1024, problems),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, problems),
    cookieSecure: bool(env, 'COOKIE_SECURE', publicUrl.startsWith('https://'), problems),
    allowedOrigins: origins(env, 'ALLOWED_ORIGINS', problems),
    trustProxy: bool(env, 'TRUST_PROXY', false, problems),
    metricsToken: env.METRICS_TOKEN || null,
    dashboardDir: path.resolve(env.DASHBOARD_DIR || DEFAULT_DASHBOARD_DIR),
    signInRateLimit: {
      perIp: int(env, 'SIGN_IN_LIMIT_PER_IP', 5, problems),
      perIpWindowS: 300,
      perEmail: int(env, 'SIGN_IN_LIMIT_PER_EMAIL', 10, problems),
      perEmailWindowS: 900,
    },
    publicRateLimit: {
      perIpPerMinute: int(env, 'PUBLIC_API_LIMIT_PER_IP', 300, problems),
      perInboxPerMinute: int(env, 'PUBLIC_API_LIMIT_PER_INBOX', 3000, problems),
      messagesPerConversationPerMinute: int(env, 'CONVERSATION_MESSAGE_PER_MINUTE_LIMIT', 200, problems),
    },
    cable: {
      maxConnectionsPerIp: int(env, 'CABLE_MAX_CONNECTIONS_PER_IP', 20000, problems),
      maxBufferedBytes: int(env, 'CABLE_MAX_BUFFERED_BYTES', 1024 * 1024, problems),
      maxFrameBytes: int(env, 'CABLE_MAX_FRAME_BYTES', 64 * 1024, problems),
      authTimeoutMs: int(env, 'CABLE_AUTH_TIMEOUT_MS', 5000, problems),
      redisPrefix: env.CABLE_REDIS_PREFIX || 'channelx:cable:',
      userPresenceS: int(env, 'PRESENCE_DURATION', 20, problems),
      contactPresenceS: int(env, 'CONTACT_PRESENCE_DURATION', 90, problems),
    },
  };
  if (config.metricsToken !== null && !/^[\x21-\x7e]{16,}$/.test(config.metricsToken)) {
    problems.push('METRICS_TOKEN must be at least 16 printable characters without spaces (e.g. `openssl rand -hex 24`)');
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  return config;
}

/** Variables for tests only; read here so that process.env stays inside this module. */
export function testEnv(env: Env = process.env) {
  return {
    pgUrl: env.DATABASE_URL_TEST_PG || null,
    redisUrl: env.REDIS_URL || null,
    ci: env.CI === 'true' || env.CI === '1',
  };
}
