import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import formbody from '@fastify/formbody';
import { Busboy } from '@fastify/busboy';
import { AppError, errors } from './errors.js';
import { assertJsonLimits, limitError, MAX_DEPTH, MAX_NODES, parseJsonChecked, scanJsonText } from './json-limits.js';

/** Parts of one multipart body (fields and files together); the body limit bounds their total size. */
export const MAX_MULTIPART_PARTS = 1000;
/** Longest multipart field name (bytes); longer ones are refused, never silently cut. */
const MAX_FIELD_NAME = 1024;

/**
 * Request bodies are accepted as leniently as the reference does: JSON, urlencoded and multipart
 * (with Rails-style `a[b]` / `a[]` keys), an empty body being an empty object.
 *
 * Every body is bounded before it is used: by size (the route's body limit, else
 * config.bodyLimitBytes: 413), and by shape (json-limits.ts: depth and keys + elements: 422 naming the
 * field), for every content type and for query strings. JSON text is scanned before it is parsed.
 * Multipart bodies are streamed: fields are kept, and the first file part ends the request with a 422
 * naming its field (no route stores files yet), before the file is read.
 * Authentication runs earlier still, in onRequest (src/app.ts), so none of this happens for a caller
 * who may not use the route.
 */
export async function registerBodyParsers(app: FastifyInstance, bodyLimit: number) {
  /** Requests whose body was held to the shape limits as JSON text (not walked a second time). */
  const scannedAsText = new WeakSet<FastifyRequest>();
  const defaultJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, {});
    const over = scanJsonText(text);
    if (over) return done(limitError(over, 'body'), undefined);
    scannedAsText.add(req);
    defaultJson(req, text, (err: Error | null, value?: unknown) => {
      if (err) {
        (err as Error & { statusCode?: number }).statusCode = 400;
        return done(err, undefined);
      }
      done(null, value);
    });
  });
  await app.register(formbody, { bodyLimit, parser: (s: string) => nestParams(new URLSearchParams(s)) });
  app.addContentTypeParser('multipart/form-data', (req, payload, done) => {
    parseMultipart(req, payload, req.routeOptions.bodyLimit ?? bodyLimit).then(
      (value) => done(null, value),
      (err: Error) => done(err, undefined),
    );
  });
  app.addHook('preValidation', async (req: FastifyRequest) => {
    if (req.body === undefined || req.body === null) {
      if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method)) req.body = {};
    }
  });
  // Query strings use the same bracket convention (labels[]=a&labels[]=b).
  app.addHook('preValidation', async (req: FastifyRequest) => {
    const q = req.query as Record<string, unknown> | undefined;
    if (q && Object.keys(q).some((k) => k.includes('['))) req.query = nestParams(Object.entries(q));
  });
  // The shape limits on what every parser built (JSON was already scanned as text).
  app.addHook('preValidation', async (req: FastifyRequest) => {
    assertJsonLimits(req.query, 'query');
    if (!scannedAsText.has(req)) assertJsonLimits(req.body, 'body');
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

const tooLarge = errors.payloadTooLarge;
const malformed = (message = 'Malformed multipart body') => Object.assign(new Error(message), { statusCode: 400 });
/** The field a part belongs to, dotted: `attachments[]` → `attachments`, `message[attachments][]` → `message.attachments`. */
const fieldOf = (name: string) => name.split(/[[\]]+/).filter(Boolean).join('.') || name;

/**
 * Streams a multipart body through busboy: at most `limit` bytes in all (413 as soon as more
 * arrive, or at once when Content-Length says so), MAX_MULTIPART_PARTS parts, each field no longer
 * than the limit. A file part is a 422 naming its field before its content is read (an empty file
 * input, filename "" and no bytes, is skipped as browsers send it). On any refusal reading stops; the
 * connection is closed after the answer (Fastify does so for every body that fails to parse).
 */
function parseMultipart(req: FastifyRequest, payload: Readable, limit: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length']) > limit) return reject(tooLarge());
    let bb: InstanceType<typeof Busboy>;
    try {
      bb = new Busboy({
        headers: req.headers as { 'content-type': string },
        limits: { parts: MAX_MULTIPART_PARTS, fieldSize: limit, fieldNameSize: MAX_FIELD_NAME },
      });
    } catch {
      return reject(malformed());
    }
    const entries: Array<[string, unknown]> = [];
    let received = 0;
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      payload.removeListener('data', count);
      payload.removeListener('error', onAbort);
      payload.removeListener('close', onClose);
      payload.unpipe(bb);
      if (!err) {
        try {
          return resolve(nestParams(entries));
        } catch (e) {
          err = e as Error;
        }
      }
      payload.pause();
      bb.removeAllListeners();
      bb.on('error', () => {}); // a late parser error of the abandoned body goes nowhere
      reject(err);
    };
    const count = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) finish(tooLarge());
    };
    const onAbort = () => finish(malformed('The request body ended early'));
    const onClose = () => {
      if (!payload.readableEnded) onAbort();
    };
    bb.on('field', (name: string, value: string, nameTruncated: boolean, valueTruncated: boolean, _enc: string, mimetype: string) => {
      if (settled) return;
      if (nameTruncated) return finish(tooLarge('A multipart field name is too long'));
      if (valueTruncated) return finish(tooLarge());
      if (entries.length >= MAX_NODES) return finish(limitError({ kind: 'nodes', path: [] }, fieldOf(name)));
      if (/^application\/json\b/i.test(mimetype ?? '')) {
        try {
          entries.push([name, parseJsonChecked(value, fieldOf(name))]);
        } catch (err) {
          finish(err instanceof AppError ? err : malformed(`Malformed JSON in multipart field ${fieldOf(name)}`));
        }
        return;
      }
      entries.push([name, value]);
    });
    bb.on('file', (name: string, file: Readable, filename: string | undefined) => {
      const refuse = () => finish(errors.invalid(`${fieldOf(name)}: file uploads are not supported by this server yet`, [fieldOf(name)]));
      if (settled) return void file.resume();
      if (filename) return refuse();
      file.on('data', (chunk: Buffer) => {
        if (chunk.length) refuse();
      });
    });
    bb.on('partsLimit', () => finish(tooLarge(`A multipart body may have at most ${MAX_MULTIPART_PARTS} parts`)));
    bb.on('error', (err: Error) => {
      // an empty body is an empty form, as with the other content types
      if (received === 0 && /unexpected end/i.test(err.message)) return finish(null);
      finish(malformed());
    });
    bb.on('finish', () => finish(null));
    payload.on('data', count);
    payload.on('error', onAbort);
    payload.on('close', onClose);
    payload.pipe(bb);
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

/**
 * Turns `a[b][c]=1`, `a[]=1&a[]=2` into nested objects and arrays. A key nested deeper than
 * MAX_DEPTH, or more entries than MAX_NODES, is a 422 before anything is built.
 */
export function nestParams(entries: Entries): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const [rawKey, value] of entries) {
    const values = Array.isArray(value) ? value : [value];
    const m = rawKey.match(/^([^[\]]+)((?:\[[^\]]*\])*)$/);
    const path = m ? [m[1], ...[...m[2].matchAll(/\[([^\]]*)\]/g)].map((x) => x[1])] : [rawKey];
    if (path.length > MAX_DEPTH) throw limitError({ kind: 'depth', path }, path[0]);
    if ((n += values.length) > MAX_NODES) throw limitError({ kind: 'nodes', path: [path[0]] }, path[0]);
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

/**
 * `content_attributes` (and similar) may arrive as a JSON string. Every JSON object a service stores
 * from input goes through here: the string is scanned before it is parsed, and the object (string or
 * not) is held to the shape limits of json-limits.ts (a 422 naming `field`).
 */
export function jsonObject(value: unknown, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'object' && !Array.isArray(value)) {
    assertJsonLimits(value, field, [field]);
    return value as Record<string, unknown>;
  }
  if (typeof value === 'string') {
    let parsed: unknown;
    try {
      parsed = parseJsonChecked(value, field);
    } catch (err) {
      if (err instanceof AppError) throw err;
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  }
  throw errors.invalid(`${field} must be an object or a JSON object string`, [field]);
}
