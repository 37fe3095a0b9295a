import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { TypedApp } from '../app.js';
import type { AppContext } from '../context.js';
import { presentDashboardMissing } from './presenters.js';

/**
 * The agent dashboard (dashboard/, built by Vite into config.dashboardDir), served at `/`:
 * - `/assets/*`: Vite's content-hashed files, cached for a year (`immutable`); an unknown file is
 *   the usual JSON 404;
 * - `/` and the client routes under `/app/*`: index.html, `no-cache` (a new build is picked up on
 *   the next load); it gets the dashboard Content-Security-Policy from kernel/security-headers.ts.
 * Every other path (/api/*, /public/*, /auth/*…) is untouched and keeps its JSON 404. The routes are
 * public (the page itself holds no data) and hidden from the OpenAPI document.
 */
export async function register(app: TypedApp, ctx: AppContext) {
  const dir = ctx.config.dashboardDir;
  await app.register(fastifyStatic, { root: dir, serve: false });

  const page = { hide: true, response: { 200: Type.String(), 503: Type.String() } };

  const index = async (_req: unknown, reply: FastifyReply) => {
    if (!fs.existsSync(path.join(dir, 'index.html'))) {
      return reply.status(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(presentDashboardMissing(dir));
    }
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html', dir, { cacheControl: false });
  };
  for (const url of ['/', '/app', '/app/*']) app.get(url, { config: { access: 'public' }, schema: page }, index);

  app.get('/assets/*', { config: { access: 'public' }, schema: page }, async (req, reply) => {
    const file = (req.params as Record<string, string>)['*'] ?? '';
    return reply.sendFile(file, path.join(dir, 'assets'), { immutable: true, maxAge: '365d' });
  });
}
