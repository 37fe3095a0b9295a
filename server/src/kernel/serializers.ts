import type { FastifyServerOptions } from 'fastify';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

/**
 * Response serializers compiled on a route's first response instead of at startup: fast-json-stringify
 * builds ~100 KB of code per large response schema, for ~150 routes, most of which an idle or
 * API-only server never answers (issue 13: idle RSS). The compiled serializer is the one Fastify
 * would have built, cached per route and status.
 */
export function lazySerializers(): FastifyServerOptions['schemaController'] {
  const selector = SerializerSelector();
  return {
    compilersFactory: {
      buildSerializer: (externalSchemas: unknown, options: unknown) => {
        const compile = selector(externalSchemas as never, options as never);
        return (route: Parameters<typeof compile>[0]) => {
          let serialize: ((data: unknown) => string) | undefined;
          return (data: unknown) => (serialize ??= compile(route) as (data: unknown) => string)(data);
        };
      },
    },
  };
}
