import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AppContext } from './context.js';
import { registerErrorHandler } from './kernel/errors.js';
import { registerBodyParsers } from './kernel/http.js';
import { registerSecurityHeaders } from './kernel/security-headers.js';
import { registerRoutes } from './routes.js';
import { cableComponentSchemas } from './realtime/event-schemas.js';
import { observeRequests, registerOperationRoutes } from './metrics/routes.js';
import { enforceAccessPolicies } from './accounts/guard.js';
import { ErrorBody } from './accounts/schemas.js';
import { lazySerializers } from './kernel/serializers.js';
import pkg from '../package.json' with { type: 'json' };


export type App = FastifyInstance;
export type TypedApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

/** Builds the HTTP + WebSocket application. Logging, DB and workers come from the context. */
export async function buildApp(ctx: AppContext): Promise<App> {
  const app: App = Fastify({
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    bodyLimit: ctx.config.bodyLimitBytes,
    trustProxy: ctx.config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 500 },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false } },
    genReqId: () => crypto.randomUUID(),
    schemaController: lazySerializers(),
  });

  registerErrorHandler(app);
  // First, so that every route and plugin after it is counted.
  const metrics = observeRequests(app, ctx, pkg.version);
  registerSecurityHeaders(app, ctx.config);
  guardAccountRoutes(app, ctx);
  await app.register(cookie);
  await registerBodyParsers(app, ctx.config.bodyLimitBytes);
  await app.register(websocket, { options: { maxPayload: ctx.config.cable.maxFrameBytes } });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ChannelX API',
        version: pkg.version,
        description:
          'Application API (api_access_token), Client API (public, by inbox identifier and contact source_id) and webhooks. Wire-compatible with the Chatwoot v1 API for the API channel.',
      },
      components: {
        securitySchemes: {
          userApiKey: { type: 'apiKey', in: 'header', name: 'api_access_token' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN (GET /metrics only)' },
        },
        // The /cable RoomChannel messages (not HTTP operations): types for the clients.
        schemas: cableComponentSchemas,
      },
      security: [{ userApiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api-docs' });

  registerOperationRoutes(app, ctx, metrics, pkg.version);

  await registerRoutes(app.withTypeProvider<TypeBoxTypeProvider>(), ctx);
  return app;
}

/**
 * Authentication and authorization come before the body: every route states its access policy in
 * `config.access`, enforced in onRequest (src/accounts/guard.ts) before a byte of the body is read
 * or parsed; an /api/v1 route without one is refused at startup.
 */
function guardAccountRoutes(app: App, ctx: AppContext) {
  // Writes that may be authenticated by the session cookie can be refused by the Origin check (403).
  app.addHook('onRoute', (route) => {
    const writes = ['POST', 'PUT', 'PATCH', 'DELETE'];
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const response = route.schema?.response as Record<string, unknown> | undefined;
    if (!response || response[403] || !methods.some((m) => writes.includes(m))) return;
    if (route.url.startsWith('/api/v1/') || route.url.startsWith('/auth/')) response[403] = ErrorBody;
  });
  enforceAccessPolicies(app, ctx);
}
