import type { FastifyInstance, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import { errors } from './errors.js';

/**
 * Request bodies are accepted as leniently as the reference does: JSON, urlencoded and multipart
 * (with Rails-style `a[b]` / `a[]` keys), an empty body being an empty object.
 */
export async function registerBodyParsers(app: FastifyInstance, bodyLimit: number) {
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    if (typeof body === 'string' && body.trim() === '') return done(null, {});
    defaultJson(req, body as string, (err: Error | null, value?: unknown) => {
      if (err) {
        (err as Error & { statusCode?: number }).statusCode = 400;
        return done(err, undefined);
      }
      done(null, value);
    });
  });
  await app.register(formbody, { bodyLimit, parser: (s: string) => nestParams(new URLSearchParams(s)) });
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: 40 * 1024 * 1024, files: 15, fields: 200, fieldSize: bodyLimit },
  });
  // Multipart fields arrive flat; give them the same nesting as urlencoded bodies.
  app.addHook('preValidation', async (req: FastifyRequest) => {
    if (req.isMultipart?.() && req.body && typeof req.body === 'object') {
      req.body = nestParams(Object.entries(req.body as Record<string, unknown>));
    }
    if (req.body === undefined || req.body === null) {
      if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) req.body = {};
    }
  });
  // Query strings use the same bracket convention (labels[]=a&labels[]=b).
  app.addHook('preValidation', async (req: FastifyRequest) => {
    const q = req.query as Record<string, unknown> | undefined;
    if (q && Object.keys(q).some((k) => k.includes('['))) req.query = nestParams(Object.entries(q));
  });
  // JSON `1e309` parses to Infinity, and Ajv coerces a query/param string like "1e309" to Infinity
  // while skipping minimum/maximum for non-finite numbers; no handler or database wants either.
  app.addHook('preHandler', async (req: FastifyRequest) => {
    for (const [where, value] of [['params', req.params], ['query', req.query], ['body', req.body]] as const) {
      const at = nonFinitePath(value);
      if (at !== null) throw errors.invalid(`${at || where} must be a finite number`, [at || where]);
    }
  });
}

/** The dotted path of the first NaN/±Infinity inside a value, or null when there is none. */
export function nonFinitePath(value: unknown): string | null {
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return path;
    } else if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      for (const [k, child] of Object.entries(v)) stack.push([child, path ? `${path}.${k}` : k]);
    }
  }
  return null;
}

type Entries = Iterable<[string, unknown]>;

/** Turns `a[b][c]=1`, `a[]=1&a[]=2` into nested objects and arrays. */
export function nestParams(entries: Entries): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of entries) {
    const values = Array.isArray(value) ? value : [value];
    const m = rawKey.match(/^([^[\]]+)((?:\[[^\]]*\])*)$/);
    const path = m ? [m[1], ...[...m[2].matchAll(/\[([^\]]*)\]/g)].map((x) => x[1])] : [rawKey];
    if (path.some((p) => p === '__proto__' || p === 'constructor' || p === 'prototype')) continue;
    for (const v of values) assign(out, path, v);
  }
  return out;
}

function assign(target: Record<string, unknown>, path: string[], value: unknown) {
  let node: any = target;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const last = i === path.length - 1;
    const nextIsArray = !last && path[i + 1] === '';
    if (key === '') {
      if (!Array.isArray(node)) return;
      if (last) node.push(value);
      else {
        const obj = {};
        node.push(obj);
        node = obj;
      }
      continue;
    }
    if (last) {
      if (node[key] !== undefined && !Array.isArray(node[key])) node[key] = [node[key], value];
      else if (Array.isArray(node[key])) node[key].push(value);
      else node[key] = value;
    } else {
      if (node[key] === undefined || typeof node[key] !== 'object') node[key] = nextIsArray ? [] : {};
      node = node[key];
    }
  }
}

/** `content_attributes` (and similar) may arrive as a JSON string. */
export function jsonObject(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  if (typeof value === 'string') {
    try {
      const parsed = JSON.parse(value);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
    } catch {
      /* fall through */
    }
  }
  throw errors.invalid(`${field} must be an object or a JSON object string`, [field]);
}
