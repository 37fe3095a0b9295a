import { errors } from './errors.js';

/**
 * The one limit on the shape of JSON values that come from outside (request bodies of every content
 * type, query strings, JSON strings inside fields, /cable frames). Nothing deeper or wider is parsed
 * further, stored or handed to a listener, so no recursive code downstream (JSON.stringify of a
 * webhook payload, canonical JSON of an idempotent request, …) can choke on input.
 *
 * - depth: containers nested in one another; `{"a": 1}` is 1 deep, `{"a": {"b": [1]}}` 3 deep;
 * - nodes: object keys plus array elements, counted over the whole value.
 *
 * The size in bytes is bounded by the body limit (config.bodyLimitBytes) and the /cable frame limit.
 */
export const MAX_DEPTH = 32;
export const MAX_NODES = 10_000;

export type JsonLimits = { depth: number; nodes: number };
export const JSON_LIMITS: JsonLimits = { depth: MAX_DEPTH, nodes: MAX_NODES };

/** Where and how a value goes past the limits: `path` is the key/index path of the offending container (capped). */
export type LimitViolation = { kind: 'depth' | 'nodes'; path: Array<string | number> };

/** Path segments kept for messages: enough to name the field, never the whole 9 000-level chain. */
const PATH_SEGMENTS = 6;
const KEY_CHARS = 64;

type Frame = { object: boolean; key: string | number; expectKey: boolean };

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;
const COMMA = 44;
const COLON = 58;

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/**
 * One linear pass over JSON text, outside strings, before anything is parsed or allocated: the first
 * place where it nests deeper than `limits.depth` or holds more than `limits.nodes` keys + elements.
 * Malformed text is not judged here (JSON.parse reports it afterwards); null means within the limits.
 */
export function scanJsonText(text: string, limits: JsonLimits = JSON_LIMITS): LimitViolation | null {
  const stack: Frame[] = [];
  let nodes = 0;
  let inString = false;
  let escaped = false;
  let inScalar = false;
  let keyStart = -1;
  const path = () => stack.slice(0, PATH_SEGMENTS).map((f) => f.key);
  /** A value (or a key) begins inside the top container. */
  const counted = () => ++nodes > limits.nodes;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === BACKSLASH) escaped = true;
      else if (c === QUOTE) {
        inString = false;
        if (keyStart >= 0) {
          stack[stack.length - 1].key = decodeKey(text, keyStart, i);
          keyStart = -1;
        }
      }
      continue;
    }
    const top = stack.length ? stack[stack.length - 1] : undefined;
    if (c === QUOTE) {
      inString = true;
      inScalar = false;
      if (top?.object && top.expectKey) {
        top.expectKey = false;
        keyStart = i + 1;
        if (counted()) return { kind: 'nodes', path: path() };
      } else if (top && !top.object && counted()) return { kind: 'nodes', path: path() };
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      inScalar = false;
      if (top && !top.object && counted()) return { kind: 'nodes', path: path() };
      if (stack.length >= limits.depth) return { kind: 'depth', path: path() };
      stack.push({ object: c === OPEN_OBJECT, key: c === OPEN_OBJECT ? '' : 0, expectKey: c === OPEN_OBJECT });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      inScalar = false;
      stack.pop();
    } else if (c === COMMA) {
      inScalar = false;
      if (top?.object) top.expectKey = true;
      else if (top) top.key = (top.key as number) + 1;
    } else if (c === COLON || isSpace(c)) {
      inScalar = false;
    } else if (!inScalar) {
      // a number or a literal (true, false, null) begins
      inScalar = true;
      if (top && !top.object && counted()) return { kind: 'nodes', path: path() };
    }
  }
  return null;
}

function decodeKey(text: string, start: number, end: number): string {
  const raw = text.slice(start, Math.min(end, start + KEY_CHARS));
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${text.slice(start, end)}"`).slice(0, KEY_CHARS);
  } catch {
    return raw;
  }
}

/**
 * The same limits on a value that is already built (urlencoded and multipart bodies, query strings,
 * objects handed to a service). Iterative: any depth is safe to inspect.
 */
export function inspectValue(value: unknown, limits: JsonLimits = JSON_LIMITS): LimitViolation | null {
  if (!isContainer(value)) return null;
  let nodes = 0;
  const stack: Array<{ v: object; depth: number; path: Array<string | number> }> = [{ v: value, depth: 1, path: [] }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (depth > limits.depth) return { kind: 'depth', path: path.slice(0, PATH_SEGMENTS) };
    const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    nodes += entries.length;
    if (nodes > limits.nodes) return { kind: 'nodes', path: path.slice(0, PATH_SEGMENTS) };
    for (const [k, child] of entries) {
      if (isContainer(child)) stack.push({ v: child, depth: depth + 1, path: path.length < PATH_SEGMENTS ? [...path, k] : path });
    }
  }
  return null;
}

const isContainer = (v: unknown): v is object => !!v && typeof v === 'object' && !ArrayBuffer.isView(v);

/**
 * The 422 for a violation: `attributes` names the top-level field (or `where` for a value that is not
 * an object, e.g. a bare array body), the message the (shortened) path and the limit.
 */
export function limitError(violation: LimitViolation, where: string, prefix: Array<string | number> = []) {
  const path = [...prefix, ...violation.path];
  const field = typeof path[0] === 'string' && path[0] !== '' ? path[0] : where;
  const shown = (field === where ? [where, ...path] : path).slice(0, PATH_SEGMENTS).join('.');
  const message =
    violation.kind === 'depth'
      ? `${shown}… is nested too deeply (at most ${MAX_DEPTH} levels)`
      : `${field} has too many keys or elements (at most ${MAX_NODES} in a request)`;
  return errors.invalid(message, [field]);
}

/** Throws the 422 when a built value (body, query, field) goes past the limits. */
export function assertJsonLimits(value: unknown, where: string, prefix: Array<string | number> = []) {
  const v = inspectValue(value);
  if (v) throw limitError(v, where, prefix);
}

/**
 * JSON.parse behind the scan: a 422 naming `field` when the text goes past the limits, a SyntaxError
 * when it is not JSON. Use it for every JSON string that comes from outside.
 */
export function parseJsonChecked(text: string, field: string): unknown {
  const v = scanJsonText(text);
  if (v) throw limitError(v, field, [field]);
  return JSON.parse(text);
}

/** For protocols that drop bad input instead of answering (the /cable frames): the value, or null when it is not JSON or past the limits. */
export function parseJsonOrNull(text: string): unknown {
  if (scanJsonText(text)) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
