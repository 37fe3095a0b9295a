import type { App } from '../app.js';
import type { AppContext } from '../context.js';
import { errors } from '../kernel/errors.js';
import { presentHealth, presentReadiness } from '../kernel/presenters.js';
import { safeEqual, sha256Hex } from '../kernel/tokens.js';
import { ErrorBody, HealthJson } from '../accounts/schemas.js';
import { Metrics } from './index.js';
import { readinessChecker } from './readiness.js';
import { MetricsText, ReadinessJson } from './schemas.js';

/**
 * Counts every answered request for GET /metrics (only when metrics are on: METRICS_TOKEN). Added
 * before any plugin or route so that it covers them all; the route label is Fastify's pattern
 * (`/api/v1/accounts/:account_id/conversations`), never the URL.
 */
export function observeRequests(app: App, ctx: AppContext, version: string): Metrics | null {
  if (!ctx.config.metricsToken) return null;
  const metrics = new Metrics({ ...ctx, version });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observeRequest(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.addHook('onClose', async () => metrics.close());
  return metrics;
}

/**
 * The operator's endpoints: liveness (`/health`), readiness (`/health/ready`) and the Prometheus
 * scrape (`/metrics`: 404 while METRICS_TOKEN is unset, else `Authorization: Bearer <token>`,
 * compared in constant time; 401 without it).
 */
export function registerOperationRoutes(app: App, ctx: AppContext, metrics: Metrics | null, version: string) {
  app.get(
    '/health',
    {
      config: { access: 'public' },
      schema: { tags: ['Health'], summary: 'Liveness: the process answers, and whether the database does', security: [], response: { 200: HealthJson, 503: HealthJson } },
    },
    async (_req, reply) => {
      const database = await ctx.database.ping();
      return reply.status(database ? 200 : 503).send(presentHealth(database, version));
    },
  );

  const readiness = readinessChecker(ctx);
  app.get(
    '/health/ready',
    {
      config: { access: 'public' },
      schema: {
        tags: ['Health'],
        summary: 'Readiness: database reachable, migrations applied, outbox listeners, delivery worker and /cable running (503 names the failed checks)',
        security: [],
        response: { 200: ReadinessJson, 503: ReadinessJson },
      },
    },
    async (_req, reply) => {
      const r = await readiness();
      return reply.status(r.failing.length ? 503 : 200).send(presentReadiness(r, version));
    },
  );

  const expected = ctx.config.metricsToken ? sha256Hex(`Bearer ${ctx.config.metricsToken}`) : null;
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        tags: ['Health'],
        summary: 'Prometheus metrics (text format); 404 unless METRICS_TOKEN is set, then Authorization: Bearer <METRICS_TOKEN>',
        security: [{ metricsToken: [] }],
        response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: MetricsText } } }, 401: ErrorBody, 404: ErrorBody },
      },
    },
    async (req, reply) => {
      if (!metrics || !expected) throw errors.notFound();
      // Digests of equal length: the comparison takes the same time whatever was sent.
      if (!safeEqual(sha256Hex(req.headers.authorization ?? ''), expected)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw errors.invalidToken();
      }
      return reply.type(metrics.contentType).send(await metrics.scrape());
    },
  );
}
